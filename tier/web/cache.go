package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/guestbook/guestbook/tier/page"
)

// CacheOptions configure the web tier's micro-cache (web.cache and its
// keys). Nginx's micro-cache is the model: proxy_cache for what the app
// tier allows, proxy_cache_lock, proxy_cache_use_stale updating error.
type CacheOptions struct {
	// Size bounds the memory of what is kept, keys and headers counted
	// (web.cache_size).
	Size int64
	// StaleWhileRevalidate is how long past its age an entry is still
	// served while one background request refreshes it; StaleIfError how
	// long past its age it may stand in for a failure of every upstream.
	StaleWhileRevalidate, StaleIfError time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

// microCache serves /visitor/ GETs from what it keeps, by RFC 9111's rules
// for a shared cache (cacherules.go), and sends one request upstream per
// key at a time. Every answer it gives says how in Cache-Status (RFC 9211)
// and Age.
type microCache struct {
	store      *cacheStore
	fills      fills
	next       http.Handler // the admission limit and the app tier
	opts       CacheOptions
	lockWait   time.Duration                                   // how long a miss waits for another's fill
	id         string                                          // the Cache-Status cache name: this instance
	instanceID string                                          // as the footer names it
	fail       func(http.ResponseWriter, *http.Request, error) // the web tier's error adapter
	counts     cacheCounts
	window     ratioWindow // the hit ratio over the last minute
}

// cacheCounts are what /metrics and the topology page show.
type cacheCounts struct {
	hits, misses, stale, bypass, collapsed atomic.Uint64
}

func newMicroCache(opts CacheOptions, next http.Handler, instanceID string, lockWait time.Duration,
	fail func(http.ResponseWriter, *http.Request, error)) *microCache {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &microCache{store: newCacheStore(opts.Size), next: next, opts: opts, lockWait: lockWait,
		id: cacheStatusName(instanceID), instanceID: instanceID, fail: fail}
}

// cacheStatusName is the instance id as an RFC 8941 token when it is one
// (web-1), else as a string.
func cacheStatusName(id string) string {
	if id != "" && (id[0] >= 'a' && id[0] <= 'z' || id[0] >= 'A' && id[0] <= 'Z') {
		return id // hops sanitizes ids to letters, digits and ". _ - : /": token characters
	}
	return strconv.Quote(id)
}

// keyOf is r's key, and false when r's query has a parameter the page
// does not name (hops.HeaderCacheKey), or one twice: such a request is
// not one the cache keeps or answers. The app tier ignores what it does
// not read, so keying the query as sent would let ?x=<random> miss every
// time, reach the database at the full rate and push the pages visitors
// read out of the cache. A path the cache holds nothing of yet is keyed
// by its whole query: its answer says which parameters it reads, and is
// kept only when the request had no other (fetch). ?lang= sets a cookie,
// so it goes to the app tier too.
func (c *microCache) keyOf(r *http.Request) (cacheKey, bool) {
	if r.URL.RawQuery == "" { // most pages: nothing to parse on the hit path
		return cacheKey{path: r.URL.Path, lang: page.Lang(r)}, true
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return cacheKey{}, false
	}
	params, known := c.store.keyedBy(r.URL.Path)
	for name, values := range q {
		if len(values) != 1 || known && !slices.Contains(params, name) {
			return cacheKey{}, false
		}
	}
	return cacheKey{path: r.URL.Path, query: q.Encode(), lang: page.Lang(r)}, true
}

// keyedBy says every parameter of key's query is one of params: an answer
// that names them is one to keep under key.
func keyedBy(key cacheKey, params []string) bool {
	if key.query == "" {
		return true
	}
	q, err := url.ParseQuery(key.query)
	if err != nil {
		return false
	}
	for name := range q {
		if !slices.Contains(params, name) {
			return false
		}
	}
	return true
}

// ServeHTTP answers r from the cache, or through it.
func (c *microCache) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := c.opts.Now()
	c.window.tick(now, &c.counts)
	switch {
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		c.forwardWrite(w, r)
		return
	case page.Personal(r):
		// Its answer may be for it alone, and a kept page may lack what it
		// should show it (its delete links, its own new entry, the admin's
		// view): neither served from the cache nor stored.
		c.counts.bypass.Add(1)
		c.forward(w, r, "fwd=bypass")
		return
	}
	key, ok := c.keyOf(r)
	if !ok {
		c.counts.bypass.Add(1)
		c.forward(w, r, "fwd=bypass; detail=query")
		return
	}
	e := c.store.get(key)
	if e != nil {
		left := e.left(now)
		switch {
		case left > 0:
			c.counts.hits.Add(1)
			c.serveHit(w, r, e, now)
			return
		case e.stale && -left <= c.opts.StaleWhileRevalidate:
			c.refresh(key, r)
			c.counts.stale.Add(1)
			c.serve(w, r, e, now, "fwd=stale; ttl="+seconds(left)+"; detail=revalidating")
			return
		}
	}
	if r.Method == http.MethodHead {
		c.counts.misses.Add(1)
		c.forward(w, r, "fwd=miss") // not kept: a HEAD has no body to keep
		return
	}
	c.miss(w, r, key, e)
}

