package metrics

import "github.com/prometheus/client_golang/prometheus"

// CacheCounts are what the cache collector reads of the web tier's
// micro-cache: counts since start, and what it holds now.
type CacheCounts struct {
	Hits, Misses, Stale, Bypass, Collapsed, Evictions uint64
	Entries                                           int
	Bytes, MaxBytes                                   int64
}

type cacheCollector struct {
	read                                         func() CacheCounts
	requests, collapsed, evictions, bytes, limit *prometheus.Desc
	entries                                      *prometheus.Desc
}

// NewCacheCollector publishes the web tier's cache:
// guestbook_cache_requests_total{outcome} (hit, miss, stale: served stale
// while it was refreshed or in place of a failure, bypass: a personal
// request), guestbook_cache_collapsed_total (misses that waited for
// another's refill instead of going upstream), guestbook_cache_evictions_total,
// guestbook_cache_bytes (keys and headers counted), guestbook_cache_max_bytes
// and guestbook_cache_entries.
func NewCacheCollector(read func() CacheCounts) prometheus.Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, prometheus.Labels{"tier": "web"})
	}
	return &cacheCollector{read: read,
		requests:  d("guestbook_cache_requests_total", "GET and HEAD requests to the web tier's cache, by outcome: hit, miss, stale, bypass.", "outcome"),
		collapsed: d("guestbook_cache_collapsed_total", "Cache misses that waited for another request's refill of their page instead of going upstream."),
		evictions: d("guestbook_cache_evictions_total", "Cached pages dropped, least recently used first, to make room."),
		bytes:     d("guestbook_cache_bytes", "Memory the cached pages hold, keys and headers counted."),
		limit:     d("guestbook_cache_max_bytes", "web.cache_size: the most the cache may hold."),
		entries:   d("guestbook_cache_entries", "Pages in the cache."),
	}
}

func (c *cacheCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.requests, c.collapsed, c.evictions, c.bytes, c.limit, c.entries} {
		ch <- d
	}
}

func (c *cacheCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.read()
	for outcome, n := range map[string]uint64{"hit": s.Hits, "miss": s.Misses, "stale": s.Stale, "bypass": s.Bypass} {
		ch <- prometheus.MustNewConstMetric(c.requests, prometheus.CounterValue, float64(n), outcome)
	}
	ch <- prometheus.MustNewConstMetric(c.collapsed, prometheus.CounterValue, float64(s.Collapsed))
	ch <- prometheus.MustNewConstMetric(c.evictions, prometheus.CounterValue, float64(s.Evictions))
	ch <- prometheus.MustNewConstMetric(c.bytes, prometheus.GaugeValue, float64(s.Bytes))
	ch <- prometheus.MustNewConstMetric(c.limit, prometheus.GaugeValue, float64(s.MaxBytes))
	ch <- prometheus.MustNewConstMetric(c.entries, prometheus.GaugeValue, float64(s.Entries))
}
