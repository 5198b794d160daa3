package web_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
)

func TestAPostIsNeverRetriedOnceItsBytesWereSent(t *testing.T) {
	drop, good := newDropper(t), newEcho(t, "good")
	f := newFront(t, nil, drop.URL, good.URL)
	c := client(t)

	// Turns alternate, so one of the first two posts goes to the dropper.
	for i := range 2 {
		body := form(fmt.Sprintf("post-%d", i))
		r := roundTrip(t, c, newRequest(t, "POST", f.URL+"/visitor/visitor_create/", body,
			"Content-Type", "application/x-www-form-urlencoded"))
		if !slices.Contains(drop.requests(), "POST "+body) {
			continue
		}
		if r.StatusCode != http.StatusBadGateway {
			t.Errorf("a post the upstream read and then dropped answered %d, want 502", r.StatusCode)
		}
		for _, s := range good.requests() {
			if s.body == body {
				t.Fatalf("the post the first upstream had read was sent again to the second: it may be applied twice")
			}
		}
		return
	}
	t.Fatal("no post reached the dropping upstream")
}

func TestAGetOrHeadDroppedBeforeAnyAnswerIsRetriedOnAnotherUpstream(t *testing.T) {
	for _, method := range []string{"GET", "HEAD"} {
		t.Run(method, func(t *testing.T) {
			drop, good := newDropper(t), newEcho(t, "good")
			f := newFront(t, nil, drop.URL, good.URL)
			c := client(t)

			// Turns alternate, so one of the first two goes to the dropper.
			for i := range 2 {
				r := roundTrip(t, c, newRequest(t, method, f.URL+fmt.Sprintf("/visitor/visitor_detail/%d", i), ""))
				if r.StatusCode != http.StatusOK {
					t.Fatalf("%s %d: %d %q, want 200 from the good upstream", method, i, r.StatusCode, short(r.body))
				}
			}
			if n := len(drop.requests()); n == 0 {
				t.Fatalf("no %s reached the dropping upstream", method)
			}
			if n := len(good.requests()); n != 2 {
				t.Errorf("the good upstream answered %d of 2, want both", n)
			}
		})
	}
}

func TestAPostWhoseDialFailedIsSentWholeToAnotherUpstream(t *testing.T) {
	good := newEcho(t, "good")
	f := newFront(t, nil, closedURL(t), good.URL)
	c := client(t)

	// Turns alternate, so one of the first two posts is first sent to the
	// stopped upstream.
	for i := range 2 {
		body := form(strings.Repeat(fmt.Sprintf("글%d", i), 4000)) // tens of KiB, more than one write
		r := roundTrip(t, c, newRequest(t, "POST", f.URL+"/visitor/visitor_create/", body,
			"Content-Type", "application/x-www-form-urlencoded"))
		if r.StatusCode != http.StatusOK || r.body != "good" {
			t.Fatalf("post %d: %d %q, want 200 from the good upstream", i, r.StatusCode, short(r.body))
		}
		seen := good.requests()
		got := seen[len(seen)-1]
		if got.body != body || got.contentLength != int64(len(body)) {
			t.Fatalf("post %d reached the upstream with %d bytes (Content-Length %d), want the whole %d",
				i, len(got.body), got.contentLength, len(body))
		}
	}
	if got := f.available(); got[0] {
		t.Fatal("the stopped upstream is still in the rotation: no post was sent to it first, or its refused dial did not take it out")
	}
}

