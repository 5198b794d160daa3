package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
)

type readPrimaryKey struct{}

// ReadPrimary marks ctx so that its reads go to the writer: a client that has
// just written reads its own write even while the replicas lag.
func ReadPrimary(ctx context.Context) context.Context {
	return context.WithValue(ctx, readPrimaryKey{}, true)
}

func readsPrimary(ctx context.Context) bool {
	v, _ := ctx.Value(readPrimaryKey{}).(bool)
	return v
}

// read runs q on a reader: the next healthy replica in turn, or the writer
// when no replica is healthy or ctx asks for it. A replica that fails to
// answer (as opposed to answering with an error) leaves the rotation and q
// runs again on the writer: reads are safe to repeat, so a lost replica costs
// no client an error.
func (db *DB) read(ctx context.Context, q func(*sqlx.DB) error) error {
	if r := db.pickReplica(ctx); r != nil {
		r.reads.Add(1)
		err := q(r.db)
		if err == nil || !connectionLost(err) || ctx.Err() != nil {
			return err
		}
		db.markReplicaDown(r, err)
	}
	w := db.writer.Load()
	if w == nil {
		return fmt.Errorf("%w: no writable primary and no healthy replica", ErrUnavailable)
	}
	w.reads.Add(1)
	err := q(w.db)
	if err != nil && (connectionLost(err) || readOnly(err)) {
		db.lostWriter(w, err)
	}
	return err
}

func (db *DB) pickReplica(ctx context.Context) *replica {
	if readsPrimary(ctx) || len(db.replicas) == 0 {
		return nil
	}
	n := uint64(len(db.replicas))
	start := db.next.Add(1)
	for i := range n {
		if r := db.replicas[(start+i)%n]; r.healthy.Load() {
			return r
		}
	}
	return nil
}

// write runs q on the writer. If the writer is gone or has turned read-only
// (a failover demoted it), the store starts looking for the new one and q's
// error is returned marked ErrUnavailable: the write is never retried here,
// since a write whose answer was lost may have been applied, and doing it
// again could apply it twice. The client is told to try again (503).
func (db *DB) write(ctx context.Context, q func(*sqlx.DB) error) error {
	w := db.writer.Load()
	if w == nil {
		db.signalLost()
		return fmt.Errorf("%w: looking for the writable primary", ErrUnavailable)
	}
	w.writes.Add(1)
	err := q(w.db)
	if err != nil && (connectionLost(err) || readOnly(err)) {
		db.lostWriter(w, err)
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return err
}

// lostWriter forgets w as the writer, drops its idle connections (they may
// all be talking to a demoted server) and asks for the writer to be found.
func (db *DB) lostWriter(w *backend, cause error) {
	if db.driver == "sqlite" {
		return // one file: nothing to fail over to
	}
	if db.writer.CompareAndSwap(w, nil) {
		db.log.Warn("lost the writer", "host", w.name, "err", cause)
		w.db.SetMaxIdleConns(0) // closes every idle connection now
		w.db.SetMaxIdleConns(db.cfg.MaxIdleConns)
	}
	db.signalLost()
}

func (db *DB) signalLost() {
	select {
	case db.lost <- struct{}{}:
	default:
	}
}

// findWriter asks each candidate whether it is writable and makes the first
// that is the writer. It returns false when none is.
func (db *DB) findWriter(ctx context.Context) bool {
	if db.driver == "sqlite" {
		db.writer.Store(db.candidates[0])
		return true
	}
	for _, b := range db.candidates {
		checkCtx, cancel := context.WithTimeout(ctx, db.checkTimeout())
		var readOnly bool
		err := b.db.GetContext(checkCtx, &readOnly, "SELECT @@global.read_only")
		cancel()
		if err == nil && !readOnly {
			// At start finding the writer is routine; after a loss it is news.
			if old := db.writer.Swap(b); old != b && db.hadWriter.Swap(true) {
				db.log.Info("writer found", "host", b.name)
			}
			return true
		}
	}
	return false
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

func (db *DB) candidateNames() string {
	s := ""
	for i, b := range db.candidates {
		if i > 0 {
			s += ","
		}
		s += b.name
	}
	return s
}

// checkTimeout bounds one health or writer check.
func (db *DB) checkTimeout() time.Duration {
	return min(time.Second, db.cfg.HealthInterval)
}

// connectionLost reports errors that mean the server did not answer: the
// connection failed or broke. Query errors (a syntax error, no rows) are not.
func connectionLost(err error) bool {
	var netErr net.Error
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.As(err, &netErr)
}

// readOnly reports MySQL's answers of a server that does not take writes:
// 1290 (--read-only) and 1836 (read-only mode). With rejectReadOnly set the
// driver turns them into driver.ErrBadConn, which connectionLost covers.
func readOnly(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == 1290 || me.Number == 1836)
}
