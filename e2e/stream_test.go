package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// outcome is one request of a stream.
type outcome struct {
	start    time.Time
	took     time.Duration
	write    bool
	path     string
	status   int
	err      error
	instance string // the app instance that served /visitor/, if it says
	// app is the app instance that answered, by its Guestbook-App header
	// (every proxied answer has one, whatever its page); "" for what the
	// web tier answered alone.
	app string
	// db is the database server that answered the last query, by its
	// Guestbook-Db header ("" when none ran).
	db         string
	retryAfter string // the answer's Retry-After
	// shed is the answer's Guestbook-Shed: an app instance's refusal for
	// want of capacity, passed on when every app instance refused.
	shed string
	// cached says the web tier answered from its cache (its Cache-Status
	// is a hit or a stale serve): app and db then name what made the page
	// then, not what served this request.
	cached bool
}

// failed reports whether the request did not get the answer it asked for:
// 200 for a read, the 303 acknowledgement for a write.
func (o outcome) failed() bool {
	if o.write {
		return o.err != nil || o.status != http.StatusSeeOther
	}
	return o.err != nil || o.status != http.StatusOK
}

func (o outcome) String() string {
	kind := "GET"
	if o.write {
		kind = "POST"
	}
	if o.err != nil {
		return fmt.Sprintf("%s %s at %s: %v", kind, o.path, o.start.Format("15:04:05.000"), o.err)
	}
	return fmt.Sprintf("%s %s at %s: %d", kind, o.path, o.start.Format("15:04:05.000"), o.status)
}

// streamSpec says what a stream of visitors does.
type streamSpec struct {
	workers    int           // visitors requesting side by side
	writeEvery int           // one request in writeEvery is a write; 0: none
	fresh      bool          // a new connection for every request
	pause      time.Duration // each visitor's pause between requests
	detail     int64         // an entry whose detail page is read too, if not 0
	keyed      bool          // writes carry an idempotency key, as the create form does
	paths      []string      // the pages read, in turn; readPaths if empty
	// uncached gives each read of /visitor/ a query of its own (n=…),
	// which the app tier ignores, so that it misses the web tier's cache
	// and reaches the database: for the tests of where reads go.
	uncached bool
}

// readPaths are the pages a stream reads, in turn: every tier's.
var readPaths = []string{
	"/", "/favicon.ico", "/visitor/", "/visitor/visitor_list/", "/visitor/api/entries?limit=5",
}

// stream is visitors requesting pages through base until stopped.
type stream struct {
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	visitors []*visitor

	mu       sync.Mutex
	outcomes []outcome
}

// startStream starts spec.workers visitors of base. Their writes go to l.
// They keep no cookies, as API clients and crawlers do, so their reads go
// to the replica even right after they wrote.
func startStream(base string, l *ledger, spec streamSpec) *stream {
	ctx, cancel := context.WithCancel(context.Background())
	s := &stream{cancel: cancel}
	paths := readPaths
	if len(spec.paths) > 0 {
		paths = spec.paths
	}
	if spec.detail != 0 {
		paths = append(slices.Clip(paths), fmt.Sprintf("/visitor/visitor_detail/%d", spec.detail))
	}
	for w := range spec.workers {
		v := newVisitor(base, spec.fresh)
		v.hc.Jar = nil
		s.visitors = append(s.visitors, v)
		s.wg.Go(func() {
			reads := w // its own count, so that every path is read whatever the write cadence
			for i := w; ctx.Err() == nil; i++ {
				o := outcome{start: time.Now()}
				if spec.writeEvery > 0 && i%spec.writeEvery == 0 {
					o.write, o.path = true, "/visitor/visitor_create/"
					var r response
					if spec.keyed {
						_, r, o.err = v.writeKeyed(l, "스트림")
					} else {
						_, r, o.err = v.write(l, "스트림")
					}
					o.status, o.app, o.db, o.retryAfter = r.status, hopName(r.header, "Guestbook-App"),
						hopName(r.header, "Guestbook-Db"), r.header.Get("Retry-After")
					o.shed = r.header.Get("Guestbook-Shed")
				} else {
					o.path = paths[reads%len(paths)]
					reads++
					target := o.path
					if spec.uncached && strings.HasPrefix(target, "/visitor/") {
						target = withQuery(target, fmt.Sprintf("n=%d-%d", w, i))
					}
					r, err := v.get(target)
					o.status, o.err, o.instance = r.status, err, instanceOf(r.body)
					o.app, o.db, o.retryAfter = hopName(r.header, "Guestbook-App"), hopName(r.header, "Guestbook-Db"),
						r.header.Get("Retry-After")
					o.shed = r.header.Get("Guestbook-Shed")
					cs := r.header.Get("Cache-Status")
					o.cached = strings.Contains(cs, "; hit") || strings.Contains(cs, "fwd=stale")
				}
				o.took = time.Since(o.start)
				s.mu.Lock()
				s.outcomes = append(s.outcomes, o)
				s.mu.Unlock()
				if spec.pause > 0 {
					time.Sleep(spec.pause)
				}
			}
		})
	}
	return s
}

// withQuery is path with one more query parameter.
func withQuery(path, param string) string {
	if strings.Contains(path, "?") {
		return path + "&" + param
	}
	return path + "?" + param
}

// hopName is the name a path header (Guestbook-App: app-1; zone=…) gives,
// or "" when the answer has none.
func hopName(h http.Header, name string) string {
	v, _, _ := strings.Cut(h.Get(name), ";")
	return strings.TrimSpace(v)
}

// stop ends the stream, lets requests in flight finish and returns every
// outcome.
func (s *stream) stop() []outcome {
	s.cancel()
	s.wg.Wait()
	for _, v := range s.visitors {
		v.hc.CloseIdleConnections()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.outcomes
}

// count is how many requests the stream has made so far.
func (s *stream) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.outcomes)
}

// waitFor lets the stream run until it has made n more requests, failing the
// test if that takes over a minute.
func (s *stream) waitFor(t *testing.T, n int) {
	t.Helper()
	target := s.count() + n
	deadline := time.Now().Add(time.Minute)
	for s.count() < target {
		if time.Now().After(deadline) {
			t.Fatalf("the stream made %d requests in a minute, want %d", s.count(), target)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// summary counts reads and writes and their failures.
type summary struct {
	reads, readFailures, writes, writeFailures int
	failures                                   []outcome
}

func summarize(outcomes []outcome, from time.Time) summary {
	var s summary
	for _, o := range outcomes {
		if o.start.Before(from) {
			continue
		}
		if o.write {
			s.writes++
		} else {
			s.reads++
		}
		if o.failed() {
			s.failures = append(s.failures, o)
			if o.write {
				s.writeFailures++
			} else {
				s.readFailures++
			}
		}
	}
	return s
}

// failedReads are the reads in s that failed.
func (s summary) failedReads() []outcome {
	var out []outcome
	for _, o := range s.failures {
		if !o.write {
			out = append(out, o)
		}
	}
	return out
}

func (s summary) String() string {
	return fmt.Sprintf("%d reads (%d failed), %d writes (%d not acknowledged)",
		s.reads, s.readFailures, s.writes, s.writeFailures)
}

// first lists at most n outcomes, for a failure message.
func first(list []outcome, n int) string {
	out := ""
	for i, o := range list {
		if i == n {
			return out + fmt.Sprintf("\n  … and %d more", len(list)-n)
		}
		out += "\n  " + o.String()
	}
	return out
}
