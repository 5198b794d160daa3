package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// testBadInput sends what a careless or hostile client might straight to a
// web instance, the tier a client reaches. Each gets its clear error, the
// server stays up, and the database holds exactly what it should: the ledger
// marks every refused write, and the test that owns it counts them at the
// end. Slow clients hold connections meanwhile.
func testBadInput(t *testing.T, tp *topology, l *ledger) {
	addr := tp.webs[0].addr
	web := "http://" + addr
	slow := holdSlowConnections(t, addr, 20)

	t.Run("an oversized body gets 413", func(t *testing.T) {
		v := newVisitor(web, false)
		big := strings.Repeat("가", 30_000) // 90,000 bytes, 270,000 URL-encoded
		m := l.next()
		r, err := v.postForm("/visitor/visitor_create/", entryForm("큰", "big@example.com", m+big))
		wantStatus(t, "a 270 KB form", r, err, http.StatusRequestEntityTooLarge)
		l.refused(m)

		m = l.next()
		chunked := io.MultiReader(strings.NewReader(entryForm("큰", "big@example.com", m).Encode()),
			strings.NewReader(strings.Repeat("a", 100_000)))
		r, err = v.do("POST", "/visitor/visitor_create/", chunked, http.Header{
			"Content-Type": {"application/x-www-form-urlencoded"}, "Origin": {web}})
		wantStatus(t, "a 100 KB chunked form with no Content-Length", r, err, http.StatusRequestEntityTooLarge)
		l.refused(m)

		m = l.next()
		r, err = v.do("POST", "/visitor/api/entries",
			strings.NewReader(fmt.Sprintf(`{"name":"큰","email":"big@example.com","content":"%s%s"}`, m, big)),
			http.Header{"Content-Type": {"application/json"}})
		wantStatus(t, "a 90 KB JSON entry", r, err, http.StatusRequestEntityTooLarge)
		l.refused(m)
	})

	t.Run("invalid UTF-8 in any field gets 422 and a message beside the field", func(t *testing.T) {
		v := newVisitor(web, false)
		for _, field := range []string{"name", "email", "day", "content"} {
			m := l.next()
			form := entryForm("이름", "a@example.com", m)
			form.Set(field, form.Get(field)+"\xff\xfe")
			r, err := v.postForm("/visitor/visitor_create/", form)
			wantStatus(t, "invalid UTF-8 in "+field, r, err, http.StatusUnprocessableEntity)
			if !strings.Contains(r.body, `id="`+field+`-error"`) {
				t.Errorf("invalid UTF-8 in %s: no message beside the field", field)
			}
			l.refused(m)
		}
		m := l.next()
		r, err := v.do("POST", "/visitor/api/entries",
			strings.NewReader(`{"name":"\xff\xfe","email":"a@example.com","content":"`+m+`"}`),
			http.Header{"Content-Type": {"application/json"}})
		if err != nil || (r.status != http.StatusBadRequest && r.status != http.StatusUnprocessableEntity) {
			t.Errorf("invalid UTF-8 in JSON: %d %v, want 400 or 422; body:\n%s", r.status, err, excerpt(r.body))
		}
		l.refused(m)
	})

	t.Run("a filled honeypot or more links than allowed gets 422 and stores nothing", func(t *testing.T) {
		v := newVisitor(web, false)
		m := l.next()
		form := entryForm("봇", "bot@example.com", m+" 싸게 팝니다")
		form.Set("website", "http://spam.example")
		r, err := v.postForm("/visitor/visitor_create/", form)
		wantStatus(t, "a form with its honeypot filled", r, err, http.StatusUnprocessableEntity)
		if !strings.Contains(r.body, m+" 싸게 팝니다") {
			t.Errorf("the refused form lost what was typed")
		}
		l.refused(m)

		m = l.next()
		spam := m + " http://a.example https://b.example www.c.example" // app.max_links is 2 by default
		r, err = v.postForm("/visitor/visitor_create/", entryForm("링크", "l@example.com", spam))
		wantStatus(t, "a form with three links", r, err, http.StatusUnprocessableEntity)
		if !strings.Contains(r.body, `id="content-error"`) {
			t.Errorf("three links: no message beside the content")
		}
		l.refused(m)

		m = l.next()
		b, _ := json.Marshal(map[string]string{"name": "링크", "email": "l@example.com", "content": m + " http://a.example https://b.example www.c.example"})
		r, err = v.do("POST", "/visitor/api/entries", strings.NewReader(string(b)), http.Header{"Content-Type": {"application/json"}})
		wantStatus(t, "a JSON entry with three links", r, err, http.StatusUnprocessableEntity)
		if !strings.Contains(r.body, `"error":"At most 2 links are allowed (this has 3)."`) {
			t.Errorf("three links in JSON: %s", r.body)
		}
		l.refused(m)
	})

	t.Run("a cross-origin post gets 403", func(t *testing.T) {
		v := newVisitor(web, false)
		for _, h := range []http.Header{
			{"Origin": {"http://evil.example"}},
			{"Sec-Fetch-Site": {"cross-site"}},
			{"Origin": {"http://evil.example"}, "X-Forwarded-Host": {"evil.example"}},
		} {
			m := l.next()
			h.Set("Content-Type", "application/x-www-form-urlencoded")
			r, err := v.do("POST", "/visitor/visitor_create/", strings.NewReader(v.signed(t, entryForm("악당", "evil@example.com", m)).Encode()), h)
			wantStatus(t, fmt.Sprintf("a form posted with %v", h), r, err, http.StatusForbidden)
			l.refused(m)

			m = l.next()
			h.Set("Content-Type", "application/json")
			r, err = v.do("POST", "/visitor/api/entries", strings.NewReader(`{"name":"악당","email":"evil@example.com","content":"`+m+`"}`), h)
			wantStatus(t, fmt.Sprintf("a JSON entry posted with %v", h), r, err, http.StatusForbidden)
			l.refused(m)
		}
	})

	t.Run("deleting without the writer's cookie or token gets 403", func(t *testing.T) {
		writer := newVisitor(web, false)
		marker, r, err := writer.write(l, "지우지 마세요")
		wantStatus(t, "the entry to keep", r, err, http.StatusSeeOther)
		id := entryWith(t, writer.mustGet(t, "/visitor/visitor_list/", http.StatusOK).body, marker)
		path := fmt.Sprintf("/visitor/visitor_delete/%d", id)

		stranger := newVisitor(web, false)
		r, err = stranger.postForm(path, nil)
		wantStatus(t, "a delete with no cookie", r, err, http.StatusForbidden)
		u, _ := url.Parse(web + "/visitor/")
		stranger.hc.Jar.SetCookies(u, []*http.Cookie{{Name: "gb_author", Value: "forged-secret"}})
		r, err = stranger.postForm(path, nil)
		wantStatus(t, "a delete with a forged cookie", r, err, http.StatusForbidden)
		r, err = stranger.postForm(path, url.Values{"admin_token": {"guess"}})
		wantStatus(t, "a delete with a guessed admin token", r, err, http.StatusForbidden)
		r, err = stranger.do("DELETE", fmt.Sprintf("/visitor/api/entries/%d", id), nil, http.Header{"Authorization": {"Bearer forged-token"}})
		wantStatus(t, "an API delete with a forged token", r, err, http.StatusForbidden)
		// The writer reads from the primary for a while after writing
		// (read-your-writes), so its answer does not wait on replication.
		writer.mustGet(t, fmt.Sprintf("/visitor/visitor_detail/%d", id), http.StatusOK)
	})

	t.Run("SQL and script in every field are stored as written and shown as text", func(t *testing.T) {
		testPayloads(t, tp, web, l)
	})

	t.Run("header tricks are not believed", func(t *testing.T) {
		testHeaderTricks(t, web, l)
	})

	t.Run("path tricks get 400 or 404 and show no file", func(t *testing.T) {
		testPathTricks(t, addr)
	})

	t.Run("slow clients holding connections neither stop the others nor keep their connections", func(t *testing.T) {
		v := newVisitor(web, true)
		for _, path := range []string{"/", "/visitor/", "/visitor/visitor_list/"} {
			v.mustGet(t, path, http.StatusOK)
		}
		slow.waitClosed(t, 20*time.Second)
	})
}

