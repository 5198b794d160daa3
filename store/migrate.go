package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/go-sql-driver/mysql"

	"github.com/golang-migrate/migrate/v4"
	"github.com/golang-migrate/migrate/v4/source"
	"github.com/golang-migrate/migrate/v4/source/iofs"

	"github.com/guestbook/guestbook/assets"
	"github.com/guestbook/guestbook/config"
)

// Migrator changes the schema on the primary through golang-migrate, on a
// connection of its own, never the serving pool. Concurrent runs are safe:
// the dialect's lock (on SQLite an flock on the database file) or
// golang-migrate's own (GET_LOCK on MySQL) is held for the whole run, and a
// run that finds the schema current does nothing.
type Migrator struct {
	driver string
	m      *migrate.Migrate
	unlock func()
	host   string
	log    *slog.Logger
}

// OpenMigrator connects to the primary (waiting for it as Open does) and
// prepares the embedded migrations of cfg.Driver.
func OpenMigrator(ctx context.Context, cfg config.Database, log *slog.Logger) (*Migrator, error) {
	d, err := dialectOf(cfg.Driver)
	if err != nil {
		return nil, err
	}
	dsn, host, err := writableCandidate(ctx, d, cfg, log)
	if err != nil {
		return nil, err
	}
	lockCtx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout+time.Minute)
	unlock, err := d.lock(lockCtx, cfg)
	cancel()
	if err != nil {
		return nil, fmt.Errorf("lock %s for migration: %w", host, err)
	}
	db, err := sql.Open(d.driverName, dsn)
	if err != nil {
		unlock()
		return nil, fmt.Errorf("database %s: %w", host, err)
	}
	db.SetMaxOpenConns(2) // golang-migrate holds one for its lock
	fail := func(err error) (*Migrator, error) {
		db.Close()
		unlock()
		return nil, err
	}
	if err := waitReachable(ctx, db, host, cfg.ConnectTimeout, log); err != nil {
		return fail(err)
	}
	drv, err := d.migrations(db)
	if err != nil {
		return fail(fmt.Errorf("migrate %s: %w", host, err))
	}
	src, err := migrationSource(d.Name)
	if err != nil {
		return fail(err)
	}
	m, err := migrate.NewWithInstance("iofs", src, d.Name, drv)
	if err != nil {
		return fail(fmt.Errorf("migrate %s: %w", host, err))
	}
	m.LockTimeout = 30 * time.Second
	return &Migrator{driver: d.Name, m: m, unlock: unlock, host: host, log: log}, nil
}

// writableCandidate picks, among database.primary's candidates, the one that
// is writable (the only one when there is one). Migrations run there alone.
func writableCandidate(ctx context.Context, d dialect, cfg config.Database, log *slog.Logger) (dsn, host string, err error) {
	candidates := cfg.Candidates()
	if len(candidates) == 1 {
		if dsn, host, err = d.dsn(candidates[0]); err != nil {
			return "", "", fmt.Errorf("database.primary: %w", err)
		}
		return dsn, host, nil
	}
	cfg.Replicas = nil
	db, err := Open(ctx, cfg, Options{Log: log}) // finds the writer among the candidates
	if err != nil {
		return "", "", err
	}
	defer db.Close()
	for _, c := range candidates {
		if dsn, host, err = d.dsn(c); err == nil && host == db.Host() {
			return dsn, host, nil
		}
	}
	return "", "", fmt.Errorf("database.primary: no writable candidate")
}

func migrationSource(driver string) (source.Driver, error) {
	fsys, err := assets.Migrations(driver)
	if err != nil {
		return nil, err
	}
	src, err := iofs.New(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("embedded migrations: %w", err)
	}
	return src, nil
}

// Close releases the connection and the lock.
func (mg *Migrator) Close() error {
	srcErr, dbErr := mg.m.Close()
	mg.unlock()
	return errors.Join(srcErr, dbErr)
}

