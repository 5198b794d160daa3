package e2e

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/guestbook/guestbook/internal/httpcheck"
	"github.com/guestbook/guestbook/store/storetest"
)

// payload is an entry made of SQL and markup that would do harm if either
// were ever run instead of stored and shown as text.
type payload struct{ name, email, day, content string }

func newPayload(marker string) payload {
	return payload{
		name:    `x'); DROP TABLE entries;--`,
		email:   `o'neil--@example.com`,
		day:     `1' OR '1'='1`,
		content: marker + ` <script>alert("xss")</script><img src=x onerror=alert(1)> '; DELETE FROM entries; -- " OR ""="`,
	}
}

func testPayloads(t *testing.T, tp *topology, web string, l *ledger) {
	v := newVisitor(web, false)
	m := l.next()
	p := newPayload(m)
	r, err := v.postForm("/visitor/visitor_create/", url.Values{"name": {p.name}, "email": {p.email}, "day": {p.day}, "content": {p.content}})
	wantStatus(t, "the form with SQL and script", r, err, http.StatusSeeOther)
	l.record(m, err == nil && r.status == http.StatusSeeOther)
	if got := storedEntry(t, tp.primary, m); got != p {
		t.Errorf("the database holds %+v, want the fields as written: %+v", got, p)
	}

	id := entryWith(t, v.mustGet(t, "/visitor/visitor_list/", http.StatusOK).body, m)
	for _, path := range []string{"/visitor/visitor_list/", fmt.Sprintf("/visitor/visitor_detail/%d", id)} {
		body := v.mustGet(t, path, http.StatusOK).body
		for _, markup := range []string{`<script>alert("xss")`, `<img src=x`} {
			if strings.Contains(body, markup) {
				t.Errorf("%s has the entry's %s as markup", path, markup)
			}
		}
		for _, text := range []string{`&lt;script&gt;alert(&#34;xss&#34;)&lt;/script&gt;`, `x&#39;); DROP TABLE entries;--`} {
			if !strings.Contains(body, text) {
				t.Errorf("%s does not show %s as text", path, text)
			}
		}
	}

	m = l.next()
	p = newPayload(m)
	b, _ := json.Marshal(map[string]string{"name": p.name, "email": p.email, "day": p.day, "content": p.content})
	r, err = v.do("POST", "/visitor/api/entries", strings.NewReader(string(b)), http.Header{"Content-Type": {"application/json"}})
	wantStatus(t, "the JSON entry with SQL and script", r, err, http.StatusCreated)
	l.record(m, err == nil && r.status == http.StatusCreated)
	var created struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal([]byte(r.body), &created); err != nil || created.ID == 0 {
		t.Fatalf("the API's 201 has no entry id: %v\n%s", err, excerpt(r.body))
	}
	path := fmt.Sprintf("/visitor/api/entries/%d", created.ID)
	var got map[string]any
	if err := json.Unmarshal([]byte(v.mustGet(t, path, http.StatusOK).body), &got); err != nil {
		t.Fatal(err)
	}
	if _, shown := got["email"]; shown || got["name"] != p.name || got["day"] != p.day || got["content"] != p.content {
		t.Errorf("the API gives back %v, want the fields as written but the email, which is the admin's alone: %+v", got, p)
	}
	// The admin sees the email too, as written.
	r, err = v.do("GET", path, nil, http.Header{"Authorization": {"Bearer " + adminToken}})
	if err != nil || r.status != http.StatusOK {
		t.Fatalf("GET %s as the admin: %d %v", path, r.status, err)
	}
	if err := json.Unmarshal([]byte(r.body), &got); err != nil || got["email"] != p.email {
		t.Errorf("the API gives the admin %v (%v), want the email as written: %q", got, err, p.email)
	}
}

