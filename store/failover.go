package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"
)

// writableSQL asks a server whether it takes writes. Aurora's readers report
// read_only off and innodb_read_only on, so both are asked.
const writableSQL = "SELECT @@global.read_only = 0 AND @@global.innodb_read_only = 0"

// lostWriter forgets w as the writer, drops its idle connections (they may
// all be talking to a demoted server) and asks for the writer to be found.
// A late error about a writer already forgotten changes nothing.
func (db *DB) lostWriter(w *backend, cause error) {
	if !db.dialect.Replicated {
		return // one file: nothing to fail over to
	}
	if db.writer.CompareAndSwap(w, nil) {
		db.log.Warn("lost the writer", "host", w.name, "err", cause)
		dropIdle(w, db.cfg.MaxIdleConns)
		db.signalLost()
	}
}

// dropIdle closes every idle connection of b now.
func dropIdle(b *backend, keep int) {
	b.db.SetMaxIdleConns(0)
	b.db.SetMaxIdleConns(keep)
}

func (db *DB) signalLost() {
	select {
	case db.lost <- struct{}{}:
	default:
	}
}

// findWriter asks the candidates whether they are writable and makes one the
// writer, preferring the last writer: after a failover a restarted old
// primary may come back writable (read_only is off unless my.cnf says
// otherwise), and sending writes back to it would split the data in two. Two
// writable candidates are logged as an error. It returns false when none is
// writable.
func (db *DB) findWriter(ctx context.Context) bool {
	if !db.dialect.Replicated {
		db.writer.Store(db.candidates[0]) // one file: its own writer
		return true
	}
	// All candidates at once, so that a frozen one delays no other's
	// answer beyond one check's deadline.
	ok := make([]bool, len(db.candidates))
	var wg sync.WaitGroup
	for i, b := range db.candidates {
		wg.Go(func() {
			checkCtx, cancel := context.WithTimeout(ctx, db.checkTimeout())
			defer cancel()
			var writable bool
			err := b.db.GetContext(checkCtx, &writable, writableSQL)
			switch {
			case err == nil && writable:
				ok[i] = true
			case err == nil:
				// Read-only: its idle connections may outlive a DNS flip of
				// the endpoint to the new writer; new ones will not.
				dropIdle(b, db.cfg.MaxIdleConns)
			}
		})
	}
	wg.Wait()
	var writable []*backend
	for i, b := range db.candidates {
		if ok[i] {
			writable = append(writable, b)
		}
	}
	if len(writable) == 0 {
		return false
	}
	chosen := writable[0]
	last := db.lastWriter.Load()
	for _, b := range writable {
		if b == last {
			chosen = b
		}
	}
	if len(writable) > 1 {
		db.log.Error("more than one candidate is writable; keeping the last writer, set read_only on the others",
			"writable", names(writable), "writer", chosen.name)
	}
	// At start finding the writer is routine; after a loss it is news.
	if old := db.writer.Swap(chosen); old != chosen && last != nil {
		db.log.Info("writer found", "host", chosen.name)
	}
	db.lastWriter.Store(chosen)
	return true
}

// checkWriter catches a writer that turned read-only without a write
// noticing (a planned failover demotes it quietly) or stopped answering.
func (db *DB) checkWriter(ctx context.Context) {
	w := db.writer.Load()
	if w == nil {
		db.findWriter(ctx)
		return
	}
	checkCtx, cancel := context.WithTimeout(ctx, db.checkTimeout())
	defer cancel()
	var ok bool
	err := w.db.GetContext(checkCtx, &ok, writableSQL)
	switch {
	case ctx.Err() != nil: // shutting down
	case err == nil && !ok:
		db.lostWriter(w, errTurnedReadOnly)
	case err != nil && (connectionLost(err) || checkCtx.Err() != nil):
		db.lostWriter(w, err) // our own check timed out: the writer is not answering
	}
}

// waitForWriter finds the writer at start, retrying with backoff for
// ConnectTimeout and logging each try, as a database that is still starting
// deserves.
func (db *DB) waitForWriter(ctx context.Context) error {
	if len(db.candidates) == 1 {
		b := db.candidates[0]
		if err := waitReachable(ctx, b.db.DB, b.name, db.cfg.ConnectTimeout, db.log); err != nil {
			return err
		}
		if db.findWriter(ctx) {
			return nil
		}
		return fmt.Errorf("database %s: it is read-only (a replica?); database.primary must name the writer", b.name)
	}
	ctx, cancel := context.WithTimeout(ctx, db.cfg.ConnectTimeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		if db.findWriter(ctx) {
			return nil
		}
		db.log.Warn("no writable primary yet", "candidates", db.candidateNames(), "attempt", attempt)
		select {
		case <-ctx.Done():
			return fmt.Errorf("database %s: no writable primary after %s", db.candidateNames(), db.cfg.ConnectTimeout)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (db *DB) candidateNames() string { return names(db.candidates) }

func names(list []*backend) string {
	s := make([]string, len(list))
	for i, b := range list {
		s[i] = b.name
	}
	return strings.Join(s, ",")
}

// checkTimeout bounds one health or writer check: database.query_timeout,
// the deadline of every query, so that a server frozen (accepting
// connections, answering nothing) is out within one health interval plus
// that deadline. Longer than the interval is fine: the loop's ticker drops
// the ticks a slow round overran.
func (db *DB) checkTimeout() time.Duration {
	return db.cfg.QueryTimeout
}
