package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/golang-migrate/migrate/v4/database"
	migratemysql "github.com/golang-migrate/migrate/v4/database/mysql"
	migratesqlite "github.com/golang-migrate/migrate/v4/database/sqlite"
	"github.com/jmoiron/sqlx"

	"github.com/guestbook/guestbook/config"
)

// dialect holds what differs between SQLite and MySQL. The queries themselves
// are the same on both: "?" placeholders and standard SQL. What the
// configuration must know too (the name, whether it replicates, whether serve
// migrates it) is the embedded config.Dialect; the rest is how to talk to it.
type dialect struct {
	config.Dialect
	driverName string // the database/sql driver
	// dsn completes a configured DSN with the parameters guestbook needs and
	// returns it with a name of its host for messages.
	dsn      func(configured string) (dsn, host string, err error)
	tunePool func(db *sql.DB, cfg config.Database)
	// migrations wraps a connection in golang-migrate's driver for it.
	migrations func(db *sql.DB) (database.Driver, error)
	// lock keeps two migrations of one database from running at once,
	// waiting until ctx ends, for drivers whose golang-migrate driver does
	// not (MySQL's holds GET_LOCK itself). It returns the release.
	lock func(ctx context.Context, cfg config.Database) (unlock func(), err error)
	// lockClient serializes the write limit's count and insert of one
	// client (see insertLimited) on conn, and returns the release.
	lockClient func(ctx context.Context, conn *sqlx.Conn, client string) (release func(), err error)
}

// dialects are the store's side of each driver in config.
var dialects = []dialect{
	{Dialect: config.SQLite, driverName: "sqlite", dsn: sqliteDSN, tunePool: sqlitePool, migrations: sqliteMigrations, lock: sqliteLock, lockClient: sqliteLockClient},
	{Dialect: config.MySQL, driverName: "mysql", dsn: mysqlDSN, tunePool: mysqlPool, migrations: mysqlMigrations, lock: noLock, lockClient: mysqlLockClient},
}

func dialectOf(driver string) (dialect, error) {
	want, err := config.LookupDialect(driver)
	if err != nil {
		return dialect{}, err
	}
	for _, d := range dialects {
		if d.Dialect == want {
			return d, nil
		}
	}
	return dialect{}, fmt.Errorf("database.driver: %q has no store dialect", driver) // a driver added to config alone
}

// mysqlDSN adds what guestbook relies on when the DSN lacks it: parseTime,
// utf8mb4, UTC, and dial/read/write timeouts so a dead server can't hang a
// request forever.
func mysqlDSN(configured string) (string, string, error) {
	c, err := mysql.ParseDSN(configured)
	if err != nil {
		return "", "", err
	}
	c.ParseTime = true
	// A connection that meets a read-only server (a demoted writer after a
	// failover) is dropped rather than kept in the pool.
	c.RejectReadOnly = true
	// Send each statement with its values in it rather than preparing it,
	// executing it and closing it: one round trip instead of two, and a
	// third of the server's work per query, unless the DSN says
	// interpolateParams=false. The driver escapes the values itself, which
	// is safe in utf8mb4 but not in a few multibyte character sets (gbk,
	// big5, sjis...), where an escaped quote can be made part of a
	// character: so a DSN may name no character set other than utf8mb4.
	params := dsnParams(configured)
	if cs := params.Get("charset"); cs != "" {
		for _, name := range strings.Split(cs, ",") {
			if name != "utf8mb4" {
				return "", "", fmt.Errorf("charset %s: guestbook stores text as utf8mb4 and needs that character set", name)
			}
		}
	}
	if !params.Has("interpolateParams") {
		c.InterpolateParams = true
	}
	if c.Collation == "" {
		c.Collation = "utf8mb4_unicode_ci"
	}
	if c.Timeout == 0 {
		c.Timeout = 5 * time.Second
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = 30 * time.Second
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = 30 * time.Second
	}
	host := c.Addr
	if host == "" {
		host = "127.0.0.1:3306"
	}
	return c.FormatDSN(), host, nil
}

// dsnParams are the parameters after a DSN's database name, as the driver
// finds them: after the last slash (a password may hold one), then the "?".
func dsnParams(dsn string) url.Values {
	rest := dsn[strings.LastIndex(dsn, "/")+1:]
	_, query, ok := strings.Cut(rest, "?")
	if !ok {
		return nil
	}
	v, _ := url.ParseQuery(query)
	return v
}

func mysqlPool(db *sql.DB, cfg config.Database) {
	db.SetMaxOpenConns(cfg.MaxOpenConns)
	db.SetMaxIdleConns(cfg.MaxIdleConns)
	db.SetConnMaxLifetime(cfg.ConnMaxLifetime)
	db.SetConnMaxIdleTime(time.Minute)
}

// sqliteDSN opens the file in WAL mode (readers don't block the writer), syncs
// every commit to disk (an acknowledged entry survives a power cut), waits
// on a busy database instead of failing, and starts write transactions
// immediately so two writers can't deadlock upgrading their locks.
func sqliteDSN(path string) (string, string, error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	return "file:" + path + "?" + q.Encode(), path, nil
}

func sqlitePool(db *sql.DB, cfg config.Database) {
	db.SetMaxOpenConns(cfg.MaxOpenConns)
	db.SetMaxIdleConns(max(cfg.MaxIdleConns, 1))
	db.SetConnMaxLifetime(cfg.ConnMaxLifetime)
}

func sqliteMigrations(db *sql.DB) (database.Driver, error) {
	return migratesqlite.WithInstance(db, &migratesqlite.Config{})
}

func mysqlMigrations(db *sql.DB) (database.Driver, error) {
	return migratemysql.WithInstance(db, &migratemysql.Config{})
}

// sqliteLock takes a lock on the database file (see lockFile), waiting for
// another migration to finish.
func sqliteLock(ctx context.Context, cfg config.Database) (func(), error) {
	return lockFile(ctx, cfg.Primary)
}

// noLock is the lock of a driver whose migrations lock themselves.
func noLock(context.Context, config.Database) (func(), error) { return func() {}, nil }