// Up applies every migration not applied yet. A schema already current is
// not an error. Another instance migrating at the same moment is waited for.
func (mg *Migrator) Up(ctx context.Context) error {
	return mg.run(ctx, "up", func() error {
		// A schema newer than this binary's (a rollback after an upgrade
		// migrated) is left as it is: serve accepts it too.
		v, _, err := mg.m.Version()
		if err == nil {
			if latest, lerr := LatestVersion(mg.driver); lerr == nil && v > latest {
				mg.log.Info("schema is newer than this binary; nothing to do", "host", mg.host, "version", v, "binary", latest)
				return migrate.ErrNoChange
			}
		}
		return mg.m.Up()
	})
}

// Down reverts the newest n migrations.
func (mg *Migrator) Down(ctx context.Context, n int) error {
	if n < 1 {
		return fmt.Errorf("migrate down: N must be at least 1, got %d", n)
	}
	return mg.run(ctx, "down", func() error { return mg.m.Steps(-n) })
}

// Force sets the recorded version without running anything, to recover from
// a migration that failed half-way (the schema is "dirty").
func (mg *Migrator) Force(ctx context.Context, version int) error {
	return mg.run(ctx, "force", func() error { return mg.m.Force(version) })
}

// Version is the schema's recorded version (0 when none) and whether a
// migration failed half-way.
func (mg *Migrator) Version() (uint, bool, error) {
	v, dirty, err := mg.m.Version()
	if errors.Is(err, migrate.ErrNilVersion) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("schema version on %s: %w", mg.host, err)
	}
	return v, dirty, nil
}

func (mg *Migrator) run(ctx context.Context, op string, step func() error) error {
	stop := context.AfterFunc(ctx, func() { mg.m.GracefulStop <- true })
	defer stop()
	err := step()
	if errors.Is(err, migrate.ErrNoChange) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("migrate %s on %s: %w", op, mg.host, err)
	}
	v, _, _ := mg.Version()
	mg.log.Info("migrated", "op", op, "host", mg.host, "version", v)
	return nil
}

// LatestVersion is the newest migration this binary embeds for driver.
func LatestVersion(driver string) (uint, error) {
	fsys, err := assets.Migrations(driver)
	if err != nil {
		return 0, err
	}
	names, err := fs.Glob(fsys, "*.up.sql")
	if err != nil {
		return 0, err
	}
	var latest uint
	for _, name := range names {
		n, err := strconv.ParseUint(strings.SplitN(name, "_", 2)[0], 10, 32)
		if err != nil {
			return 0, fmt.Errorf("migration %s: name must start with a number", name)
		}
		latest = max(latest, uint(n))
	}
	return latest, nil
}

// SchemaVersion reads the primary's recorded schema version through the
// serving pool: 0 when no migration ever ran.
func (db *DB) SchemaVersion(ctx context.Context) (version uint, dirty bool, err error) {
	const q = `SELECT version, dirty FROM schema_migrations LIMIT 1`
	var row struct {
		Version int64 `db:"version"`
		Dirty   bool  `db:"dirty"`
	}
	err = db.inspect(ctx, func(ctx context.Context, x *sqlx.DB) error { return x.GetContext(ctx, &row, q) })
	switch {
	case errors.Is(err, sql.ErrNoRows) || isNoSuchTable(err):
		return 0, false, nil
	case err != nil:
		return 0, false, fmt.Errorf("schema version on %s: %w", db.Host(), unavailable(err))
	}
	return uint(row.Version), row.Dirty, nil
}

// CheckSchema returns an error wrapping ErrSchemaBehind unless the schema is
// at least this binary's newest migration and not dirty.
func (db *DB) CheckSchema(ctx context.Context) error {
	latest, err := LatestVersion(db.dialect.Name)
	if err != nil {
		return err
	}
	v, dirty, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if dirty {
		return fmt.Errorf("schema on %s is dirty at version %d (a migration failed half-way; fix it and run guestbook migrate force): %w", db.Host(), v, ErrSchemaBehind)
	}
	if v < latest {
		return fmt.Errorf("schema on %s is at version %d, this binary needs %d: run guestbook migrate: %w", db.Host(), v, latest, ErrSchemaBehind)
	}
	return nil
}

func isNoSuchTable(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1146 // table doesn't exist
	}
	return err != nil && strings.Contains(err.Error(), "no such table") // SQLite has no finer code
}
