package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// The write limit: at most Sender.Limit entries from one client in any
// Sender.Window, counted on the writer, which sees the writes of every app
// instance, so that adding instances does not multiply the limit. The
// client is known by a keyed hash that the app tier makes (never the
// address), stored with each entry under an index on (client_hash,
// created_at).
//
// Counting and inserting race across instances: two creates of one client
// that both count before either inserts would both pass. So a limited
// create holds its client's lock while it counts and inserts, in one
// transaction: on SQLite the write transaction itself (BEGIN IMMEDIATE, see
// sqliteDSN: there is one writer at a time), on MySQL a named lock of the
// client (GET_LOCK), taken before the transaction begins, so that the
// count's snapshot holds every entry committed before. A locking read
// instead (insert, then count FOR UPDATE) was tried and deadlocks: the
// next-key locks of two creates, of one client or of neighbouring ones,
// wait on each other's inserts. The lock is the client's alone, so
// different clients never wait on each other. Exact, at the price of a few
// round trips more per limited create (the lock, its release and the
// transaction's); with the limit off a create is one statement, as before.

// Sender is who sent a draft, as the write limit knows them. The zero Sender
// is nobody's: stored without a client hash, and never limited.
type Sender struct {
	// Hash is the client's keyed hash (the app tier's), stored with the
	// entry; empty: none.
	Hash string
	// Limit is the most entries Hash may have created within Window, the
	// new one included; 0: no limit.
	Limit  int
	Window time.Duration
}

func (s Sender) limited() bool { return s.Hash != "" && s.Limit > 0 && s.Window > 0 }

// hash is what the client_hash column holds: NULL for nobody.
func (s Sender) hash() sql.NullString { return sql.NullString{String: s.Hash, Valid: s.Hash != ""} }

// LimitError is a create refused by the write limit: its client has created
// Sender.Limit entries within the window already. Nothing was stored. It
// wraps ErrWriteLimited.
type LimitError struct {
	// RetryAt is when the client may write again: when enough of its
	// entries have left the window.
	RetryAt time.Time
}

func (e *LimitError) Error() string {
	return "write limit reached; the client may write again at " + e.RetryAt.UTC().Format(time.RFC3339)
}

func (e *LimitError) Unwrap() error { return ErrWriteLimited }

// clientEntriesSQL lists a client's newest entries created after a time, at
// most a number of them, newest first, from the index on (client_hash,
// created_at): a refused create reads the limit's rows, not every row of a
// long window.
const clientEntriesSQL = `
SELECT created_at FROM entries WHERE client_hash = ? AND created_at > ? ORDER BY created_at DESC LIMIT ?`

// insertAs runs insert, a create's one statement, on the writer x: as it
// is, or under s's write limit (insertLimited).
func (db *DB) insertAs(ctx context.Context, x *sqlx.DB, s Sender, now time.Time, insert func(ctx context.Context, ex sqlx.ExecerContext) error) error {
	if !s.limited() {
		return insert(ctx, x)
	}
	return db.insertLimited(ctx, x, s, now, insert)
}