// storedEntry reads the entry whose content starts with marker on s.
func storedEntry(t *testing.T, s *storetest.Server, marker string) payload {
	t.Helper()
	db, err := sql.Open("mysql", s.RootDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var p payload
	err = db.QueryRow("SELECT name, email, day, content FROM "+dbName+".entries WHERE content LIKE ?", marker+"%").
		Scan(&p.name, &p.email, &p.day, &p.content)
	if err != nil {
		t.Fatalf("read entry %s on %s: %v", marker, s.Addr(), err)
	}
	return p
}

func testHeaderTricks(t *testing.T, web string, l *ledger) {
	addr := strings.TrimPrefix(web, "http://")
	v := newVisitor(web, false)

	// Forwarded headers from a client that is no trusted proxy are not
	// believed: a post that claims to have come over HTTPS gets no Secure
	// cookie, and the client does not choose its request id.
	m := l.next()
	r, err := v.do("POST", "/visitor/visitor_create/", strings.NewReader(v.signed(t, entryForm("위장", "fake@example.com", m)).Encode()), http.Header{
		"Content-Type":      {"application/x-www-form-urlencoded"},
		"Origin":            {web},
		"X-Forwarded-Proto": {"https"},
		"X-Forwarded-For":   {"10.0.0.1"},
		"X-Real-Ip":         {"10.0.0.1"},
		"X-Request-Id":      {"chosen-by-the-client"},
	})
	wantStatus(t, "a post with forged forwarded headers", r, err, http.StatusSeeOther)
	l.record(m, err == nil && r.status == http.StatusSeeOther)
	author := ""
	for _, c := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "gb_author=") {
			author = c
		}
	}
	if author == "" || strings.Contains(author, "Secure") {
		t.Errorf("the author cookie after a forged X-Forwarded-Proto: %q, want one without Secure", author)
	}
	if id := r.header.Get("X-Request-Id"); id == "" || id == "chosen-by-the-client" {
		t.Errorf("X-Request-Id is %q, want one of the server's own", id)
	}

	// A line break in the query does not become a header.
	r, err = v.get("/?lang=%0d%0aSet-Cookie:%20evil=1")
	wantStatus(t, "a query with CRLF", r, err, http.StatusOK)
	for _, c := range r.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "evil") {
			t.Errorf("a query's CRLF set a cookie: %q", c)
		}
	}

	// Framing tricks: conflicting lengths, a request hidden in a body,
	// headers too large, a malformed header.
	m = l.next()
	hidden := entryForm("밀수", "smuggle@example.com", m).Encode()
	smuggled := "POST /visitor/visitor_create/ HTTP/1.1\r\nHost: " + addr + "\r\n" +
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: " + fmt.Sprint(len(hidden)) + "\r\n\r\n" + hidden
	for _, c := range []struct {
		what, request string
		want          int
	}{
		{"two different Content-Lengths",
			"POST /visitor/visitor_create/ HTTP/1.1\r\nHost: " + addr + "\r\nContent-Length: 5\r\nContent-Length: 50\r\n\r\nname=", http.StatusBadRequest},
		{"70 KB of headers",
			"GET / HTTP/1.1\r\nHost: " + addr + "\r\nCookie: " + strings.Repeat("a", 70<<10) + "\r\n\r\n", http.StatusRequestHeaderFieldsTooLarge},
		{"a header name with a space",
			"GET / HTTP/1.1\r\nHost: " + addr + "\r\nBad Header: x\r\n\r\n", http.StatusBadRequest},
		{"no Host",
			"GET / HTTP/1.1\r\n\r\n", http.StatusBadRequest},
	} {
		if resp, body := raw(t, addr, c.request); resp.StatusCode != c.want {
			t.Errorf("%s: %d, want %d; body:\n%s", c.what, resp.StatusCode, c.want, excerpt(body))
		}
	}
	// Content-Length and chunked together, on a connection left open: a
	// server that took the chunked end for the end of the body would read
	// the rest as a second request on the same connection, store it and
	// answer it. Refused, it answers once, 400, and stores nothing.
	answers := rawAnswers(t, addr, "POST /visitor/api/entries HTTP/1.1\r\nHost: "+addr+"\r\n"+
		"Content-Type: application/json\r\nContent-Length: "+fmt.Sprint(5+len(smuggled))+
		"\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"+smuggled, 2)
	if len(answers) != 1 || answers[0] != http.StatusBadRequest {
		t.Errorf("Content-Length and chunked together, hiding a request: answers %v, want one 400", answers)
	}
	l.refused(m)
}

// testPathTricks asks for files outside the site and for entries by ids
// that are no ids, each with the path exactly as written.
func testPathTricks(t *testing.T, addr string) {
	for _, c := range []struct {
		target string
		want   int
	}{
		// A path that is not its own clean form is refused, never
		// redirected to the cleaned one, whether written out or encoded.
		{"/static/../go.mod", http.StatusBadRequest},
		{"/go.mod", http.StatusNotFound},
		{"/static/..%2f..%2fgo.mod", http.StatusBadRequest},
		{"/static/%2e%2e/%2e%2e/etc/passwd", http.StatusBadRequest},
		{"/static/....//....//etc/passwd", http.StatusBadRequest},
		{"/static/%252e%252e/go.mod", http.StatusNotFound}, // "%2e%2e" is a name, and no file's
		{"/visitor/..%2f..%2fetc%2fpasswd", http.StatusBadRequest},
		{"//etc/passwd", http.StatusBadRequest},
		{"/visitor/visitor_detail/abc", http.StatusBadRequest},
		{"/visitor/visitor_detail/0", http.StatusBadRequest},
		{"/visitor/visitor_detail/-1", http.StatusBadRequest},
		{"/visitor/visitor_detail/1%20OR%201=1", http.StatusBadRequest},
		{"/visitor/visitor_detail/99999999999999999999", http.StatusBadRequest},
		{"/visitor/visitor_detail/999999999", http.StatusNotFound},
		{"/visitor/visitor_detail/1%2f..%2f..%2fvisitor_list", http.StatusBadRequest},
		{"/visitor/visitor_list/?before=1%20OR%201=1", http.StatusBadRequest},
		{"/visitor/api/entries?limit=1%3BDROP%20TABLE%20entries", http.StatusBadRequest},
		{"/etc/passwd", http.StatusNotFound},
		{"/visitor/api/entries?limit=1000000", http.StatusBadRequest},
		{"/visitor/no_such_page/", http.StatusNotFound},
	} {
		status, _, body := httpcheck.RawGet(t, addr, c.target)
		if status != c.want {
			t.Errorf("GET %s: %d, want %d", c.target, status, c.want)
		}
		if strings.Contains(string(body), "module github.com") || strings.Contains(string(body), "root:x:0:0") {
			t.Errorf("GET %s shows a file from outside the site", c.target)
		}
	}
}
