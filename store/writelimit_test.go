package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guestbook/guestbook/store"
	"github.com/guestbook/guestbook/store/storetest"
)

// clock is a store's clock that a test moves by hand.
type clock struct{ now atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.now.Store(time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC).UnixNano())
	return c
}

func (c *clock) Now() time.Time          { return time.Unix(0, c.now.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.now.Add(int64(d)) }
func sender(hash string, limit int) store.Sender {
	return store.Sender{Hash: hash, Limit: limit, Window: time.Minute}
}

func from(s store.Sender, n int) store.Draft {
	d := draft(n)
	d.Sender = s
	return d
}

// limitError is err's *LimitError, failing the test when it is none.
func limitError(t *testing.T, err error) *store.LimitError {
	t.Helper()
	var le *store.LimitError
	if !errors.As(err, &le) || !errors.Is(err, store.ErrWriteLimited) || errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("error %v, want a *LimitError wrapping ErrWriteLimited (and not ErrUnavailable)", err)
	}
	return le
}

func TestTheWriteLimitRefusesTheCreateOverItStoringNothingUntilTheWindowHasPassed(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			c := newClock()
			db, cfg := storetest.OpenAt(t, driver, c.Now)
			ctx := context.Background()
			alice := sender("alice", 3)
			first := mustCreate(t, db, from(alice, 1), "s")
			c.Advance(10 * time.Second)
			mustCreate(t, db, from(alice, 2), "s")
			mustCreate(t, db, from(alice, 3), "s")
			c.Advance(20 * time.Second)
			_, err := db.CreateEntry(ctx, from(alice, 4), "s")
			if le := limitError(t, err); !le.RetryAt.Equal(first.CreatedAt.Add(time.Minute)) {
				t.Errorf("RetryAt %s, want the first entry's time plus the window, %s", le.RetryAt, first.CreatedAt.Add(time.Minute))
			}
			if n := countRows(t, cfg); n != 3 {
				t.Fatalf("%d rows after a refused create, want 3", n)
			}
			// Another client, and nobody (no hash), are not limited by alice.
			mustCreate(t, db, from(sender("bob", 3), 5), "s")
			mustCreate(t, db, draft(6), "s")

			c.Advance(30*time.Second - time.Microsecond) // a microsecond before the first leaves the window
			_, err = db.CreateEntry(ctx, from(alice, 7), "s")
			limitError(t, err)
			c.Advance(time.Microsecond) // exactly a window after the first: it no longer counts
			mustCreate(t, db, from(alice, 8), "s")
			_, err = db.CreateEntry(ctx, from(alice, 9), "s")
			limitError(t, err)
		})
	}
}

func TestEachEntryKeepsItsClientHash(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			db, cfg := storetest.Open(t, driver)
			limited := mustCreate(t, db, from(sender("c1", 5), 1), "s")
			unlimited := mustCreate(t, db, from(store.Sender{Hash: "c2"}, 2), "s")
			nobody := mustCreate(t, db, draft(3), "s")
			keyed, _ := mustCreateOnce(t, db, keyed("k1", from(sender("c3", 5), 4)), "s")
			raw := rawDB(t, cfg.Driver, cfg.Primary)
			for id, want := range map[int64]any{limited.ID: "c1", unlimited.ID: "c2", nobody.ID: nil, keyed.ID: "c3"} {
				var got *string
				if err := raw.Get(&got, "SELECT client_hash FROM entries WHERE id = ?", id); err != nil {
					t.Fatal(err)
				}
				switch {
				case want == nil && got != nil:
					t.Errorf("entry %d: client_hash %q, want NULL", id, *got)
				case want != nil && (got == nil || *got != want):
					t.Errorf("entry %d: client_hash %v, want %q", id, got, want)
				}
			}
		})
	}
}

func TestKeyedCreatesCountAndAResendIsNeverRefused(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			db, cfg := storetest.Open(t, driver)
			ctx := context.Background()
			s := sender("carol", 2)
			first, created := mustCreateOnce(t, db, keyed("key-1", from(s, 1)), "s")
			if !created {
				t.Fatal("the first keyed create was not stored")
			}
			mustCreate(t, db, from(s, 2), "s")
			_, _, err := db.CreateEntryOnce(ctx, keyed("key-3", from(s, 3)), "s")
			limitError(t, err)
			// The first create sent again: it stores nothing, so the limit
			// does not refuse it; it answers as the first did.
			again, created := mustCreateOnce(t, db, keyed("key-1", from(s, 1)), "s")
			if created || again.ID != first.ID {
				t.Errorf("resend: created=%v id %d, want the first entry %d", created, again.ID, first.ID)
			}
			if n := countRows(t, cfg); n != 2 {
				t.Errorf("%d rows, want 2", n)
			}
			// The refused key stored nothing: it is free.
			if _, _, err := db.CreateEntryOnce(ctx, keyed("key-3", from(sender("dave", 2), 3)), "s"); err != nil {
				t.Errorf("the refused key, from another client: %v", err)
			}
		})
	}
}