// insertLimited counts s's entries in the window that ends at now and, when
// they are fewer than s.Limit, runs insert, all in one transaction on x
// (the writer) under the client's lock (see above). Over the limit it
// stores nothing and returns a *LimitError. An error of insert is returned
// as it is (a duplicate key, say).
func (db *DB) insertLimited(ctx context.Context, x *sqlx.DB, s Sender, now time.Time, insert func(ctx context.Context, ex sqlx.ExecerContext) error) error {
	conn, err := x.Connx(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	release, err := db.dialect.lockClient(ctx, conn, s.Hash)
	if errors.Is(err, errClientBusy) {
		return &LimitError{RetryAt: now.Add(time.Second)}
	}
	if err != nil {
		return err
	}
	defer release()
	tx, err := conn.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var made []time.Time
	if err := tx.SelectContext(ctx, &made, clientEntriesSQL, s.Hash, now.Add(-s.Window).UTC(), s.Limit); err != nil {
		return err
	}
	if len(made) >= s.Limit {
		// The client may write again once the oldest of its newest Limit
		// entries has left the window.
		return &LimitError{RetryAt: made[s.Limit-1].Add(s.Window)}
	}
	if err := insert(ctx, tx); err != nil {
		return err
	}
	return tx.Commit()
}

// The named lock of a client on MySQL. Lock names are the server's, not a
// database's, so the name holds the database's name too (two guestbooks on
// one server do not share locks), hashed to fit MySQL's 64 characters.
const (
	lockClientSQL    = `SELECT GET_LOCK(SHA1(CONCAT(DATABASE(), ' guestbook write limit ', ?)), ?)`
	releaseClientSQL = `DO RELEASE_LOCK(SHA1(CONCAT(DATABASE(), ' guestbook write limit ', ?)))`
)

// errClientBusy is a client's lock that another of its creates held past
// lockWait.
var errClientBusy = errors.New("another create of this client holds its write-limit lock")

// lockWait is the longest a create waits for its client's lock: another
// create of the same client holds it for a few milliseconds (a count and an
// insert), so longer means that one is stuck (a commit held up), and a
// create that waited out the query's deadline would be judged a dead
// writer (store/attempt.go) and fail over a healthy primary for everyone.
// Each waiter also holds a writer connection, which other clients need.
const lockWait = time.Second

// mysqlLockClient takes client's named lock on conn, waiting for another
// create of the client to finish for at most lockWait (and half what ctx
// has left). Not got in that time, it is errClientBusy, and the create is
// refused as one of a client writing too fast (a *LimitError, a second from
// now), which the query's attempt counts as an answer, not as a writer that
// failed. The release
// runs even when ctx has ended; a connection whose release fails is closed
// rather than returned to the pool, since it might still hold the lock (the
// server frees a session's locks when it ends).
func mysqlLockClient(ctx context.Context, conn *sqlx.Conn, client string) (func(), error) {
	wait := lockWait
	if dl, ok := ctx.Deadline(); ok {
		wait = max(min(wait, time.Until(dl)/2), 0) // a negative timeout would wait for ever
	}
	var got sql.NullInt64
	if err := conn.GetContext(ctx, &got, lockClientSQL, client, wait.Seconds()); err != nil {
		return nil, err
	}
	if !got.Valid || got.Int64 != 1 {
		return nil, errClientBusy
	}
	return func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		if _, err := conn.ExecContext(rctx, releaseClientSQL, client); err != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn }) // discard the connection, and the lock with it
		}
	}, nil
}

// sqliteLockClient takes no lock: the write transaction that follows is the
// only one (BEGIN IMMEDIATE).
func sqliteLockClient(context.Context, *sqlx.Conn, string) (func(), error) { return func() {}, nil }

const secretSQL = `SELECT value FROM secret WHERE id = 1`

// Secret is the random secret migration 4 made once in the database, which
// every app instance shares (app.secret overrides it). It is read from the
// writer, or during a failover a healthy replica: they hold the same row.
func (db *DB) Secret(ctx context.Context) ([]byte, error) {
	var secret []byte
	err := db.inspect(ctx, func(ctx context.Context, x *sqlx.DB) error { return x.GetContext(ctx, &secret, secretSQL) })
	switch {
	case errors.Is(err, sql.ErrNoRows) || isNoSuchTable(err):
		return nil, fmt.Errorf("no secret on %s: run guestbook migrate: %w", db.Host(), ErrSchemaBehind)
	case err != nil:
		return nil, fmt.Errorf("read the secret on %s: %w", db.Host(), unavailable(err))
	case len(secret) < 16:
		return nil, fmt.Errorf("the secret on %s is only %d bytes", db.Host(), len(secret))
	}
	return secret, nil
}