// refresh starts a background fill of key, unless one is in flight.
func (c *microCache) refresh(key cacheKey, r *http.Request) {
	f, started := c.fills.join(key)
	if !started {
		return
	}
	out, cancel := detached(r) // before r's handler returns
	go func() {
		defer cancel()
		a := newCaptured(c.store.maxEntry)
		e, _ := c.fetch(key, out, a, a)
		c.fills.finish(key, f, a, e)
	}()
}

// miss goes upstream for key, or, when another request already does,
// waits for it (fillOrJoin). It counts r once: as a stale serve when old
// stood in for a failure of every upstream, else as a miss.
func (c *microCache) miss(w http.ResponseWriter, r *http.Request, key cacheKey, old *cacheEntry) {
	if c.fillOrJoin(w, r, key, old) {
		c.counts.stale.Add(1)
		return
	}
	c.counts.misses.Add(1)
}

// fillOrJoin goes upstream for key, or, when another request already
// does, waits for its answer (at most lockWait) and answers with what it
// brought: the entry it stored; a stale entry in its place when every
// upstream failed; a failure it may share. A request that waited too long,
// or whose fill brought an answer for another request alone, goes upstream
// itself. It reports whether old was served stale.
func (c *microCache) fillOrJoin(w http.ResponseWriter, r *http.Request, key cacheKey, old *cacheEntry) (servedStale bool) {
	f, started := c.fills.join(key)
	if started {
		return c.lead(w, r, key, f, old)
	}
	c.counts.collapsed.Add(1)
	if !f.wait(r, c.lockWait) {
		if r.Context().Err() != nil {
			w.WriteHeader(statusClientClosed)
			return false
		}
		c.forward(w, r, "fwd=miss; detail=lock-timeout")
		return false
	}
	now := c.opts.Now()
	a := f.answer
	fwd := "fwd=miss; fwd-status=" + strconv.Itoa(a.status)
	switch {
	case f.entry != nil:
		c.serve(w, r, f.entry, now, fwd+"; stored; collapsed")
	case staleOnError(a.status) && c.usableOnError(old, now):
		c.serveStale(w, r, old, now, a.status)
		return true
	case a.shareable():
		c.mark(w.Header(), fwd+"; collapsed")
		a.write(w, r)
	default:
		c.forward(w, r, "fwd=miss")
	}
	return false
}

// lead is the fill of key that r's miss started: r goes upstream, detached
// from its client, and the answer is passed on to it as it comes while it
// is captured for the store and the waiters. A failure that old may stand
// in for is held back, and old served instead: it reports whether it was.
func (c *microCache) lead(w http.ResponseWriter, r *http.Request, key cacheKey, f *fill, old *cacheEntry) (servedStale bool) {
	out, cancel := detached(r)
	defer cancel()
	t := &tee{captured: newCaptured(c.store.maxEntry), client: w}
	t.pass = func(status int, h http.Header) bool {
		if staleOnError(status) && c.usableOnError(old, c.opts.Now()) {
			return false
		}
		fwd := "fwd=miss; fwd-status=" + strconv.Itoa(status)
		if c.storable(key, status, h) {
			fwd += "; stored"
		}
		c.mark(w.Header(), fwd)
		return true
	}
	e, aborted := c.fetch(key, out, t, t.captured)
	c.fills.finish(key, f, t.captured, e)
	switch {
	case t.passing && aborted:
		// The answer broke off: so does the client's, counted first.
		c.counts.misses.Add(1)
		panic(http.ErrAbortHandler)
	case t.passing:
	case c.usableOnError(old, c.opts.Now()):
		c.serveStale(w, r, old, c.opts.Now(), t.status)
		return true
	default:
		c.mark(w.Header(), "fwd=miss; fwd-status="+strconv.Itoa(t.status))
		t.captured.write(w, r)
	}
	return false
}

