package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/guestbook/guestbook/internal/balance"
)

// outcome is how one attempt of a query on one server ended.
type outcome int

const (
	// answered: the server answered, with rows or with an error about the
	// query (no such row, a duplicate key).
	answered outcome = iota
	// gaveUp: the caller's own context ended first; that says nothing
	// about the server.
	gaveUp
	// failed: the server did not answer: its connection failed, or it did
	// not answer within database.query_timeout (or a deadline long enough
	// to judge it by: see minJudged). It leaves the rotation.
	failed
	// hurried: the server did not answer within a deadline the caller's
	// budget cut too short to judge it by. The query moves on, the server
	// stays in (its latency estimate remembers the wait).
	hurried
)

// final reports an outcome after which no other server is tried.
func (o outcome) final() bool { return o == answered || o == gaveUp }

// minJudged is the shortest deadline whose expiry takes a server out of the
// rotation (or database.query_timeout, when that is shorter): a query given
// less, because its caller had little time left, may time out on a healthy
// server, and that is no verdict on the server.
const minJudged = 100 * time.Millisecond

// attempt runs q once on b, within attemptTimeout, and reports how it ended.
// The driver abandons a query whose context ends (go-sql-driver/mysql closes
// the connection; SQLite interrupts the statement). The time it took feeds
// b's latency estimate, which balances the reads. more says that another
// server remains to try if this one fails. A timeout comes back as an error
// that wraps ErrUnavailable (and not context.DeadlineExceeded, which stays
// the caller's own deadline).
func (db *DB) attempt(ctx context.Context, b *backend, more bool, q query) (outcome, error) {
	start := db.clock()
	limit, ok := attemptTimeout(ctx, start, db.cfg.QueryTimeout, more)
	if !ok {
		return gaveUp, fmt.Errorf("%s: %w", b.name, context.DeadlineExceeded)
	}
	actx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	b.est.Start()
	err := q(actx, b.db)
	end := db.clock()
	b.est.Done(end, end.Sub(start))
	judged := min(minJudged, db.cfg.QueryTimeout)
	switch {
	case err == nil:
		return answered, nil
	case limit >= judged && end.Sub(start) >= limit && errors.Is(actx.Err(), context.DeadlineExceeded):
		// The server had long enough and did not answer: a verdict on
		// it, whether the deadline was the store's or the caller's (a
		// web tier's budget shorter than query_timeout), so that a frozen
		// writer is looked for at once, not at the next heartbeat.
		return failed, fmt.Errorf("%w: %s did not answer within %s", ErrUnavailable, b.name, limit)
	case callerDone(ctx, end):
		return gaveUp, err
	case actx.Err() != nil:
		err = fmt.Errorf("%w: %s did not answer within %s", ErrUnavailable, b.name, limit)
		if limit < min(minJudged, db.cfg.QueryTimeout) {
			return hurried, err
		}
		return failed, err
	case connectionLost(err):
		return failed, err
	}
	return answered, err
}

// attemptTimeout is the deadline of one attempt begun at now:
// database.query_timeout, but no more than ctx has left, and no more than
// half of that when another server remains, so that a read that meets a
// frozen server still has the time to be answered by the next. It is false
// when ctx has no time left.
func attemptTimeout(ctx context.Context, now time.Time, queryTimeout time.Duration, more bool) (time.Duration, bool) {
	dl, ok := ctx.Deadline()
	if !ok {
		return queryTimeout, ctx.Err() == nil
	}
	left := dl.Sub(now)
	if left <= 0 || ctx.Err() != nil {
		return 0, false
	}
	if more {
		left /= 2
	}
	return min(queryTimeout, left), true
}

// callerDone reports that ctx has ended by now (its deadline may have passed
// a moment before its timer fires).
func callerDone(ctx context.Context, now time.Time) bool {
	if ctx.Err() != nil {
		return true
	}
	dl, ok := ctx.Deadline()
	return ok && !now.Before(dl)
}

// pickReplica chooses the replica for a read among the healthy ones not yet
// tried by this read: of two at random, the one expected to answer sooner
// (its latency estimate times its queries in flight; balance.PickTwo), so
// that a replica that turns slow gets few reads and a fast one most. It
// returns -1 when none is left. now and db.rnd are the only inputs beside
// the replicas' state, so a test can run it one step at a time.
func (db *DB) pickReplica(now time.Time, tried []bool) int {
	i := balance.PickTwo(len(db.replicas),
		func(i int) bool { return !tried[i] && db.replicas[i].healthy.Load() },
		func(i int) float64 { return db.replicas[i].est.Cost(now) },
		func(i int) uint64 { return db.replicas[i].picked.Load() },
		db.rnd)
	if i >= 0 {
		db.replicas[i].picked.Store(db.picks.Add(1))
	}
	return i
}
