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

// read runs q on a reader: the healthy replicas in turn, or the writer when
// no replica is healthy or ctx asks for it. A server that fails to answer
// (as opposed to answering with an error about the query) is passed over and
// q runs on the next: reads are safe to repeat, so a lost replica costs no
// client an error. With no writer either (a failover in progress), any
// replica that answers will do: a stale list beats an error page.
func (db *DB) read(ctx context.Context, q func(*sqlx.DB) error) error {
	try := func(b *backend) (done bool, err error) {
		b.reads.Add(1)
		err = q(b.db)
		if err == nil || !connectionLost(err) {
			noteAnswer(ctx, b) // it answered, if only "no such row"
		}
		return err == nil || !connectionLost(err) || ctx.Err() != nil, err
	}
	var lastErr error = fmt.Errorf("%w: no writable primary and no replica", ErrUnavailable)
	if !readsPrimary(ctx) {
		for _, r := range db.healthyReplicas() {
			done, err := try(r.backend)
			if done {
				return err
			}
			db.markReplicaDown(r, err)
			lastErr = err
		}
	}
	if w := db.writer.Load(); w != nil {
		done, err := try(w)
		if done {
			return err
		}
		db.lostWriter(w, err)
		lastErr = err
	}
	for _, r := range db.replicas { // the last resort: healthy or not
		if done, err := try(r.backend); done {
			return err
		} else {
			lastErr = err
		}
	}
	return lastErr
}

// healthyReplicas lists the replicas in the rotation, starting with the next
// in turn.
func (db *DB) healthyReplicas() []*replica {
	n := len(db.replicas)
	if n == 0 {
		return nil
	}
	start := int(db.next.Add(1) % uint64(n))
	out := make([]*replica, 0, n)
	for i := range n {
		if r := db.replicas[(start+i)%n]; r.healthy.Load() {
			out = append(out, r)
		}
	}
	return out
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
	if err != nil && ctx.Err() == nil && (connectionLost(err) || readOnly(err)) {
		db.lostWriter(w, err)
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	noteAnswer(ctx, w)
	return err
}

// inspect runs q, which reads what every server holds alike (the schema
// version, a ping), on the writer or, during a failover, on a healthy
// replica. It counts as neither a read nor a write.
func (db *DB) inspect(ctx context.Context, q func(*sqlx.DB) error) error {
	if w := db.writer.Load(); w != nil {
		return q(w.db)
	}
	for _, r := range db.healthyReplicas() {
		if err := q(r.db); err == nil || !connectionLost(err) || ctx.Err() != nil {
			return err
		}
	}
	db.signalLost()
	return fmt.Errorf("%w: no writable primary and no healthy replica", ErrUnavailable)
}

// connectionLost reports errors that mean the server did not answer the
// query: the connection failed or broke, or the server is going away or full.
// Query errors (a syntax error, no rows) are not, and neither is the end of
// the caller's own context: a client that gave up says nothing about the
// server. A network error counts even when it is a timeout: a dial that
// timed out matches context.DeadlineExceeded too, and is the very sign of a
// server cut off. Callers check their own context to tell a client that gave
// up from a server that did not answer.
func connectionLost(err error) bool {
	var opErr *net.OpError // not net.Error: context.DeadlineExceeded is one too
	if errors.As(err, &opErr) {
		return true
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1040, 1053, 1927: // too many connections, server shutdown, connection killed
			return true
		}
		return false
	}
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, mysql.ErrInvalidConn) ||
		errors.Is(err, sql.ErrConnDone) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		isNetError(err)
}

// isNetError reports other errors of the network (a resolver's, say).
func isNetError(err error) bool {
	var netErr net.Error
	return errors.As(err, &netErr)
}

// readOnly reports MySQL's answers of a server that does not take writes:
// 1290 (--read-only) and 1836 (read-only mode). With rejectReadOnly set the
// driver turns them into driver.ErrBadConn, which connectionLost covers.
func readOnly(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && (me.Number == 1290 || me.Number == 1836)
}
