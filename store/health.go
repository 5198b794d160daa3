package store

import (
	"context"
	"errors"
	"time"
)

// Run keeps the routing true until ctx ends: every database.health_interval
// the writer writes the heartbeat, is checked to be still writable, and each
// replica's lag is measured; a lost writer is looked for at once, and every
// quarter interval until found.
func (db *DB) Run(ctx context.Context) {
	if db.driver == "sqlite" {
		return
	}
	tick := time.NewTicker(db.cfg.HealthInterval)
	defer tick.Stop()
	retry := time.NewTicker(max(db.cfg.HealthInterval/4, 50*time.Millisecond))
	defer retry.Stop()
	var lostSince time.Time // when the writer was last seen missing; zero while there is one
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			db.checkWriter(ctx)
			db.beat(ctx)
			db.checkReplicas(ctx)
		case <-db.lost:
			db.findWriter(ctx)
		case <-retry.C:
			if db.writer.Load() != nil {
				lostSince = time.Time{}
				continue
			}
			if lostSince.IsZero() {
				lostSince = time.Now()
			}
			if !db.findWriter(ctx) && time.Since(lostSince) > db.cfg.FailoverTimeout {
				db.log.Error("no writable primary within database.failover_timeout; writes are failing",
					"candidates", db.candidateNames(), "for", time.Since(lostSince).Round(time.Second))
				lostSince = time.Now() // say it again after another timeout, not every tick
			}
		}
	}
}

const heartbeatSQL = `REPLACE INTO heartbeat (id, beat) VALUES (1, ?)`

// beat writes the time on the writer. Replicas replicate it, and how old the
// copy a replica holds is, is its lag: a measure that needs no privilege
// beyond the app's own and works on RDS and Aurora alike. The time is this
// process's clock, so lag does not depend on the database servers' clocks.
func (db *DB) beat(ctx context.Context) {
	w := db.writer.Load()
	if db.driver == "sqlite" || w == nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, db.checkTimeout())
	defer cancel()
	_, err := w.db.ExecContext(ctx, heartbeatSQL, time.Now().UTC())
	switch {
	case err == nil || ctx.Err() != nil || isNoSuchTable(err): // not migrated yet
	case connectionLost(err) || readOnly(err):
		db.lostWriter(w, err)
	default:
		db.log.Warn("heartbeat failed", "host", w.name, "err", err)
	}
}

// checkWriter catches a writer that turned read-only without a write
// noticing (a planned failover demotes it quietly).
func (db *DB) checkWriter(ctx context.Context) {
	w := db.writer.Load()
	if w == nil {
		db.findWriter(ctx)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, db.checkTimeout())
	defer cancel()
	var readOnly bool
	err := w.db.GetContext(ctx, &readOnly, "SELECT @@global.read_only")
	switch {
	case err == nil && readOnly:
		db.lostWriter(w, errTurnedReadOnly)
	case err != nil && connectionLost(err):
		db.lostWriter(w, err)
	}
}

const heartbeatReadSQL = `SELECT beat FROM heartbeat WHERE id = 1`

// checkReplicas measures each replica's lag from the heartbeat it holds. One
// that does not answer, or lags more than database.max_replica_lag, leaves
// the rotation until a check finds it healthy again.
func (db *DB) checkReplicas(ctx context.Context) {
	for _, r := range db.replicas {
		checkCtx, cancel := context.WithTimeout(ctx, db.checkTimeout())
		var beat time.Time
		err := r.db.GetContext(checkCtx, &beat, heartbeatReadSQL)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			db.markReplicaDown(r, err)
			continue
		}
		lag := max(time.Since(beat), 0)
		r.lag.Store(int64(lag))
		if lag > db.cfg.MaxReplicaLag {
			db.markReplicaDown(r, errLagging{lag})
			continue
		}
		if r.healthy.CompareAndSwap(false, true) {
			db.log.Info("replica in rotation", "host", r.name, "lag", lag)
		}
	}
}

func (db *DB) markReplicaDown(r *replica, cause error) {
	if r.healthy.CompareAndSwap(true, false) {
		db.log.Warn("replica out of rotation", "host", r.name, "err", cause)
	}
}

type errLagging struct{ lag time.Duration }

func (e errLagging) Error() string {
	return "replication lag " + e.lag.Round(time.Millisecond).String()
}

var errTurnedReadOnly = errors.New("the writer turned read-only")
