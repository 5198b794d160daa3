package store

import (
	"database/sql"
	"time"
)

// Stats is what the store can tell about its routing, for metrics and the
// pages that show the path of a request.
type Stats struct {
	// Writer names the current writer; empty while none is known.
	Writer   string
	Backends []BackendStats
}

// BackendStats describes one database server.
type BackendStats struct {
	Name    string        // host:port (or the SQLite file), never a DSN: for operators (logs, metrics)
	Label   string        // its configured name (database.primary_name, replica_names): what pages show
	Role    string        // RolePrimary (a candidate) or RoleReplica
	Writer  bool          // this is the current writer
	Healthy bool          // a replica in the read rotation; a primary that is the writer
	Lag     time.Duration // a replica's lag at its last check
	Reads   uint64        // reads routed here
	Writes  uint64        // writes routed here
	// Latency is the server's latency estimate now (peak-sensitive and
	// decaying; see internal/balance), which with InFlight chooses among
	// the replicas; balance.Initial before its first query.
	Latency  time.Duration
	InFlight int64 // queries running on it now
	Pool     sql.DBStats
}

// Stats reports the routing as it is now.
func (db *DB) Stats() Stats {
	var s Stats
	now := db.clock()
	w := db.writer.Load()
	if w != nil {
		s.Writer = w.name
	}
	for _, b := range db.candidates {
		s.Backends = append(s.Backends, BackendStats{
			Name: b.name, Label: b.label, Role: RolePrimary, Writer: b == w, Healthy: b == w,
			Reads: b.reads.Load(), Writes: b.writes.Load(), Pool: b.db.Stats(),
			Latency: b.est.Latency(now), InFlight: b.est.InFlight(),
		})
	}
	for _, r := range db.replicas {
		s.Backends = append(s.Backends, BackendStats{
			Name: r.name, Label: r.label, Role: RoleReplica, Healthy: r.healthy.Load(), Lag: time.Duration(r.lag.Load()),
			Reads: r.reads.Load(), Pool: r.db.Stats(),
			Latency: r.est.Latency(now), InFlight: r.est.InFlight(),
		})
	}
	return s
}
