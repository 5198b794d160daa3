package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/guestbook/guestbook/store"
)

// fixedStats is a store whose routing is what the test says.
type fixedStats store.Stats

func (f fixedStats) Stats() store.Stats { return store.Stats(f) }

func TestTheStoreCollectorPublishesRoutingLagHealthAndTheWriter(t *testing.T) {
	m := New("v1", "abc")
	m.Register(NewStoreCollector(fixedStats{Writer: "db1:3306", Backends: []store.BackendStats{
		{Name: "db1:3306", Role: "primary", Writer: true, Healthy: true, Reads: 3, Writes: 7},
		{Name: "db3:3306", Role: "primary"},
		{Name: "db2:3306", Role: "replica", Healthy: false, Lag: 2500 * time.Millisecond, Reads: 40,
			Latency: 150 * time.Millisecond, InFlight: 2},
		// db3 is also a replica: a candidate that a failover may promote.
		{Name: "db3:3306", Role: "replica", Healthy: true, Reads: 5},
	}}))
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("/metrics answered %d: %s", rec.Code, rec.Body)
	}
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`guestbook_store_queries_total{backend="db1:3306",kind="write"} 7`,
		`guestbook_store_queries_total{backend="db2:3306",kind="read"} 40`,
		`guestbook_replica_lag_seconds{replica="db2:3306"} 2.5`,
		`guestbook_replica_healthy{replica="db2:3306"} 0`,
		`guestbook_store_writer{candidate="db1:3306"} 1`,
		`guestbook_store_writer{candidate="db3:3306"} 0`,
		`guestbook_store_queries_total{backend="db3:3306",kind="read"} 5`,
		`guestbook_replica_healthy{replica="db3:3306"} 1`,
		`guestbook_store_latency_seconds{backend="db2:3306"} 0.15`,
		`guestbook_store_queries_in_flight{backend="db2:3306"} 2`,
		`guestbook_build_info{commit="abc",version="v1"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestAnUnknownMethodIsOneLabel(t *testing.T) {
	for _, m := range []string{"BREW", "get", "PROPFIND"} {
		if got := normalMethod(m); got != "OTHER" {
			t.Errorf("normalMethod(%q) = %q", m, got)
		}
	}
}
