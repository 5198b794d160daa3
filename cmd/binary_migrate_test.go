package cmd_test

// Tests of the binary against real databases: SQLite files and fresh
// databases on the MariaDB server of scripts/with-mariadb. The MySQL ones
// skip under plain `go test` without it and fail under `make test`.

import (
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/guestbook/guestbook/store"
	"github.com/guestbook/guestbook/store/storetest"
)

// database is a fresh, empty database for the binary: the directory to run
// it in and the variables that point it there.
type database struct {
	driver string
	dir    string
	env    []string // GUESTBOOK_DATABASE_ variables only
	host   string   // as messages name it
}

func newDatabase(t *testing.T, driver string) database {
	t.Helper()
	db := database{driver: driver, dir: t.TempDir()}
	switch driver {
	case "sqlite":
		db.host = "guestbook.db" // the default, in the working directory
	case "mysql":
		dsn := storetest.NewMySQLDatabase(t)
		c, err := mysql.ParseDSN(dsn)
		if err != nil {
			t.Fatal(err)
		}
		db.host = c.Addr
		db.env = []string{
			"GUESTBOOK_DATABASE_DRIVER=mysql",
			"GUESTBOOK_DATABASE_PRIMARY=" + dsn,
			"GUESTBOOK_DATABASE_CONNECT_TIMEOUT=5s",
		}
	}
	return db
}

// envWith is the clean environment for db plus vars.
func (db database) envWith(vars ...string) []string {
	return cleanEnv(append(append([]string{}, db.env...), vars...)...)
}

func latestVersion(t *testing.T, driver string) int {
	t.Helper()
	v, err := store.LatestVersion(driver)
	if err != nil {
		t.Fatal(err)
	}
	return int(v)
}

// schemaVersion runs `guestbook migrate version` and returns what it printed.
func schemaVersion(t *testing.T, db database) int {
	t.Helper()
	r := mustRun(t, db.dir, db.envWith(), "migrate", "version")
	v, err := strconv.Atoi(strings.TrimSpace(r.stdout))
	if err != nil || strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("migrate version printed %q, want one number", r.stdout)
	}
	return v
}

// serveApp starts `guestbook serve --role=app` with extra args on db and
// checks that /readyz is 200.
func serveApp(t *testing.T, db database, args ...string) *process {
	t.Helper()
	addr := storetest.FreeAddr(t)
	p := serve(t, db.dir, db.envWith("GUESTBOOK_APP_LISTEN="+addr), addr, append([]string{"serve", "--role=app"}, args...)...)
	if code, body := get(t, "http://"+addr+"/readyz"); code != http.StatusOK {
		t.Errorf("GET /readyz: %d, want 200; body:\n%s", code, body)
	}
	return p
}

func TestServeOnAnUnmigratedMySQLRefusesAndSaysToRunMigrate(t *testing.T) {
	db := newDatabase(t, "mysql")
	for _, role := range []string{"all", "app"} {
		t.Run(role, func(t *testing.T) {
			env := db.envWith("GUESTBOOK_WEB_LISTEN="+storetest.FreeAddr(t), "GUESTBOOK_APP_LISTEN="+storetest.FreeAddr(t))
			line := failsWithOneLine(t, run(t, db.dir, env, "serve", "--role="+role))
			if !strings.Contains(line, "guestbook migrate") || !strings.Contains(line, db.host) {
				t.Errorf("%q does not name %s and say to run guestbook migrate", line, db.host)
			}
		})
	}
	if v := schemaVersion(t, db); v != 0 {
		t.Errorf("serve without --migrate changed the schema to version %d", v)
	}
}

func TestMigrateUpVersionAndDownChangeTheSchema(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			db := newDatabase(t, driver)
			latest := latestVersion(t, driver)
			if v := schemaVersion(t, db); v != 0 {
				t.Errorf("a fresh database is at version %d, want 0", v)
			}
			mustRun(t, db.dir, db.envWith(), "migrate")
			if v := schemaVersion(t, db); v != latest {
				t.Errorf("after migrate the version is %d, want %d", v, latest)
			}
			mustRun(t, db.dir, db.envWith(), "migrate", "up") // current already: does nothing
			if v := schemaVersion(t, db); v != latest {
				t.Errorf("after a second migrate the version is %d, want %d", v, latest)
			}

			serveApp(t, db).stop(t, syscall.SIGTERM)

			mustRun(t, db.dir, db.envWith(), "migrate", "down", "1")
			if v := schemaVersion(t, db); v != latest-1 {
				t.Errorf("after migrate down 1 the version is %d, want %d", v, latest-1)
			}
		})
	}
}

func TestMigrateRunsStartedAtTheSameMomentAllSucceed(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			db := newDatabase(t, driver)
			var runs []*process
			for range 3 {
				runs = append(runs, start(t, db.dir, db.envWith(), "migrate"))
			}
			for i, p := range runs {
				if code := p.wait(t, 30*time.Second); code != 0 {
					t.Errorf("migrate %d of 3 exited with code %d; stderr:\n%s", i+1, code, p.stderr.String())
				}
			}
			if v, want := schemaVersion(t, db), latestVersion(t, driver); v != want {
				t.Errorf("after three migrates the version is %d, want %d", v, want)
			}
		})
	}
}

func TestServeWithMigrateFlagMigratesAFreshMySQLDatabase(t *testing.T) {
	db := newDatabase(t, "mysql")
	serveApp(t, db, "--migrate").stop(t, syscall.SIGTERM)
	if v, want := schemaVersion(t, db), latestVersion(t, "mysql"); v != want {
		t.Errorf("after serve --migrate the version is %d, want %d", v, want)
	}
}

func TestMySQLWithAWrongPasswordFailsAtOnceWithoutPrintingIt(t *testing.T) {
	c, err := mysql.ParseDSN(storetest.ServerDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	c.User, c.Passwd, c.DBName = "guestbook", "s3cretpw", "guestbook"
	env := cleanEnv(
		"GUESTBOOK_APP_LISTEN="+storetest.FreeAddr(t),
		"GUESTBOOK_DATABASE_DRIVER=mysql",
		"GUESTBOOK_DATABASE_PRIMARY="+c.FormatDSN(),
		"GUESTBOOK_DATABASE_CONNECT_TIMEOUT=30s",
	)
	for _, args := range [][]string{{"serve", "--role=app"}, {"migrate"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			p := start(t, t.TempDir(), env, args...)
			code := p.wait(t, 10*time.Second) // refused credentials are not retried for 30s
			r := result{stdout: p.stdout.String(), stderr: p.stderr.String(), code: code}
			line := failsWithOneLine(t, r)
			if !strings.Contains(line, c.Addr) {
				t.Errorf("%q does not name the host %s", line, c.Addr)
			}
			if strings.Contains(r.stderr, "s3cretpw") {
				t.Errorf("the password is printed: %q", r.stderr)
			}
		})
	}
}