// wantStatus fails the test unless the request got status want.
func wantStatus(t *testing.T, what string, r response, err error, want int) {
	t.Helper()
	if err != nil {
		t.Errorf("%s: %v, want %d", what, err, want)
	} else if r.status != want {
		t.Errorf("%s: %d, want %d; body:\n%s", what, r.status, want, excerpt(r.body))
	}
}

// raw sends request, written by hand, over a connection of its own and
// reads one response.
func raw(t *testing.T, addr, request string) (*http.Response, string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("read the response to %q: %v", excerpt(request), err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// rawAnswers writes request on one connection and reads up to max answers,
// waiting a second for each after the first: the statuses of those that came.
func rawAnswers(t *testing.T, addr, request string, max int) []int {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	var statuses []int
	for len(statuses) < max {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			break // closed, or nothing more within the deadline
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		statuses = append(statuses, resp.StatusCode)
		c.SetDeadline(time.Now().Add(time.Second))
	}
	return statuses
}

// slowClients are connections that send a request's headers a byte at a
// time, as a slowloris attack does.
type slowClients struct {
	closed chan struct{} // gets one value per connection the server closed
	n      int
}

func holdSlowConnections(t *testing.T, addr string, n int) *slowClients {
	t.Helper()
	s := &slowClients{closed: make(chan struct{}, n), n: n}
	for range n {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		go func() {
			io.WriteString(c, "GET / HTTP/1.1\r\nHost: "+addr+"\r\n")
			for {
				time.Sleep(300 * time.Millisecond)
				if _, err := io.WriteString(c, "X"); err != nil {
					break
				}
			}
			c.SetReadDeadline(time.Now().Add(time.Minute))
			io.Copy(io.Discard, c) // until the server closes
			s.closed <- struct{}{}
		}()
	}
	return s
}

// waitClosed waits until the server has closed every slow connection.
func (s *slowClients) waitClosed(t *testing.T, timeout time.Duration) {
	t.Helper()
	deadline := time.After(timeout)
	for i := range s.n {
		select {
		case <-s.closed:
		case <-deadline:
			t.Fatalf("the server still holds %d of %d slow connections after %s", s.n-i, s.n, timeout)
		}
	}
}