// TestTheWriteLimitIsExactUnderConcurrentCreatesFromTwoStores is two app
// instances taking one client's burst at once: exactly the limit is stored.
func TestTheWriteLimitIsExactUnderConcurrentCreatesFromTwoStores(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			one, cfg := storetest.Open(t, driver)
			two, err := store.Open(context.Background(), cfg, store.Options{Log: storetest.Logger(t)})
			if err != nil {
				t.Fatal(err)
			}
			defer two.Close()
			const limit, tries = 5, 24
			s := sender("eve", limit)
			var (
				wg              sync.WaitGroup
				stored, refused atomic.Int32
				mu              sync.Mutex
				others          []error
				start           = make(chan struct{})
			)
			for i := range tries {
				wg.Add(1)
				go func() {
					defer wg.Done()
					db := []*store.DB{one, two}[i%2]
					<-start
					var err error
					if i%3 == 0 {
						_, _, err = db.CreateEntryOnce(context.Background(), keyed(fmt.Sprintf("burst-%d", i), from(s, i)), "s")
					} else {
						_, err = db.CreateEntry(context.Background(), from(s, i), "s")
					}
					switch {
					case err == nil:
						stored.Add(1)
					case errors.Is(err, store.ErrWriteLimited):
						refused.Add(1)
					default:
						mu.Lock()
						others = append(others, err)
						mu.Unlock()
					}
				}()
			}
			close(start)
			wg.Wait()
			for _, err := range others {
				t.Errorf("a create failed otherwise: %v", err)
			}
			if stored.Load() != limit || refused.Load() != tries-limit {
				t.Errorf("%d stored and %d refused of %d at once, want exactly %d stored", stored.Load(), refused.Load(), tries, limit)
			}
			if n := countRows(t, cfg); n != limit {
				t.Errorf("%d rows, want %d", n, limit)
			}
		})
	}
}

func TestTheSecretIsMadeOnceByMigrateAndSharedByEveryStore(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			ctx := context.Background()
			one, cfg := storetest.Open(t, driver)
			two, err := store.Open(ctx, cfg, store.Options{Log: storetest.Logger(t)})
			if err != nil {
				t.Fatal(err)
			}
			defer two.Close()
			a, err := one.Secret(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(a) != 32 || bytes.Equal(a, make([]byte, 32)) {
				t.Fatalf("secret of %d bytes %x, want 32 random ones", len(a), a)
			}
			storetest.Migrate(t, cfg) // a second migrate makes no new one
			b, err := two.Secret(ctx)
			if err != nil || !bytes.Equal(a, b) {
				t.Errorf("the second store's secret differs (err %v)", err)
			}
			other, _ := storetest.Open(t, driver)
			c, err := other.Secret(ctx)
			if err != nil || bytes.Equal(a, c) {
				t.Errorf("two databases have the same secret (err %v)", err)
			}
		})
	}
}

// A create whose client's lock another session holds (a create of the same
// client stuck in its commit) is refused as writing too fast, within about a
// second, and is no verdict on the writer: the next create, of another
// client, is stored on the same primary.
func TestACreateWaitingTooLongForItsClientsLockIsRefusedAndTheWriterKept(t *testing.T) {
	db, cfg := storetest.Open(t, "mysql")
	held := rawDB(t, cfg.Driver, cfg.Primary)
	conn, err := held.Connx(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	s := sender("stuck", 5)
	var got int
	if err := conn.GetContext(context.Background(), &got,
		`SELECT GET_LOCK(SHA1(CONCAT(DATABASE(), ' guestbook write limit ', ?)), 0)`, s.Hash); err != nil || got != 1 {
		t.Fatalf("take the client's lock from another session: %d %v", got, err)
	}

	start := time.Now()
	_, err = db.CreateEntry(context.Background(), from(s, 1), "s")
	took := time.Since(start)
	limitError(t, err)
	if took >= 2*time.Second { // database.query_timeout: the attempt's deadline
		t.Errorf("refused after %s, want before the query's deadline (2s): waited out, the attempt is judged a dead writer", took)
	}
	if _, err := db.CreateEntry(context.Background(), from(sender("someone-else", 5), 2), "s"); err != nil {
		t.Fatalf("the next create, of another client, on the same writer: %v", err)
	}
	if n := countRows(t, cfg); n != 1 {
		t.Errorf("%d rows, want the other client's 1", n)
	}
}
