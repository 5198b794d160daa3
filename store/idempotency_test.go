package store_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/store"
	"github.com/guestbook/guestbook/store/storetest"
)

func keyed(key string, d store.Draft) store.Keyed {
	return store.Keyed{Key: key, Scope: "api", Draft: d}
}

func mustCreateOnce(t *testing.T, db *store.DB, k store.Keyed, secret string) (store.Entry, bool) {
	t.Helper()
	e, created, err := db.CreateEntryOnce(context.Background(), k, secret)
	if err != nil {
		t.Fatalf("CreateEntryOnce(%+v): %v", k, err)
	}
	return e, created
}

// countRows counts the rows of entries in the database itself, past any
// routing.
func countRows(t *testing.T, cfg config.Database) int {
	t.Helper()
	var n int
	if err := rawDB(t, cfg.Driver, cfg.Primary).Get(&n, "SELECT COUNT(*) FROM entries"); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestValidKeyTakesOneTo64LettersDigitsDashesAndUnderscores(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want bool
	}{
		{"a", true},
		{"Z9", true},
		{"8e03978e-40d5-43e8-bc93-6894a57f9324", true},
		{"AbC_-xyz012", true},
		{strings.Repeat("k", 64), true},
		{"", false},
		{strings.Repeat("k", 65), false},
		{"has space", false},
		{"dot.ted", false},
		{"slash/", false},
		{"plus+", false},
		{"equals=", false},
		{`"quoted"`, false},
		{"키", false},
		{"nul\x00", false},
	} {
		if got := store.ValidKey(tc.key); got != tc.want {
			t.Errorf("ValidKey(%q) = %v, want %v", tc.key, got, tc.want)
		}
	}
}

func TestRequestHashIsOfTheNormalizedDraftAndItsScope(t *testing.T) {
	base := store.Keyed{Key: "k", Scope: "api", Draft: store.Draft{Name: "홍길동", Email: "h@example.com", Day: "", Content: "첫 줄\n둘째 줄"}}
	same := []store.Keyed{
		{Key: "k", Scope: "api", Draft: store.Draft{Name: " 홍길동 ", Email: "h@example.com ", Day: " ", Content: "첫 줄\r\n둘째 줄\n"}},
		{Key: "other-key", Scope: "api", Draft: base.Draft},
	}
	for _, k := range same {
		if k.RequestHash() != base.RequestHash() {
			t.Errorf("%+v hashes unlike %+v, but asks for the same", k, base)
		}
	}
	other := []store.Keyed{
		{Key: "k", Scope: "form", Draft: base.Draft},
		{Key: "k", Scope: "api", Draft: store.Draft{Name: "홍길", Email: "동h@example.com", Content: base.Draft.Content}},
		{Key: "k", Scope: "api", Draft: store.Draft{Name: "홍길동", Email: "h@example.com", Day: "2026-11-25", Content: base.Draft.Content}},
		{Key: "k", Scope: "api", Draft: store.Draft{Name: "홍길동", Email: "h@example.com", Content: "첫 줄"}},
	}
	for _, k := range other {
		if k.RequestHash() == base.RequestHash() {
			t.Errorf("%+v hashes like %+v, but asks for something else", k, base)
		}
	}
}

func TestCreateWithTheSameKeyTwiceStoresOneRowAndReturnsTheSameEntry(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			db, cfg := storetest.Open(t, driver)
			first, created := mustCreateOnce(t, db, keyed("key-1", draft(1)), "first-secret")
			if !created || first.ID <= 0 {
				t.Fatalf("first create: created %v, entry %+v", created, first)
			}
			// A resend: the draft as the client sent it again, and whatever
			// secret the caller makes this time.
			again, created := mustCreateOnce(t, db, keyed("key-1", draft(1)), "another-secret")
			if created {
				t.Error("the resend says it created the entry")
			}
			if again.ID != first.ID || again.Name != first.Name || again.Content != first.Content || !again.CreatedAt.Equal(first.CreatedAt) {
				t.Errorf("resend returned %+v, want the first entry %+v", again, first)
			}
			if !again.CanDelete("first-secret") || again.CanDelete("another-secret") {
				t.Error("the resend changed the stored delete secret")
			}
			if again.CreatedAt.Location() != time.UTC {
				t.Errorf("created_at read back in %v, want UTC as the first answer gave it", again.CreatedAt.Location())
			}
			if n := countRows(t, cfg); n != 1 {
				t.Errorf("%d rows after a create and its resend, want 1", n)
			}
		})
	}
}

func TestCreateWithAUsedKeyAndAnotherBodyIsKeyReusedAndStoresNothing(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			db, cfg := storetest.Open(t, driver)
			mustCreateOnce(t, db, keyed("key-1", draft(1)), "s")
			for name, k := range map[string]store.Keyed{
				"another draft": keyed("key-1", draft(2)),
				"another scope": {Key: "key-1", Scope: "form", Draft: draft(1)},
			} {
				if _, _, err := db.CreateEntryOnce(context.Background(), k, "s"); !errors.Is(err, store.ErrKeyReused) {
					t.Errorf("%s with a used key: %v, want ErrKeyReused", name, err)
				}
			}
			if n := countRows(t, cfg); n != 1 {
				t.Errorf("%d rows, want 1", n)
			}
		})
	}
}

