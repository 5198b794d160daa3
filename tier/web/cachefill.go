package web

import (
	"bytes"
	"context"
	"net/http"
	"sync"
	"time"
)

// captured is an answer as the app tier (or the proxy's error adapter)
// gave it, held whole so that it can be stored and given to every request
// that waited for it. A body past its limit is read on and dropped: the
// answer is then too large to keep or share.
type captured struct {
	status   int
	header   http.Header
	body     bytes.Buffer
	limit    int
	tooLarge bool
}

func newCaptured(limit int64) *captured {
	return &captured{header: http.Header{}, limit: int(limit)}
}

func (c *captured) Header() http.Header { return c.header }

func (c *captured) WriteHeader(code int) {
	if c.status == 0 && code >= 200 { // 1xx informational answers are not the answer
		c.status = code
	}
}

// Write keeps p, or counts the answer too large; it never fails, so the
// proxy reads the upstream's answer to its end either way.
func (c *captured) Write(p []byte) (int, error) {
	c.WriteHeader(http.StatusOK)
	if c.tooLarge || c.body.Len()+len(p) > c.limit {
		c.tooLarge = true
		return len(p), nil
	}
	return c.body.Write(p)
}

// Flush is there for the proxy, which flushes streamed answers: a captured
// answer goes out whole.
func (c *captured) Flush() {}

// shareable says the answer may go to the requests that waited for it
// although it was not stored: a failure of the app tier (the web tier's
// 502 or 504 page, a 500), the same for every reader of the key, which set
// no cookie. A 503 is not shared: it says the tier was busy, and each
// waiter asks the concurrency limit for itself (a refusal there costs
// nothing, and is counted as the refusal it is). Anything else that was not
// stored was an answer to its own request alone.
func (c *captured) shareable() bool {
	return !c.tooLarge && staleOnError(c.status) && c.status != http.StatusServiceUnavailable &&
		len(c.header["Set-Cookie"]) == 0
}

// tee is the writer of a fill that a client waits on: what comes is
// captured and, when pass says so once the header is known, sent on to the
// client as it comes (a streamed answer stays streamed). The client going
// away does not stop the fill: what it no longer reads is still kept.
type tee struct {
	*captured
	client  http.ResponseWriter
	pass    func(status int, h http.Header) bool
	passing bool
}

func (t *tee) WriteHeader(code int) {
	if t.status != 0 || code < 200 {
		return
	}
	t.captured.WriteHeader(code)
	if t.passing = t.pass(code, t.header); t.passing {
		h := t.client.Header()
		for name, values := range t.header {
			h[name] = values
		}
		t.client.WriteHeader(code)
	}
}

func (t *tee) Write(p []byte) (int, error) {
	t.WriteHeader(http.StatusOK)
	t.captured.Write(p)
	if t.passing {
		t.client.Write(p) // a client that went away misses the rest; the fill goes on
	}
	return len(p), nil
}

func (t *tee) Flush() {
	if t.passing {
		http.NewResponseController(t.client).Flush()
	}
}

// write sends the captured answer to w as it came.
func (c *captured) write(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	for name, values := range c.header {
		h[name] = values
	}
	w.WriteHeader(c.status)
	if r.Method != http.MethodHead {
		w.Write(c.body.Bytes())
	}
}

// fill is one request upstream for a key, which every miss for the key
// that arrives meanwhile waits for (Nginx's proxy_cache_lock). Its fields
// are set before done is closed.
type fill struct {
	done   chan struct{}
	answer *captured
	entry  *cacheEntry // nil: not stored
}

// fills are the fills in flight, one at most per key.
type fills struct {
	mu sync.Mutex
	m  map[cacheKey]*fill
}

// join is the fill in flight for key, or a new one that the caller must
// run and finish; started says which.
func (g *fills) join(key cacheKey) (f *fill, started bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if f := g.m[key]; f != nil {
		return f, false
	}
	if g.m == nil {
		g.m = map[cacheKey]*fill{}
	}
	f = &fill{done: make(chan struct{})}
	g.m[key] = f
	return f, true
}

// finish publishes what f brought and wakes its waiters.
func (g *fills) finish(key cacheKey, f *fill, a *captured, e *cacheEntry) {
	f.answer, f.entry = a, e
	g.mu.Lock()
	delete(g.m, key)
	g.mu.Unlock()
	close(f.done)
}

// wait waits for f, at most bound, or until r's client goes away; false
// when f is not done.
func (f *fill) wait(r *http.Request, bound time.Duration) bool {
	t := time.NewTimer(bound)
	defer t.Stop()
	select {
	case <-f.done:
		return true
	case <-t.C:
	case <-r.Context().Done():
	}
	return false
}

// fetchTimeout bounds one fill: the proxy bounds each attempt's wait for
// an answer to begin (web.try_timeout), this the whole, body included.
const fetchTimeout = 30 * time.Second

// detached is r for a fill: the same request, with its context's values
// (the request id, the proxy's marks) but not its cancellation, bounded by
// fetchTimeout.
//
// A fill is for everyone, so it asks for the whole page whatever r asked:
// a GET (a HEAD's answer has no body, and kept it would be an empty page
// for every reader), without r's conditions or range (a 304 or a part is
// no page to keep). The client's own If-None-Match is answered from the
// entry (serve).
func detached(r *http.Request) (*http.Request, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), fetchTimeout)
	out := r.Clone(ctx)
	out.Method = http.MethodGet
	for _, h := range []string{"If-None-Match", "If-Modified-Since", "If-Match", "If-Unmodified-Since", "If-Range", "Range"} {
		out.Header.Del(h)
	}
	return out, cancel
}
