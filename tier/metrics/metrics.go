// Package metrics publishes what operators watch, in Prometheus's format:
// requests by route, latency, upstream health, store routing, entries, and
// the Go and process collectors. The names are a contract that dashboards
// and deploy/prometheus's alert rules rely on.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is one process's registry and the instruments the tiers feed.
type Metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge

	upstreamRequests *prometheus.CounterVec
	retries          prometheus.Counter
	badGateway       prometheus.Counter

	entries    *prometheus.CounterVec
	validation prometheus.Counter
	shed       *prometheus.CounterVec
	// rateLimited is apart from shed: a client over its own rate is that
	// client's excess, not the tier's want of capacity, and must not fire
	// the alert that says to scale the tier out.
	rateLimited *prometheus.CounterVec
	// refused counts writes refused with nothing stored, by reason.
	refused *prometheus.CounterVec
	// admin counts the admin's actions (the app tier's AdminSignIn, ...).
	admin *prometheus.CounterVec
}

// The reasons of guestbook_writes_refused_total. Another refusal of a write
// (a spam rule, say) adds its own here.
const (
	// RefusedWriteLimit: the client had created app.write_limit entries
	// within app.write_window.
	RefusedWriteLimit = "write_limit"
)

// New makes a registry with the Go and process collectors and build info.
func New(version, commit string) *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry()}
	f := func(c prometheus.Collector) { m.reg.MustRegister(c) }
	f(collectors.NewGoCollector())
	f(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "guestbook_build_info", Help: "The running build: always 1.",
		ConstLabels: prometheus.Labels{"version": version, "commit": commit},
	})
	build.Set(1)
	f(build)

	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "guestbook_http_requests_total", Help: "HTTP requests answered, by route pattern, method and status code.",
	}, []string{"route", "method", "code"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "guestbook_http_request_duration_seconds", Help: "Time to answer an HTTP request, by route pattern and method.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route", "method"})
	m.inFlight = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "guestbook_http_requests_in_flight", Help: "HTTP requests being answered now.",
	})
	m.upstreamRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "guestbook_upstream_requests_total", Help: "Attempts to reach an app tier upstream, by outcome (success or failure).",
	}, []string{"upstream", "outcome"})
	m.retries = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "guestbook_upstream_retries_total", Help: "Requests sent again to another upstream after one could not be delivered.",
	})
	m.badGateway = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "guestbook_upstream_unavailable_total", Help: "Requests answered 502 because no upstream could take them.",
	})
	m.entries = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "guestbook_entries_total", Help: "Guestbook entries written, by action (created or deleted).",
	}, []string{"action"})
	m.validation = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "guestbook_validation_failures_total", Help: "Entries refused because a field broke a rule.",
	})
	m.shed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "guestbook_shed_total", Help: "Requests refused with 503 before any of their work, by tier (web or app) and reason (concurrency: over the tier's limit).",
	}, []string{"tier", "reason"})
	m.rateLimited = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "guestbook_rate_limited_total", Help: "Requests refused with 429 because their client was over its rate limit, by tier.",
	}, []string{"tier"})
	m.refused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "guestbook_writes_refused_total", Help: "Writes refused with nothing stored, by reason (write_limit: the client's app.write_limit was reached; honeypot: the form's trap field was filled; links: more links than app.max_links; too_soon, token_expired, token_missing, token_forged: the create form's form_token).",
	}, []string{"reason"})
	m.refused.WithLabelValues(RefusedWriteLimit) // shown at 0 before the first, so a rate has a start
	m.admin = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "guestbook_admin_actions_total", Help: "What the admin did at /visitor/admin/, by action (sign_in, sign_in_refused, sign_in_limited, sign_out, delete, delete_source, approve).",
	}, []string{"action"})
	for _, c := range []prometheus.Collector{m.requests, m.duration, m.inFlight, m.upstreamRequests,
		m.retries, m.badGateway, m.entries, m.validation, m.shed, m.rateLimited, m.refused, m.admin} {
		f(c)
	}
	return m
}

// Handler serves the registry at /metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Register adds a collector (the upstream pool's or the store's).
func (m *Metrics) Register(c prometheus.Collector) { m.reg.MustRegister(c) }

// Started counts a request in flight until Finished.
func (m *Metrics) Started() { m.inFlight.Inc() }

// Finished counts and times a request by its route pattern (such as
// "GET /visitor/visitor_detail/{id}", never the raw path, so that ids can't
// explode the label set), its method and its status.
func (m *Metrics) Finished(route, method string, status int, took time.Duration) {
	m.inFlight.Dec()
	method = normalMethod(method)
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(took.Seconds())
}

// normalMethod keeps the method label bounded: a client can send any word.
func normalMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete,
		http.MethodPatch, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// UpstreamResult counts one attempt at upstream (web role).
func (m *Metrics) UpstreamResult(upstream string, ok bool) {
	outcome := "success"
	if !ok {
		outcome = "failure"
	}
	m.upstreamRequests.WithLabelValues(upstream, outcome).Inc()
}

// Shed counts a request that tier refused over its concurrency limit.
func (m *Metrics) Shed(tier string) { m.shed.WithLabelValues(tier, "concurrency").Inc() }

// RateLimited counts a request that tier refused over its client's rate
// limit.
func (m *Metrics) RateLimited(tier string) { m.rateLimited.WithLabelValues(tier).Inc() }

// Retried counts a request sent again to another upstream.
func (m *Metrics) Retried() { m.retries.Inc() }

// Unavailable counts a 502 for want of an upstream.
func (m *Metrics) Unavailable() { m.badGateway.Inc() }

// EntryCreated, EntryDeleted and ValidationFailed count the app tier's work.
func (m *Metrics) EntryCreated()     { m.entries.WithLabelValues("created").Inc() }
func (m *Metrics) EntryDeleted()     { m.entries.WithLabelValues("deleted").Inc() }
func (m *Metrics) ValidationFailed() { m.validation.Inc() }

// WriteRefused counts a write the app tier turned away for reason (a form
// token, the honeypot, too many links, the write limit), storing nothing: one counter for every defence
// against abuse, so that one rate shows them all.
func (m *Metrics) WriteRefused(reason string) { m.refused.WithLabelValues(reason).Inc() }

// AdminAction counts one of the admin's actions (sign_in, delete, ...), or
// a sign-in refused.
func (m *Metrics) AdminAction(action string) { m.admin.WithLabelValues(action).Inc() }
