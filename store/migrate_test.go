package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/store"
	"github.com/guestbook/guestbook/store/storetest"
)

func openMigrator(t *testing.T, cfg config.Database) *store.Migrator {
	t.Helper()
	mg, err := store.OpenMigrator(context.Background(), cfg, storetest.Logger(t))
	if err != nil {
		t.Fatalf("OpenMigrator: %v", err)
	}
	t.Cleanup(func() { mg.Close() })
	return mg
}

func latest(t *testing.T, driver string) uint {
	t.Helper()
	v, err := store.LatestVersion(driver)
	if err != nil || v < 1 {
		t.Fatalf("LatestVersion(%s) = %d, %v", driver, v, err)
	}
	return v
}

func TestServingAnUnmigratedDatabaseIsRefusedUntilMigrated(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			cfg := storetest.Config(t, driver)
			db, err := store.Open(context.Background(), cfg, store.Options{Log: storetest.Logger(t)})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			err = db.CheckSchema(context.Background())
			if !errors.Is(err, store.ErrSchemaBehind) || !strings.Contains(err.Error(), "guestbook migrate") {
				t.Fatalf("CheckSchema on an empty database = %v, want ErrSchemaBehind telling to run guestbook migrate", err)
			}
			if err := openMigrator(t, cfg).Up(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := db.CheckSchema(context.Background()); err != nil {
				t.Fatalf("CheckSchema after migrate = %v", err)
			}
		})
	}
}

func TestMigrateUpDownAndVersion(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			cfg := storetest.Config(t, driver)
			mg := openMigrator(t, cfg)
			if v, dirty, err := mg.Version(); v != 0 || dirty || err != nil {
				t.Fatalf("Version of an empty database = %d, %v, %v", v, dirty, err)
			}
			if err := mg.Up(ctx); err != nil {
				t.Fatal(err)
			}
			if v, _, _ := mg.Version(); v != latest(t, driver) {
				t.Fatalf("after up: version %d, want %d", v, latest(t, driver))
			}
			if err := mg.Up(ctx); err != nil {
				t.Fatalf("up on a current schema must do nothing, got %v", err)
			}
			if err := mg.Down(ctx, int(latest(t, driver))); err != nil {
				t.Fatal(err)
			}
			if v, _, _ := mg.Version(); v != 0 {
				t.Fatalf("after down: version %d, want 0", v)
			}
			if err := mg.Down(ctx, 0); err == nil {
				t.Error("Down(0) succeeded")
			}
		})
	}
}

func TestConcurrentMigrationsTakeTurns(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			cfg := storetest.Config(t, driver)
			const n = 8
			errs := make([]error, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					mg, err := store.OpenMigrator(context.Background(), cfg, storetest.Logger(t))
					if err != nil {
						errs[i] = err
						return
					}
					defer mg.Close()
					errs[i] = mg.Up(context.Background())
				}()
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				if err != nil {
					t.Errorf("migrator %d: %v", i, err)
				}
			}
			if v, dirty, err := openMigrator(t, cfg).Version(); v != latest(t, driver) || dirty || err != nil {
				t.Errorf("version after concurrent ups = %d dirty=%v err=%v", v, dirty, err)
			}
		})
	}
}

func TestADirtySchemaIsRefusedUntilForced(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			db, cfg := storetest.Open(t, driver)
			raw := rawDB(t, cfg.Driver, cfg.Primary)
			if _, err := raw.Exec("UPDATE schema_migrations SET dirty = 1"); err != nil {
				t.Fatal(err)
			}
			if err := db.CheckSchema(ctx); !errors.Is(err, store.ErrSchemaBehind) || !strings.Contains(err.Error(), "dirty") {
				t.Fatalf("CheckSchema on a dirty schema = %v", err)
			}
			if err := openMigrator(t, cfg).Force(ctx, int(latest(t, driver))); err != nil {
				t.Fatal(err)
			}
			if err := db.CheckSchema(ctx); err != nil {
				t.Fatalf("CheckSchema after force = %v", err)
			}
		})
	}
}

