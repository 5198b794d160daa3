// Package store owns guestbook's data: the Entry type, its rules, and all SQL,
// on SQLite (the embedded default) or MySQL/MariaDB (a primary and replicas).
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/internal/balance"
)

// DB is the store: a pool per database server. Writes go to the writer, the
// one primary candidate that is writable; reads go to the healthy replicas,
// balanced by each one's latency and load (pickReplica), or to the writer
// when there is none (or when the reader has just written: see
// ReadPrimary). Every query is bounded by database.query_timeout and by the
// time its caller's context has left (attempt). Every method says by its call whether it reads
// (db.read) or writes (db.write), so the routing can be read off the code.
type DB struct {
	dialect    dialect
	cfg        config.Database
	candidates []*backend // primary candidates, in configuration order
	replicas   []*replica
	writer     atomic.Pointer[backend] // nil while no writable candidate is known
	lastWriter atomic.Pointer[backend] // the writer before it was lost: preferred when found again
	lost       chan struct{}           // a write found the writer gone: look for one now
	log        *slog.Logger
	now        func() time.Time // the day's clock: Options.Now
	clock      func() time.Time // measures latencies: time.Now, or a test's
	rnd        func(n int) int  // a uniform integer in [0, n), for pickReplica
	picks      atomic.Uint64    // reads given a replica: what replica.picked counts in
}

// Options are what a store needs beside its configuration.
type Options struct {
	// Log receives the store's own lines (tries, failovers); never nil.
	Log *slog.Logger
	// Now is the clock that says what day it is (an entry's default day,
	// its creation time): the app tier's own, so that a page and the store
	// never disagree on "today". time.Now when nil.
	Now func() time.Time
}

// backend is one database server and its pool.
type backend struct {
	name   string // host:port or the SQLite file: for logs and metrics, never a DSN
	label  string // database.primary_name or replica_names: what pages show, never a host
	role   string // RolePrimary (a candidate) or RoleReplica
	db     *sqlx.DB
	reads  atomic.Uint64
	writes atomic.Uint64
	lag    atomic.Int64 // a replica's nanoseconds behind the writer at its last check; 0 for a candidate
	est    balance.Estimate
}

// replica is a read-only backend with its health, and when it was last
// chosen for a read (the store's pick count), so that equal replicas take
// turns.
type replica struct {
	*backend
	healthy atomic.Bool
	picked  atomic.Uint64
}

// Open connects to the primary named by cfg (each candidate, when several are
// given) and to its replicas. It waits, with backoff and a log line per try,
// up to cfg.ConnectTimeout for a writable primary; replicas that do not
// answer yet only stay out of the rotation. Errors name hosts, never
// passwords.
func Open(ctx context.Context, cfg config.Database, opts Options) (_ *DB, err error) {
	d, err := dialectOf(cfg.Driver)
	if err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	db := &DB{dialect: d, cfg: cfg, lost: make(chan struct{}, 1), log: opts.Log, now: opts.Now,
		clock: time.Now, rnd: rand.IntN}
	defer func() {
		if err != nil {
			db.Close()
		}
	}()
	candidates := cfg.Candidates()
	if len(candidates) == 0 {
		return nil, fmt.Errorf("database.primary: must be set")
	}
	candidateNames, replicaNames := cfg.ServerNames()
	for i, dsn := range candidates {
		b, err := openBackend(d, dsn, cfg, "database.primary")
		if err != nil {
			return nil, err
		}
		b.label, b.role = candidateNames[i], RolePrimary
		db.candidates = append(db.candidates, b)
	}
	for i, dsn := range cfg.Replicas {
		b, err := openBackend(d, dsn, cfg, "database.replicas")
		if err != nil {
			return nil, err
		}
		b.label, b.role = replicaNames[i], RoleReplica
		db.replicas = append(db.replicas, &replica{backend: b})
	}
	if err := db.waitForWriter(ctx); err != nil {
		return nil, err
	}
	db.beat(ctx)
	db.checkReplicas(ctx)
	return db, nil
}

func openBackend(d dialect, configured string, cfg config.Database, key string) (*backend, error) {
	dsn, host, err := d.dsn(configured)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	raw, err := sql.Open(d.driverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", host, err)
	}
	d.tunePool(raw, cfg)
	return &backend{name: host, db: sqlx.NewDb(raw, d.driverName)}, nil
}

// Close closes every pool.
func (db *DB) Close() error {
	var errs []error
	for _, b := range db.candidates {
		errs = append(errs, b.db.Close())
	}
	for _, r := range db.replicas {
		errs = append(errs, r.db.Close())
	}
	return errors.Join(errs...)
}

// Host names the writer for messages (host:port, or the SQLite file), or the
// first candidate while no writer is known.
func (db *DB) Host() string {
	if w := db.writer.Load(); w != nil {
		return w.name
	}
	return db.candidates[0].name
}

// Ping checks that the store can serve: the writer answers or, while a
// failover is under way, a healthy replica does (reads still work).
func (db *DB) Ping(ctx context.Context) error {
	err := db.inspect(ctx, func(ctx context.Context, x *sqlx.DB) error { return x.PingContext(ctx) })
	if err != nil {
		return fmt.Errorf("ping %s: %w", db.Host(), unavailable(err))
	}
	return nil
}

// waitReachable pings until the database answers, ctx ends or timeout passes.
// Errors that waiting cannot fix (bad credentials, no such database) end it at
// once.
func waitReachable(parent context.Context, db *sql.DB, host string, timeout time.Duration, log *slog.Logger) error {
	ctx, cancel := context.WithTimeout(parent, timeout)
	defer cancel()
	backoff := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		pingCtx, cancelPing := context.WithTimeout(ctx, 5*time.Second)
		err := db.PingContext(pingCtx)
		cancelPing()
		if err == nil {
			if attempt > 1 {
				log.Info("database answers", "host", host, "attempt", attempt)
			}
			return nil
		}
		if permanent(err) {
			return fmt.Errorf("database %s: %w", host, err)
		}
		log.Warn("database not reachable yet", "host", host, "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			if parent.Err() != nil {
				return fmt.Errorf("database %s: interrupted while waiting for it: %w", host, err)
			}
			return fmt.Errorf("database %s: not reachable after %s: %w", host, timeout, err)
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// permanent reports errors that retrying will not fix.
func permanent(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		switch me.Number {
		case 1044, 1045, 1049: // access denied to database, bad credentials, unknown database
			return true
		}
	}
	return false
}
