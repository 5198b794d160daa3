package web

import (
	"bytes"
	"container/list"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/guestbook/guestbook/tier/hops"
	"github.com/guestbook/guestbook/tier/page"
)

// cacheKey names a cached answer: the path, the query, and the language
// the reader asks for (page.Lang), which the page was rendered in, so that
// a Korean page is never served to a reader who asked for English.
type cacheKey struct{ path, query, lang string }

// cacheEntry is one answer kept. Nothing in it changes once stored: its
// header's values are shared by every answer served from it.
type cacheEntry struct {
	key    cacheKey
	status int
	header http.Header
	body   []byte
	etag   string
	stored time.Time     // when the answer arrived (RFC 9111's response_time)
	age0   time.Duration // its Age then, from a cache upstream
	ttl    time.Duration // its freshness lifetime
	stale  bool          // may be served stale (no must-revalidate)
	size   int64         // what it costs in memory, key and headers counted
	// marker is where the footer's page.CacheMarker is in body, or -1;
	// madeBy is the path that made the page (app instance → database).
	marker int
	madeBy string
	// keyedBy are the query parameters its answer said it depends on
	// (hops.HeaderCacheKey), sorted: what its path's keys hold.
	keyedBy []string
	// shown is how hits serve it now (cacheserve.go).
	shown atomic.Pointer[rendition]
}

// entryOverhead is what an entry costs besides its bytes: the struct, its
// list element, its map slot, the slice headers, and a share of its path's
// pathKeys (each entry counts a whole one).
const entryOverhead = 400

// noteOverhead bounds what a rendition's footer note and header values add
// to a copy of the page.
const noteOverhead = 512

func newCacheEntry(key cacheKey, c *captured, now time.Time, ttl time.Duration, keyedBy []string) *cacheEntry {
	e := &cacheEntry{key: key, status: c.status, header: c.header, body: bytes.Clone(c.body.Bytes()),
		etag: strings.TrimPrefix(c.header.Get("Etag"), "W/"), stored: now, age0: ageHeader(c.header), ttl: ttl,
		stale: allowsStale(c.header), marker: -1, keyedBy: keyedBy}
	if strings.HasPrefix(c.header.Get("Content-Type"), "text/html") {
		e.marker = bytes.LastIndex(e.body, cacheMarker)
		e.madeBy = madeBy(c.header)
	}
	e.size = entryOverhead + int64(len(key.path)+len(key.query)+len(key.lang)) + bodyCost(e.header, int64(len(e.body)))
	for name, values := range e.header {
		e.size += int64(len(name)) + 24
		for _, v := range values {
			e.size += int64(len(v)) + 16
		}
		e.header[name] = values[:len(values):len(values)] // an append elsewhere copies
	}
	return e
}

var cacheMarker = []byte(page.CacheMarker)

// bodyCost is what a body of n bytes under header h costs the cache: a
// page's twice over, since its hits are written from a copy with the
// footer note in place (cacheserve.go). The one rule for what is kept
// (newCacheEntry) and for what a miss says it stored (microCache.storable).
func bodyCost(h http.Header, n int64) int64 {
	if strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		return 2*n + noteOverhead
	}
	return n
}

// madeBy is the path an answer's headers say made it: the app instance and
// the database server that answered, by their ids.
func madeBy(h http.Header) string {
	app, _, _ := strings.Cut(h.Get(hops.HeaderApp), ";")
	db, _, _ := strings.Cut(h.Get(hops.HeaderDB), ";")
	if db == "" {
		return app
	}
	return app + " → " + db
}

// age is the entry's current age (RFC 9111 4.2.3, with no request delay:
// the upstreams are next door).
func (e *cacheEntry) age(now time.Time) time.Duration { return e.age0 + now.Sub(e.stored) }

// left is how long the entry stays fresh: negative once stale.
func (e *cacheEntry) left(now time.Time) time.Duration { return e.ttl - e.age(now) }