func TestAnUnreachableDatabaseNamesItsHostNeverThePassword(t *testing.T) {
	addr := storetest.FreeAddr(t)
	cfg := storetest.Config(t, "sqlite")
	cfg.Driver = "mysql"
	cfg.Primary = fmt.Sprintf("guestbook:pa55word-xyz@tcp(%s)/guestbook", addr)
	cfg.ConnectTimeout = 700 * time.Millisecond
	start := time.Now()
	_, err := store.Open(context.Background(), cfg, store.Options{Log: storetest.Logger(t)})
	if err == nil {
		t.Fatal("Open of an unreachable database succeeded")
	}
	if !strings.Contains(err.Error(), addr) || strings.Contains(err.Error(), "pa55word") {
		t.Errorf("error %q must name %s and not the password", err, addr)
	}
	if waited := time.Since(start); waited < 600*time.Millisecond || waited > 10*time.Second {
		t.Errorf("gave up after %s, want about the connect timeout", waited)
	}
	if _, err := store.OpenMigrator(context.Background(), cfg, storetest.Logger(t)); err == nil ||
		!strings.Contains(err.Error(), addr) || strings.Contains(err.Error(), "pa55word") {
		t.Errorf("OpenMigrator error %v must name %s and not the password", err, addr)
	}
}

func TestABadPasswordFailsAtOnceWithoutRetrying(t *testing.T) {
	c, err := mysql.ParseDSN(storetest.NewMySQLDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	c.User, c.Passwd = "nobody", "wrong-pa55"
	cfg := storetest.Config(t, "sqlite")
	cfg.Driver, cfg.Primary, cfg.ConnectTimeout = "mysql", c.FormatDSN(), 20*time.Second
	start := time.Now()
	_, err = store.Open(context.Background(), cfg, store.Options{Log: storetest.Logger(t)})
	if err == nil || !strings.Contains(err.Error(), c.Addr) || strings.Contains(err.Error(), "wrong-pa55") {
		t.Fatalf("Open with a bad password = %v; want an error naming %s without the password", err, c.Addr)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %s: a bad password must not be retried until the timeout", time.Since(start))
	}
}

func TestAMalformedDSNIsAnErrorNamingTheKey(t *testing.T) {
	cfg := storetest.Config(t, "sqlite")
	cfg.Driver, cfg.Primary = "mysql", "not a dsn"
	if _, err := store.Open(context.Background(), cfg, store.Options{Log: storetest.Logger(t)}); err == nil || !strings.Contains(err.Error(), "database.primary") {
		t.Errorf("Open(malformed DSN) = %v, want an error naming database.primary", err)
	}
}

func TestAnInterruptedWaitSaysSoAndNotTimeout(t *testing.T) {
	cfg := storetest.Config(t, "sqlite")
	cfg.Driver = "mysql"
	cfg.Primary = "gb:pw@tcp(" + storetest.FreeAddr(t) + ")/gb"
	cfg.ConnectTimeout = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	_, err := store.Open(ctx, cfg, store.Options{Log: storetest.Logger(t)})
	if err == nil || !strings.Contains(err.Error(), "interrupted") || strings.Contains(err.Error(), "after 1m") {
		t.Fatalf("Open interrupted = %v, want it to say interrupted", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %s to notice the interrupt", time.Since(start))
	}
}

// TestMigrateUpLeavesANewerSchemaAlone is a rollback after an upgrade: the
// older binary's migrate (run by its unit before every start) must not fail.
func TestMigrateUpLeavesANewerSchemaAlone(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			_, cfg := storetest.Open(t, driver)
			raw := rawDB(t, cfg.Driver, cfg.Primary)
			if _, err := raw.Exec("UPDATE schema_migrations SET version = 99"); err != nil {
				t.Fatal(err)
			}
			mg := openMigrator(t, cfg)
			if err := mg.Up(context.Background()); err != nil {
				t.Fatalf("migrate up on a newer schema = %v, want nothing done", err)
			}
			if v, _, _ := mg.Version(); v != 99 {
				t.Errorf("version %d after up, want 99 untouched", v)
			}
		})
	}
}
