package store

import (
	"context"
	"errors"
	"sync"
	"time"
)

// Run keeps the routing true until ctx ends. Two loops run side by side, so
// that slow replica checks never delay finding a lost writer:
//   - the writer loop: every database.health_interval the writer writes the
//     heartbeat and is checked to be still writable; a lost writer is looked
//     for at once and every quarter interval until found;
//   - the replica loop: every interval each replica's lag is measured.
func (db *DB) Run(ctx context.Context) {
	if !db.dialect.Replicated {
		return // one file: no heartbeat, no replicas, no failover
	}
	var wg sync.WaitGroup
	wg.Go(func() { db.loop(ctx, "writer", db.writerLoop) })
	wg.Go(func() { db.loop(ctx, "replicas", db.replicaLoop) })
	wg.Wait()
}

// loop runs body until ctx ends, restarting it after a panic: the routing
// must outlive a bug in one check.
func (db *DB) loop(ctx context.Context, name string, body func(context.Context)) {
	for ctx.Err() == nil {
		func() {
			defer func() {
				if v := recover(); v != nil {
					db.log.Error("store health loop panicked; restarting it", "loop", name, "panic", v)
					time.Sleep(db.cfg.HealthInterval)
				}
			}()
			body(ctx)
		}()
	}
}

func (db *DB) writerLoop(ctx context.Context) {
	tick := time.NewTicker(db.cfg.HealthInterval)
	defer tick.Stop()
	retry := time.NewTicker(max(db.cfg.HealthInterval/4, 50*time.Millisecond))
	defer retry.Stop()
	var lostSince time.Time // when the writer was first seen missing; zero while there is one
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			db.checkWriter(ctx)
			db.beat(ctx)
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

func (db *DB) replicaLoop(ctx context.Context) {
	tick := time.NewTicker(db.cfg.HealthInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			db.checkReplicas(ctx)
		}
	}
}

const heartbeatSQL = `REPLACE INTO heartbeat (id, beat) VALUES (1, ?)`

// beat writes the time on the writer. Replicas replicate it, and how old the
// copy a replica holds is, is its lag: a measure that needs no privilege
// beyond the app's own and works on RDS and Aurora alike. The time is this
// process's clock, so lag does not depend on the database servers' clocks
// (only on the app instances' clocks agreeing, as NTP keeps them).
func (db *DB) beat(ctx context.Context) {
	w := db.writer.Load()
	if !db.dialect.Replicated || w == nil {
		return
	}
	checkCtx, cancel := context.WithTimeout(ctx, db.checkTimeout())
	defer cancel()
	_, err := w.db.ExecContext(checkCtx, heartbeatSQL, time.Now().UTC())
	switch {
	case err == nil || ctx.Err() != nil || isNoSuchTable(err): // not migrated yet
	case connectionLost(err) || readOnly(err) || checkCtx.Err() != nil: // the last: no answer within the deadline
		db.lostWriter(w, err)
	default:
		db.log.Warn("heartbeat failed", "host", w.name, "err", err)
	}
}

const heartbeatReadSQL = `SELECT beat FROM heartbeat WHERE id = 1`

// checkReplicas measures each replica's lag from the heartbeat it holds, all
// replicas at once, so that a frozen one delays no other's check. One that
// does not answer within database.query_timeout, or lags more than
// database.max_replica_lag, leaves the rotation until a check finds it
// healthy again. While there is no writer the heartbeat stops and every copy
// ages: lag then says nothing, and replicas that answer stay in, since they
// are all the reads have. How long each check took feeds the replica's
// latency estimate, so that one no read goes to is still measured.
func (db *DB) checkReplicas(ctx context.Context) {
	var wg sync.WaitGroup
	for _, r := range db.replicas {
		wg.Go(func() { db.checkReplica(ctx, r) })
	}
	wg.Wait()
}

func (db *DB) checkReplica(ctx context.Context, r *replica) {
	checkCtx, cancel := context.WithTimeout(ctx, db.checkTimeout())
	defer cancel()
	var beat time.Time
	start := db.clock()
	err := r.db.GetContext(checkCtx, &beat, heartbeatReadSQL)
	if ctx.Err() != nil {
		return
	}
	if end := db.clock(); err == nil || checkCtx.Err() != nil {
		r.est.Observe(end, end.Sub(start))
	}
	if err != nil {
		db.markReplicaDown(r, err)
		return
	}
	lag := max(time.Since(beat), 0)
	r.lag.Store(int64(lag))
	if lag > db.cfg.MaxReplicaLag && db.writer.Load() != nil {
		db.markReplicaDown(r, errLagging{lag})
		return
	}
	if r.healthy.CompareAndSwap(false, true) {
		db.log.Info("replica in rotation", "host", r.name, "lag", lag)
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
