// Package store owns guestbook's data: the Entry type, its rules, and all SQL,
// on SQLite (the embedded default) or MySQL/MariaDB (a primary and replicas).
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/guestbook/guestbook/config"
)

// DB is the store: a pool on the primary (the writer). Every method says by
// its call whether it reads (db.reader) or writes (db.writer).
type DB struct {
	driver  string
	host    string // the primary's address or file, for messages; never a DSN
	primary *sqlx.DB
	log     *slog.Logger
}

// Open connects to the primary named by cfg, retrying a database that does
// not answer yet with backoff for cfg.ConnectTimeout and logging each try.
// The error names the host, never the password.
func Open(ctx context.Context, cfg config.Database, log *slog.Logger) (*DB, error) {
	d, err := dialectOf(cfg.Driver)
	if err != nil {
		return nil, err
	}
	dsn, host, err := d.dsn(cfg.Primary)
	if err != nil {
		return nil, fmt.Errorf("database.primary: %w", err)
	}
	raw, err := sql.Open(d.driverName, dsn)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", host, err)
	}
	primary := sqlx.NewDb(raw, d.driverName)
	d.tunePool(primary.DB, cfg)
	if err := waitReachable(ctx, primary.DB, host, cfg.ConnectTimeout, log); err != nil {
		primary.Close()
		return nil, err
	}
	return &DB{driver: cfg.Driver, host: host, primary: primary, log: log}, nil
}

// Close closes every pool.
func (db *DB) Close() error {
	return db.primary.Close()
}

// Host names the primary for messages: host:port, or the SQLite file.
func (db *DB) Host() string { return db.host }

// writer is where writes go: the primary.
func (db *DB) writer() *sqlx.DB { return db.primary }

// reader is where reads go. Until replica routing exists it is the primary,
// which also gives read-your-writes for free.
func (db *DB) reader() *sqlx.DB { return db.primary }

// Ping checks that the primary answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.writer().PingContext(ctx); err != nil {
		return fmt.Errorf("ping %s: %w: %w", db.host, ErrUnavailable, err)
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
