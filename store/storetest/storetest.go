// Package storetest gives tests real databases: a migrated SQLite file in a
// temp dir, or a fresh database on the MariaDB server that scripts/with-mariadb
// started (GBTEST_MYSQL_DSN, and its replica GBTEST_MYSQL_REPLICA_DSN). Each is
// removed when the test ends. Tests that must stop, freeze or promote a server
// start private ones instead: StartServer and StartPair.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"log/slog"
	mathrand "math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/internal/httpcheck"
	"github.com/guestbook/guestbook/store"
)

// Drivers are the database drivers every store test runs on.
var Drivers = []string{"sqlite", "mysql"}

// Config returns a database configuration for driver on a fresh, empty
// database (not migrated) that is dropped when t ends.
func Config(t testing.TB, driver string) config.Database {
	t.Helper()
	cfg := config.Default().Database
	cfg.Driver = driver
	cfg.ConnectTimeout = 10 * time.Second
	switch driver {
	case "sqlite":
		cfg.Primary = filepath.Join(t.TempDir(), "guestbook.db")
	case "mysql":
		cfg.Primary = NewMySQLDatabase(t)
	default:
		t.Fatalf("storetest: unknown driver %q", driver)
	}
	return cfg
}

// Open returns a migrated store on a fresh database of driver, closed and
// dropped when t ends.
func Open(t testing.TB, driver string) (*store.DB, config.Database) {
	t.Helper()
	return OpenAt(t, driver, nil)
}

// OpenAt is Open with the store's clock set to now (time.Now when nil), so
// that a test of "today" passes on any day.
func OpenAt(t testing.TB, driver string, now func() time.Time) (*store.DB, config.Database) {
	t.Helper()
	cfg := Config(t, driver)
	Migrate(t, cfg)
	db, err := store.Open(context.Background(), cfg, store.Options{Log: Logger(t), Now: now})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db, cfg
}

// Migrate brings cfg's database up to the newest schema.
func Migrate(t testing.TB, cfg config.Database) {
	t.Helper()
	mg, err := store.OpenMigrator(context.Background(), cfg, Logger(t))
	if err != nil {
		t.Fatalf("open migrator: %v", err)
	}
	defer mg.Close()
	if err := mg.Up(context.Background()); err != nil {
		t.Fatalf("migrate up: %v", err)
	}
}

// ServerDSN is the DSN of the test MariaDB server, with no database. Without
// GBTEST_MYSQL_DSN the test is skipped, unless GBTEST_REQUIRE_MYSQL is set
// (as make test sets it), where a skip would hide a missing server.
func ServerDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("GBTEST_MYSQL_DSN")
	if dsn == "" {
		if os.Getenv("GBTEST_REQUIRE_MYSQL") != "" {
			t.Fatal("GBTEST_REQUIRE_MYSQL is set but GBTEST_MYSQL_DSN is not: run the tests through scripts/with-mariadb")
		}
		t.Skip("needs MariaDB: run `make test`, or set GBTEST_MYSQL_DSN=root@tcp(127.0.0.1:3306)/")
	}
	return dsn
}

// ReplicaDSN is the DSN of the test server's replica, with no database:
// scripts/with-mariadb --replica starts it replicating (GTID, read_only) from
// the server of ServerDSN. Without GBTEST_MYSQL_REPLICA_DSN the test is
// skipped, unless GBTEST_REQUIRE_MYSQL is set, as for ServerDSN.
func ReplicaDSN(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv("GBTEST_MYSQL_REPLICA_DSN")
	if dsn == "" {
		if os.Getenv("GBTEST_REQUIRE_MYSQL") != "" {
			t.Fatal("GBTEST_REQUIRE_MYSQL is set but GBTEST_MYSQL_REPLICA_DSN is not: run the tests through scripts/with-mariadb --replica")
		}
		t.Skip("needs a MariaDB replica: run `make test`, or scripts/with-mariadb --replica go test ./...")
	}
	return dsn
}

// NewMySQLDatabase creates an empty database on the test server and returns
// its DSN; the database is dropped when t ends.
func NewMySQLDatabase(t testing.TB) string {
	t.Helper()
	c, err := mysql.ParseDSN(ServerDSN(t))
	if err != nil {
		t.Fatalf("GBTEST_MYSQL_DSN: %v", err)
	}
	admin, err := sql.Open("mysql", c.FormatDSN())
	if err != nil {
		t.Fatalf("connect to test server: %v", err)
	}
	t.Cleanup(func() { admin.Close() })
	name := "gbtest_" + randomHex(6)
	if _, err := admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP DATABASE IF EXISTS " + name); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	c.DBName = name
	return c.FormatDSN()
}

// Logger discards logs unless the test runs with -v, where they go to stderr.
func Logger(t testing.TB) *slog.Logger { return httpcheck.Logger(t) }

// FreeAddr is a loopback address that nothing listens on (as of now): for a
// server to bind, or for a database that must not answer. Its port is below
// the kernel's ephemeral range (32768 and up by default): a server starts
// listening on it only a moment later, and in that moment a port of that
// range may become the local end of a connection something else opens, so
// that the listen fails with "address already in use". Outgoing connections
// never take a port below the range.
func FreeAddr(t testing.TB) string {
	t.Helper()
	for range 100 {
		addr := fmt.Sprintf("127.0.0.1:%d", 20000+mathrand.IntN(12000))
		if l, err := net.Listen("tcp", addr); err == nil {
			l.Close()
			return addr
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
