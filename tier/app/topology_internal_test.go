package app

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/guestbook/guestbook/store"
)

func TestTheTopologyShowsAServerListedAsCandidateAndReplicaOnceByItsName(t *testing.T) {
	// docs/deploy.md's database: db-1 the writer, db-2 both a candidate
	// (for a failover) and the replica serving reads.
	st := store.Stats{Writer: "10.0.3.10:3306", Backends: []store.BackendStats{
		{Name: "10.0.3.10:3306", Label: "db-1", Role: store.RolePrimary, Writer: true, Healthy: true},
		{Name: "10.0.3.11:3306", Label: "db-2", Role: store.RolePrimary},
		{Name: "10.0.3.11:3306", Label: "db-2", Role: store.RoleReplica, Healthy: true, Lag: 42 * time.Millisecond,
			Latency: 1234 * time.Microsecond, InFlight: 2},
	}}
	d := databaseOf(st)
	if len(d.Servers) != 2 || d.Servers[0].Name != "db-1" || d.Servers[1].Name != "db-2" || d.Servers[1].Role != store.RoleReplica {
		t.Errorf("servers %+v, want db-1 the primary and db-2 the replica, once each", d.Servers)
	}
	if d.Writer == nil || *d.Writer != "db-1" || len(d.ReadsFrom) != 1 || d.ReadsFrom[0] != "db-2" || d.Servers[1].LagSeconds != 0.042 {
		t.Errorf("writer %v, reads from %v, lag %v: want db-1, db-2, 0.042", d.Writer, d.ReadsFrom, d.Servers[1].LagSeconds)
	}
	if s := d.Servers[1]; s.LatencyMs != 1.2 || s.InFlight != 2 {
		t.Errorf("replica latency %v ms, %d in flight: want the store's 1.2 ms and 2", s.LatencyMs, s.InFlight)
	}
	b, _ := json.Marshal(d)
	if strings.Contains(string(b), "10.0.3.") {
		t.Errorf("the topology names a host: %s", b)
	}

	// After a failover db-2 is the writer and db-1 is gone: both show, as
	// what they are now, and reads go to the writer.
	st.Backends[0].Writer, st.Backends[0].Healthy = false, false
	st.Backends[1].Writer, st.Backends[1].Healthy = true, true
	st.Backends[2].Healthy = false
	d = databaseOf(st)
	if len(d.Servers) != 3 || d.Writer == nil || *d.Writer != "db-2" || len(d.ReadsFrom) != 1 || d.ReadsFrom[0] != "db-2" {
		t.Errorf("after the failover: servers %+v, writer %v, reads from %v", d.Servers, d.Writer, d.ReadsFrom)
	}
}