// TestStoppingAnAppServerMidStreamFailsNoGetAndAppliesNoPostTwice sends a
// stream of reads and writes through the web tier to three real app servers
// and stops one of them while requests are in flight, either as SIGTERM does
// (in-flight requests finish) or as a crash does (connections cut). The
// stream goes on with no health round, then after one. Every read sent
// after the stop is answered, and so is every read in flight at a shutdown;
// every write is stored once if it was acknowledged and at most once if
// not, counted across the three databases.
func TestStoppingAnAppServerMidStreamFailsNoGetAndAppliesNoPostTwice(t *testing.T) {
	for _, mode := range []string{"shutdown", "crash"} {
		t.Run(mode, func(t *testing.T) {
			apps := []*appServer{newAppServer(t, "app-1"), newAppServer(t, "app-2"), newAppServer(t, "app-3")}
			f := newFront(t, nil, apps[0].URL, apps[1].URL, apps[2].URL)
			s := newStream(t, f.URL, 4)
			s.token = apps[0].token // the apps share a secret: any one's token does

			s.run(0, 120, func() { // stop app-2 while the last of these are in flight
				if mode == "crash" {
					apps[1].CloseClientConnections()
				}
				apps[1].Close()
			})
			s.run(120, 180, nil) // no health round yet: the stopped server is found by trying it
			f.checkAll(t)
			s.run(180, 240, nil)

			if got := f.available(); got[1] {
				t.Error("the stopped app server is still in the rotation after a health round")
			}
			for _, fail := range s.getFailures {
				if fail.i >= 120 || mode == "shutdown" {
					t.Errorf("GET failed: %s", fail.msg)
				} else {
					t.Logf("GET in flight when the server crashed failed: %s", fail.msg)
				}
			}

			stored := map[string]int{}
			for _, a := range apps {
				for text, n := range a.contents(t) {
					stored[text] += n
				}
			}
			nacked := 0
			for text, ok := range s.acked {
				switch {
				case ok && stored[text] != 1:
					t.Errorf("acknowledged post %s is stored %d times, want once", text, stored[text])
				case !ok && stored[text] > 1:
					t.Errorf("unacknowledged post %s is stored %d times, want at most once", text, stored[text])
				}
				if ok {
					nacked++
				}
				delete(stored, text)
			}
			if len(stored) > 0 {
				t.Errorf("stored entries that were never posted: %v", stored)
			}
			if len(s.acked) != 40 || nacked < 40-s.workers {
				t.Errorf("%d of %d posts acknowledged, want all but at most the %d in flight when the server stopped",
					nacked, len(s.acked), s.workers)
			}
		})
	}
}

// stream sends numbered requests through the web tier from several
// workers at once and notes how each ended.
type stream struct {
	c       *http.Client
	base    string
	token   string // the create form's form_token
	workers int

	mu          sync.Mutex
	acked       map[string]bool // each POST's content: was it answered 303 or 201?
	getFailures []getFailure
}

type getFailure struct {
	i   int
	msg string
}

func newStream(t *testing.T, base string, workers int) *stream {
	t.Helper()
	return &stream{c: client(t), base: base, workers: workers, acked: map[string]bool{}}
}

// run sends requests from up to to and waits for them. When midway is not
// nil, it is called after the last one was handed to a worker, while the
// workers are still busy.
func (s *stream) run(from, to int, midway func()) {
	requests := make(chan int)
	var wg sync.WaitGroup
	for range s.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range requests {
				status, err := sendStream(s.c, s.base, s.token, i)
				s.mu.Lock()
				switch {
				case i%6 == 5:
					s.acked[content(i)] = err == nil && (status == http.StatusSeeOther || status == http.StatusCreated)
				case err != nil || status != http.StatusOK:
					s.getFailures = append(s.getFailures, getFailure{i, fmt.Sprintf("request %d: status %d, %v", i, status, err)})
				}
				s.mu.Unlock()
			}
		}()
	}
	for i := from; i < to; i++ {
		requests <- i
	}
	if midway != nil {
		midway()
	}
	close(requests)
	wg.Wait()
}

// sendStream is request i of the stream: a POST (form or JSON) every sixth, a
// GET of the list page or the API otherwise.
func sendStream(c *http.Client, base, token string, i int) (int, error) {
	var req *http.Request
	switch {
	case i%12 == 5:
		req, _ = http.NewRequest("POST", base+"/visitor/visitor_create/", strings.NewReader(form(content(i))+"&form_token="+token))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	case i%12 == 11:
		req, _ = http.NewRequest("POST", base+"/visitor/api/entries",
			strings.NewReader(fmt.Sprintf(`{"name":"api","email":"a@example.com","content":%q}`, content(i))))
		req.Header.Set("Content-Type", "application/json")
	case i%2 == 0:
		req, _ = http.NewRequest("GET", base+"/visitor/visitor_list/", nil)
	default:
		req, _ = http.NewRequest("GET", base+"/visitor/api/entries", nil)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

func content(i int) string { return fmt.Sprintf("entry-%03d", i) }