func TestKeysAreCaseSensitive(t *testing.T) {
	eachDriver(t, func(t *testing.T, db *store.DB) {
		a, _ := mustCreateOnce(t, db, keyed("abc", draft(1)), "s")
		b, created := mustCreateOnce(t, db, keyed("ABC", draft(2)), "s")
		if !created || a.ID == b.ID {
			t.Errorf("key ABC found the entry of key abc")
		}
	})
}

func TestAnInvalidKeyedDraftStoresNothingAndLeavesTheKeyFree(t *testing.T) {
	eachDriver(t, func(t *testing.T, db *store.DB) {
		_, _, err := db.CreateEntryOnce(context.Background(), keyed("key-1", store.Draft{Name: "a", Email: "x", Content: "c"}), "s")
		var ve *store.ValidationError
		if !errors.As(err, &ve) || ve.Fields["email"] != store.ProblemInvalidEmail {
			t.Fatalf("invalid draft: %v, want a ValidationError on email", err)
		}
		// The form shows the draft again with the same key; fixed, it goes in.
		if _, created := mustCreateOnce(t, db, keyed("key-1", draft(1)), "s"); !created {
			t.Error("the key of a refused draft was taken")
		}
	})
}

func TestManyEntriesWithoutAKeyLiveBesideTheUniqueIndex(t *testing.T) {
	eachDriver(t, func(t *testing.T, db *store.DB) {
		for i := range 3 {
			mustCreate(t, db, draft(i), "s") // idempotency_key NULL
		}
		mustCreateOnce(t, db, keyed("key-1", draft(9)), "s")
		if p := mustList(t, db, 0, 100); len(p.Entries) != 4 {
			t.Errorf("%d entries, want 4", len(p.Entries))
		}
	})
}

func TestConcurrentCreatesWithOneKeyStoreOneRowAndAllGetIt(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			db, cfg := storetest.Open(t, driver)
			const n = 16
			var (
				wg      sync.WaitGroup
				start   = make(chan struct{})
				entries [n]store.Entry
				created [n]bool
				errs    [n]error
			)
			for i := range n {
				wg.Go(func() {
					<-start
					entries[i], created[i], errs[i] = db.CreateEntryOnce(context.Background(), keyed("one-key", draft(1)), "s")
				})
			}
			close(start)
			wg.Wait()
			made := 0
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("create %d: %v", i, errs[i])
				}
				if created[i] {
					made++
				}
				if entries[i].ID != entries[0].ID {
					t.Errorf("create %d got entry %d, create 0 got %d", i, entries[i].ID, entries[0].ID)
				}
			}
			if made != 1 {
				t.Errorf("%d creates say they stored the entry, want 1", made)
			}
			if rows := countRows(t, cfg); rows != 1 {
				t.Errorf("%d rows after %d concurrent creates with one key, want 1", rows, n)
			}
		})
	}
}

func TestAResendFindsTheEntryOnThePrimaryWhileTheReplicaLags(t *testing.T) {
	// A lag allowance long enough that the paused replica stays in rotation:
	// a resend that looked on it would not find the first entry.
	r := openReplicated(t, func(c *config.Database) { c.MaxReplicaLag = time.Minute })
	r.replica.PauseReplication(t)
	first, _, err := r.db.CreateEntryOnce(context.Background(), keyed("key-1", draft(1)), "s")
	if err != nil {
		t.Fatal(err)
	}
	again, created, err := r.db.CreateEntryOnce(context.Background(), keyed("key-1", draft(1)), "s")
	if err != nil || created || again.ID != first.ID {
		t.Errorf("resend while the replica lags: %+v created=%v err=%v, want entry %d", again, created, err, first.ID)
	}
	r.replica.ResumeReplication(t)
	r.replica.WaitCaughtUp(t, r.primary)
	var n int
	if err := rawDB(t, "mysql", r.cfg.Primary).Get(&n, "SELECT COUNT(*) FROM entries"); err != nil || n != 1 {
		t.Errorf("%d rows (%v), want 1", n, err)
	}
}

func TestAKeyedEntryDeletedIsGoneOnceAndItsKeyFree(t *testing.T) {
	eachDriver(t, func(t *testing.T, db *store.DB) {
		e, _ := mustCreateOnce(t, db, keyed("key-1", draft(1)), "s")
		if err := db.DeleteEntry(context.Background(), e.ID, "s"); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteEntry(context.Background(), e.ID, "s"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("second delete: %v, want ErrNotFound", err)
		}
		// The key went with its entry: a create sent with it after the
		// delete is a new entry.
		if again, created := mustCreateOnce(t, db, keyed("key-1", draft(1)), "s"); !created || again.ID == e.ID {
			t.Errorf("create after delete: %+v created=%v", again, created)
		}
	})
}

// The key is what the app tier derives an entry's delete secret from: the
// database holds only its hash, so a reader of a dump can't derive secrets.
func TestTheDatabaseHoldsTheKeysHashNeverTheKey(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			db, cfg := storetest.Open(t, driver)
			k := store.Keyed{Key: "secret-key-1", Scope: "api", Draft: draft(1)}
			if _, _, err := db.CreateEntryOnce(context.Background(), k, "s"); err != nil {
				t.Fatal(err)
			}
			raw, err := sql.Open(driver, cfg.Primary)
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			var stored string
			if err := raw.QueryRow("SELECT idempotency_key FROM entries").Scan(&stored); err != nil {
				t.Fatal(err)
			}
			if stored == k.Key || stored != store.HashSecret(k.Key) {
				t.Errorf("idempotency_key holds %q, want the key's SHA-256", stored)
			}
		})
	}
}
