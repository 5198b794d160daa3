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

// query is the work of one read or write on one server. It must run in the
// ctx it is given, which carries that attempt's deadline (see attempt).
type query func(ctx context.Context, x *sqlx.DB) error

// read runs q on a reader: a healthy replica chosen by its latency and load
// (pickReplica), or the writer when no replica is healthy or ctx asks for
// it. A server that fails to answer (its connection failed, or it did not
// answer within the attempt's deadline) is taken out and q runs on the
// next: reads are safe to repeat, so a lost or frozen replica costs no
// client an error. With no writer either (a failover in progress), any
// replica that answers will do: a stale list beats an error page. Each
// server is tried once at most.
func (db *DB) read(ctx context.Context, q query) error {
	var lastErr error = fmt.Errorf("%w: no writable primary and no replica", ErrUnavailable)
	w := db.writer.Load()
	left := len(db.replicas) // servers this read may still try
	if w != nil {
		left++
	}
	try := func(b *backend) (outcome, error) {
		b.reads.Add(1)
		left--
		o, err := db.attempt(ctx, b, left > 0, q)
		if o == answered {
			noteAnswer(ctx, b) // it answered, if only "no such row"
		}
		return o, err
	}
	tried := make([]bool, len(db.replicas))
	if !readsPrimary(ctx) {
		for {
			i := db.pickReplica(db.clock(), tried)
			if i < 0 {
				break
			}
			tried[i] = true
			r := db.replicas[i]
			o, err := try(r.backend)
			if o.final() {
				return err
			}
			if o == failed {
				db.markReplicaDown(r, err)
			}
			lastErr = err
		}
	}
	if w != nil {
		o, err := try(w)
		if o.final() {
			return err
		}
		if o == failed {
			db.lostWriter(w, err)
		}
		lastErr = err
	}
	for i, r := range db.replicas { // the last resort: healthy or not
		if tried[i] {
			continue
		}
		o, err := try(r.backend)
		if o.final() {
			return err
		}
		lastErr = err
	}
	return lastErr
}

// write runs q on the writer. If the writer is gone, does not answer within
// the deadline or has turned read-only (a failover demoted it), the store
// starts looking for the new one and the error is returned marked
// ErrUnavailable: the write is never retried here, since a write whose
// answer was lost or late may have been applied, and doing it again could
// apply it twice. The client is told to try again (503).
func (db *DB) write(ctx context.Context, q query) error {
	w := db.writer.Load()
	if w == nil {
		db.signalLost()
		return fmt.Errorf("%w: looking for the writable primary", ErrUnavailable)
	}
	w.writes.Add(1)
	o, err := db.attempt(ctx, w, false, q)
	switch o {
	case failed:
		db.lostWriter(w, err)
		return unavailable(err)
	case hurried:
		return unavailable(err)
	case answered:
		noteAnswer(ctx, w)
		if readOnly(err) {
			db.lostWriter(w, err)
			return unavailable(err)
		}
	}
	return err
}

// inspect runs q, which reads what every server holds alike (the schema
// version, a ping), on the writer or, during a failover, on a healthy
// replica, within the query deadline. It counts as neither a read nor a
// write.
func (db *DB) inspect(ctx context.Context, q query) error {
	if w := db.writer.Load(); w != nil {
		_, err := db.attempt(ctx, w, false, q)
		return err
	}
	for _, r := range db.replicas {
		if !r.healthy.Load() {
			continue
		}
		if o, err := db.attempt(ctx, r.backend, true, q); o.final() {
			return err
		}
	}
	db.signalLost()
	return fmt.Errorf("%w: no writable primary and no healthy replica", ErrUnavailable)
}

// connectionLost reports errors that mean the server did not answer the
// query: the connection failed or broke, or the server is going away or full.
// Query errors (a syntax error, no rows) are not, and neither is the end of
// a context: whose context it was, the caller's or the attempt's deadline,
// only attempt can tell. A network error counts even when it is a timeout:
// a dial that timed out matches context.DeadlineExceeded too, and is the
// very sign of a server cut off.
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