// keyParams are the query parameters h names in hops.HeaderCacheKey,
// sorted; nil for none.
func keyParams(h http.Header) []string {
	var params []string
	for _, line := range h[hops.HeaderCacheKey] {
		for name := range strings.SplitSeq(line, ",") {
			if name = strings.TrimSpace(name); name != "" && !slices.Contains(params, name) {
				params = append(params, name)
			}
		}
	}
	slices.Sort(params)
	return params
}

// cacheStore keeps entries within max bytes, the one used least recently
// leaving first, and for each path with entries the query parameters its
// answers are keyed by. One mutex: each operation is a map lookup and a
// list move.
type cacheStore struct {
	mu        sync.Mutex
	max, used int64
	maxEntry  int64
	order     list.List // of *cacheEntry, front: used most recently
	byKey     map[cacheKey]*list.Element
	paths     map[string]*pathKeys
	evictions uint64
}

// pathKeys are the query parameters a path's answers are keyed by, as the
// newest answer stored or refused for a key the list lacks said, and how
// many entries the path has: it is dropped with the last, so what the
// store keeps per path is bounded by its entries, whose size counts it.
type pathKeys struct {
	params  []string
	entries int
}

func newCacheStore(max int64) *cacheStore {
	s := &cacheStore{max: max, maxEntry: max / 8, byKey: map[cacheKey]*list.Element{}, paths: map[string]*pathKeys{}}
	s.order.Init()
	return s
}

// keyedBy is the query parameters path's answers are keyed by; false when
// the store has no entry of path, whose parameters it has yet to learn.
func (s *cacheStore) keyedBy(path string) ([]string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.paths[path]
	if p == nil {
		return nil, false
	}
	return p.params, true
}

// learn makes params the parameters path is keyed by, when the store has
// entries of it: the app tier's newest answer says what its pages read now
// (an upgrade may have changed it), and entries kept under keys the new
// list does not make are no longer looked up and leave in their turn.
func (s *cacheStore) learn(path string, params []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.paths[path]; p != nil {
		p.params = params
	}
}

// get is the entry for key, marked used, or nil.
func (s *cacheStore) get(key cacheKey) *cacheEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	el := s.byKey[key]
	if el == nil {
		return nil
	}
	s.order.MoveToFront(el)
	return el.Value.(*cacheEntry)
}

// put keeps e in place of any entry of its key, making room by dropping
// those used least recently; false when e alone is over an eighth of the
// cache (it would push out many pages for one).
func (s *cacheStore) put(e *cacheEntry) bool {
	if e.size > s.maxEntry {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if el := s.byKey[e.key]; el != nil {
		s.drop(el)
	}
	for s.used+e.size > s.max {
		s.drop(s.order.Back())
		s.evictions++
	}
	s.byKey[e.key] = s.order.PushFront(e)
	s.used += e.size
	p := s.paths[e.key.path]
	if p == nil {
		p = &pathKeys{}
		s.paths[e.key.path] = p
	}
	p.params = e.keyedBy
	p.entries++
	return true
}

// any says f holds for one of the entries kept.
func (s *cacheStore) any(f func(*cacheEntry) bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for el := s.order.Front(); el != nil; el = el.Next() {
		if f(el.Value.(*cacheEntry)) {
			return true
		}
	}
	return false
}

// remove drops the entry of key, if any.
func (s *cacheStore) remove(key cacheKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if el := s.byKey[key]; el != nil {
		s.drop(el)
	}
}

func (s *cacheStore) drop(el *list.Element) {
	e := s.order.Remove(el).(*cacheEntry)
	delete(s.byKey, e.key)
	s.used -= e.size
	if p := s.paths[e.key.path]; p != nil {
		if p.entries--; p.entries == 0 {
			delete(s.paths, e.key.path)
		}
	}
}

// stats are the entries, their bytes and the evictions so far.
func (s *cacheStore) stats() (entries int, bytes int64, evictions uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byKey), s.used, s.evictions
}
