package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/guestbook/guestbook/store"
)

// StoreStats is what the store collector reads: the store's routing now.
type StoreStats interface {
	Stats() store.Stats
}

// storeCollector turns store.Stats into metrics when Prometheus scrapes.
type storeCollector struct {
	store                               StoreStats
	queries, lag, healthy, writer, open *prometheus.Desc
	inUse, idle, waits, waited          *prometheus.Desc
	latency, inFlight                   *prometheus.Desc
}

// NewStoreCollector publishes the store's routing: queries per backend and
// kind, each replica's lag and health, which candidate is the writer, each
// server's latency estimate and queries in flight (what the reads are
// balanced by), and each pool's connections.
func NewStoreCollector(s StoreStats) prometheus.Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, labels, nil)
	}
	return &storeCollector{
		store:    s,
		queries:  d("guestbook_store_queries_total", "Queries routed to a database server, by kind (read or write).", "backend", "kind"),
		lag:      d("guestbook_replica_lag_seconds", "A replica's replication lag at its last check, from the heartbeat row.", "replica"),
		healthy:  d("guestbook_replica_healthy", "1 while a replica is in the read rotation.", "replica"),
		writer:   d("guestbook_store_writer", "1 for the primary candidate that is the writer now.", "candidate"),
		open:     d("guestbook_store_connections_open", "Connections open to a database server.", "backend"),
		inUse:    d("guestbook_store_connections_in_use", "Connections to a database server in use now.", "backend"),
		idle:     d("guestbook_store_connections_idle", "Idle connections to a database server.", "backend"),
		waits:    d("guestbook_store_connection_waits_total", "Times a query waited for a free connection.", "backend"),
		waited:   d("guestbook_store_connection_wait_seconds_total", "Time queries spent waiting for a free connection.", "backend"),
		latency:  d("guestbook_store_latency_seconds", "A database server's latency estimate (peak-sensitive, decaying), by which reads are balanced.", "backend"),
		inFlight: d("guestbook_store_queries_in_flight", "Queries running on a database server now.", "backend"),
	}
}

func (c *storeCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.queries, c.lag, c.healthy, c.writer, c.open, c.inUse, c.idle, c.waits, c.waited, c.latency, c.inFlight} {
		ch <- d
	}
}

func (c *storeCollector) Collect(ch chan<- prometheus.Metric) {
	one := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	// A server can be both a primary candidate and a replica (so that a
	// promoted replica is found as the writer): its two pools are summed
	// into one series per name, since a series may appear only once (the
	// latency: the higher of the two estimates).
	type sums struct {
		reads, writes, open, inUse, idle, waits float64
		waited, latency, inFlight               float64
	}
	var order []string
	byName := map[string]*sums{}
	for _, b := range c.store.Stats().Backends {
		s := byName[b.Name]
		if s == nil {
			s = &sums{}
			byName[b.Name] = s
			order = append(order, b.Name)
		}
		s.reads += float64(b.Reads)
		s.writes += float64(b.Writes)
		s.open += float64(b.Pool.OpenConnections)
		s.inUse += float64(b.Pool.InUse)
		s.idle += float64(b.Pool.Idle)
		s.waits += float64(b.Pool.WaitCount)
		s.waited += b.Pool.WaitDuration.Seconds()
		s.latency = max(s.latency, b.Latency.Seconds())
		s.inFlight += float64(b.InFlight)
		if b.Role == "replica" {
			ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, b.Lag.Seconds(), b.Name)
			ch <- prometheus.MustNewConstMetric(c.healthy, prometheus.GaugeValue, one(b.Healthy), b.Name)
		} else {
			ch <- prometheus.MustNewConstMetric(c.writer, prometheus.GaugeValue, one(b.Writer), b.Name)
		}
	}
	for _, name := range order {
		s := byName[name]
		ch <- prometheus.MustNewConstMetric(c.queries, prometheus.CounterValue, s.reads, name, "read")
		ch <- prometheus.MustNewConstMetric(c.queries, prometheus.CounterValue, s.writes, name, "write")
		ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, s.open, name)
		ch <- prometheus.MustNewConstMetric(c.inUse, prometheus.GaugeValue, s.inUse, name)
		ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, s.idle, name)
		ch <- prometheus.MustNewConstMetric(c.waits, prometheus.CounterValue, s.waits, name)
		ch <- prometheus.MustNewConstMetric(c.waited, prometheus.CounterValue, s.waited, name)
		ch <- prometheus.MustNewConstMetric(c.latency, prometheus.GaugeValue, s.latency, name)
		ch <- prometheus.MustNewConstMetric(c.inFlight, prometheus.GaugeValue, s.inFlight, name)
	}
}

// Upstream is what the upstream collector reads of each upstream.
type Upstream interface {
	Name() string
	Available() bool
	Latency() time.Duration
	InFlight() int64
}

type upstreamCollector struct {
	list                       func() []Upstream
	healthy, latency, inFlight *prometheus.Desc
}

// NewUpstreamCollector publishes each upstream's health, the web tier's
// latency estimate of it and its requests in flight:
// guestbook_upstream_healthy, guestbook_upstream_latency_seconds and
// guestbook_upstream_in_flight, by upstream.
func NewUpstreamCollector(list func() []Upstream) prometheus.Collector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, []string{"upstream"}, nil)
	}
	return &upstreamCollector{list: list,
		healthy:  d("guestbook_upstream_healthy", "1 while an app tier upstream is in the web tier's rotation."),
		latency:  d("guestbook_upstream_latency_seconds", "The web tier's latency estimate of an upstream (peak-sensitive, decaying), which the balancing weighs."),
		inFlight: d("guestbook_upstream_in_flight", "Attempts at an upstream waiting for its answer to begin."),
	}
}

func (c *upstreamCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.healthy
	ch <- c.latency
	ch <- c.inFlight
}

func (c *upstreamCollector) Collect(ch chan<- prometheus.Metric) {
	for _, u := range c.list() {
		v := 0.0
		if u.Available() {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.healthy, prometheus.GaugeValue, v, u.Name())
		ch <- prometheus.MustNewConstMetric(c.latency, prometheus.GaugeValue, u.Latency().Seconds(), u.Name())
		ch <- prometheus.MustNewConstMetric(c.inFlight, prometheus.GaugeValue, float64(u.InFlight()), u.Name())
	}
}

// Limiter is what the limit collector reads of a tier's concurrency limit.
type Limiter interface {
	Limit() int
	InFlight() int
}

type limitCollector struct {
	tier            string
	l               Limiter
	limit, inFlight *prometheus.Desc
}

// NewLimitCollector publishes a tier's concurrency limit now and the
// requests it has admitted and not yet answered:
// guestbook_concurrency_limit and guestbook_concurrency_in_flight, by tier.
func NewLimitCollector(tier string, l Limiter) prometheus.Collector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(name, help, nil, prometheus.Labels{"tier": tier})
	}
	return &limitCollector{tier: tier, l: l,
		limit:    d("guestbook_concurrency_limit", "The tier's adaptive limit on requests worked on at once; past it requests are refused with 503."),
		inFlight: d("guestbook_concurrency_in_flight", "Requests the tier has admitted and not yet answered."),
	}
}

func (c *limitCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.limit
	ch <- c.inFlight
}

func (c *limitCollector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(c.limit, prometheus.GaugeValue, float64(c.l.Limit()))
	ch <- prometheus.MustNewConstMetric(c.inFlight, prometheus.GaugeValue, float64(c.l.InFlight()))
}
