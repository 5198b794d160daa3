package web

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/guestbook/guestbook/tier/hops"
)

// What the cache tells of itself: its counts, for /metrics, and for the
// topology page what it holds and the share of the requests it answered
// itself (hits and stale serves, of every GET and HEAD it saw) over the
// last minute, from marks of the counts taken every ratioStep by the
// requests themselves, so that the page costs no work between its views.

const (
	ratioStep  = 10 * time.Second
	ratioMarks = 6 // a minute
)

// ratioWindow remembers the counts at the last ratioMarks marks.
type ratioWindow struct {
	due   atomic.Int64 // unix nanoseconds of the next mark
	mu    sync.Mutex
	marks [ratioMarks]ratioMark // a ring: next is the oldest once full
	next  int
	full  bool
}

type ratioMark struct{ served, asked uint64 }

// served and asked are the requests answered from the cache, and all.
func (c *cacheCounts) served() uint64 { return c.hits.Load() + c.stale.Load() }
func (c *cacheCounts) asked() uint64 {
	return c.served() + c.misses.Load() + c.bypass.Load()
}

// tick takes a mark when one is due: one atomic load otherwise.
func (w *ratioWindow) tick(now time.Time, c *cacheCounts) {
	due := w.due.Load()
	if now.UnixNano() < due || !w.due.CompareAndSwap(due, now.Add(ratioStep).UnixNano()) {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.marks[w.next] = ratioMark{served: c.served(), asked: c.asked()}
	w.next = (w.next + 1) % ratioMarks
	w.full = w.full || w.next == 0
}

// ratio is the share served from the cache since the oldest mark (since
// start before the first): 0 with nothing asked.
func (w *ratioWindow) ratio(c *cacheCounts) float64 {
	served, asked := c.served(), c.asked()
	w.mu.Lock()
	if w.full || w.next > 0 {
		oldest := 0
		if w.full {
			oldest = w.next
		}
		m := w.marks[oldest]
		served, asked = served-m.served, asked-m.asked
	}
	w.mu.Unlock()
	if asked == 0 {
		return 0
	}
	return math.Round(float64(served)/float64(asked)*100) / 100
}

// view is the cache as the topology page shows it.
func (c *microCache) view() hops.CacheView {
	entries, bytes, _ := c.store.stats()
	return hops.CacheView{Entries: int64(entries), Bytes: bytes, MaxBytes: c.store.max, HitRatio: c.window.ratio(&c.counts)}
}

// servesStale says the cache holds a page it may serve now in place of a
// failure of every upstream: one still within web.cache_stale_if_error,
// so that an instance cut off from the app tier leaves the rotation once
// what it kept is too old to stand in.
func (c *microCache) servesStale() bool {
	if c.opts.StaleIfError <= 0 {
		return false
	}
	now := c.opts.Now()
	return c.store.any(func(e *cacheEntry) bool { return c.usableOnError(e, now) })
}

// CacheStats are the cache's counts since start and what it holds now.
type CacheStats struct {
	Hits, Misses, Stale, Bypass, Collapsed, Evictions uint64
	Entries                                           int
	Bytes, MaxBytes                                   int64
}

// CacheStats reads the cache's counts; false while web.cache is off.
func (s *Server) CacheStats() (CacheStats, bool) {
	c := s.cache
	if c == nil {
		return CacheStats{}, false
	}
	entries, bytes, evictions := c.store.stats()
	return CacheStats{Hits: c.counts.hits.Load(), Misses: c.counts.misses.Load(), Stale: c.counts.stale.Load(),
		Bypass: c.counts.bypass.Load(), Collapsed: c.counts.collapsed.Load(), Evictions: evictions,
		Entries: entries, Bytes: bytes, MaxBytes: c.store.max}, true
}