// serveStale answers r with old in place of a failure of every upstream.
func (c *microCache) serveStale(w http.ResponseWriter, r *http.Request, old *cacheEntry, now time.Time, failed int) {
	c.serve(w, r, old, now, "fwd=stale; fwd-status="+strconv.Itoa(failed)+"; ttl="+seconds(old.left(now))+"; detail=stale-if-error")
}

// usableOnError says e may stand in for a failure of every upstream now.
func (c *microCache) usableOnError(e *cacheEntry, now time.Time) bool {
	return e != nil && e.stale && -e.left(now) <= c.opts.StaleIfError
}

// storable says an answer for key with this status and header is one to
// keep, as far as its header says: its size is known once it has come.
func (c *microCache) storable(key cacheKey, status int, h http.Header) bool {
	_, ok := lifetime(status, h)
	n, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64)
	return ok && err == nil && bodyCost(h, n) < c.store.maxEntry && keyedBy(key, keyParams(h))
}

// fetch is one fill: out sent upstream through w, which captures into a,
// and the answer stored when RFC 9111 and the key allow. A panic in the
// proxy (it aborts that way an answer that broke off mid-body) is a 502
// when nothing was written yet, else aborted.
func (c *microCache) fetch(key cacheKey, out *http.Request, w http.ResponseWriter, a *captured) (e *cacheEntry, aborted bool) {
	defer func() {
		if v := recover(); v != nil {
			e = nil
			if a.status != 0 {
				aborted, a.tooLarge = true, true // what it holds is not the whole answer
				return
			}
			c.fail(w, out, fmt.Errorf("%w: %v", errUpstream, v))
		}
	}()
	c.next.ServeHTTP(w, out)
	if a.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	ttl, ok := lifetime(a.status, a.header)
	params := keyParams(a.header)
	if ok {
		c.store.learn(key.path, params) // the app's newest word on its parameters wins
	}
	if !ok || a.tooLarge || !sameLanguage(a.header, key.lang) || !wholeBody(a) || !keyedBy(key, params) {
		if !staleOnError(a.status) {
			// The origin answered, and not with what was kept (a 404 for a
			// deleted entry, a page now private): the old entry must not
			// be served again, stale or not. A failure keeps it, to stand
			// in for the failure.
			c.store.remove(key)
		}
		return nil, false
	}
	e = newCacheEntry(key, a, c.opts.Now(), ttl, params)
	if !c.store.put(e) {
		return nil, false
	}
	return e, false
}

// wholeBody says a's body is as long as its Content-Length says, when it
// says: a shorter one is no page to keep.
func wholeBody(a *captured) bool {
	cl := a.header.Get("Content-Length")
	if cl == "" {
		return true
	}
	n, err := strconv.Atoi(cl)
	return err == nil && n == a.body.Len()
}

// sameLanguage says an answer that names its language names key's: the
// cache never keeps a page under a language it was not rendered in.
func sameLanguage(h http.Header, lang string) bool {
	l := h.Get("Content-Language")
	return l == "" || l == lang
}

// forward sends r upstream past the cache, saying so.
func (c *microCache) forward(w http.ResponseWriter, r *http.Request, status string) {
	c.mark(w.Header(), status)
	c.next.ServeHTTP(w, r)
}

// mark is the Age and Cache-Status of an answer that comes from upstream
// now.
func (c *microCache) mark(h http.Header, status string) {
	h["Age"] = ageZero
	h["Cache-Status"] = []string{c.id + "; " + status}
}

var ageZero = []string{"0"}[:1:1]

// forwardWrite sends a write upstream, never from the cache, and once it
// succeeded drops what this instance keeps of its target and of where it
// redirects (RFC 9111 4.4), so that the next reader here gets the list
// with the new entry, or without the deleted one.
func (c *microCache) forwardWrite(w http.ResponseWriter, r *http.Request) {
	sw := &statusWriter{ResponseWriter: w}
	c.forward(sw, r, "fwd=method")
	if sw.status >= 400 {
		return
	}
	c.invalidate(r.URL.Path)
	if loc, err := url.Parse(w.Header().Get("Location")); err == nil && loc.Path != "" {
		c.invalidate(loc.Path)
	}
}

// invalidate drops path's entries without a query, in both languages.
func (c *microCache) invalidate(path string) {
	for _, lang := range []string{page.Ko, page.En} {
		c.store.remove(cacheKey{path: path, lang: lang})
	}
}

// seconds is d in seconds with one decimal, as Cache-Status' ttl shows it.
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 1, 64)
}

// statusWriter remembers the status written through it.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
