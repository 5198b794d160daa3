package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/guestbook/guestbook/store"
	"github.com/guestbook/guestbook/store/storetest"
)

// eachDriver runs test on a fresh migrated store of every driver.
func eachDriver(t *testing.T, test func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			db, _ := storetest.Open(t, driver)
			test(t, db)
		})
	}
}

func mustCreate(t *testing.T, db *store.DB, d store.Draft, secret string) store.Entry {
	t.Helper()
	e, err := db.CreateEntry(context.Background(), d, secret)
	if err != nil {
		t.Fatalf("CreateEntry(%+v): %v", d, err)
	}
	return e
}

func draft(n int) store.Draft {
	return store.Draft{Name: fmt.Sprintf("방문자 %d", n), Email: fmt.Sprintf("v%d@example.com", n), Content: fmt.Sprintf("글 %d", n)}
}

func TestCreateThenGetReturnsTheSameEntry(t *testing.T) {
	eachDriver(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		before := time.Now().Add(-time.Second)
		in := store.Draft{Name: " 홍길동 ", Email: "hong@example.com", Day: "2026년 11월 25일", Content: "안녕하세요\r\n반갑습니다 😀\t끝"}
		created := mustCreate(t, db, in, "secret")
		if created.ID <= 0 {
			t.Fatalf("created id = %d", created.ID)
		}
		got, err := db.GetEntry(ctx, created.ID)
		if err != nil {
			t.Fatalf("GetEntry: %v", err)
		}
		if got.Name != "홍길동" || got.Email != in.Email || got.Day != in.Day || got.Content != "안녕하세요\n반갑습니다 😀\t끝" {
			t.Errorf("stored %+v", got)
		}
		if got.CreatedAt.Before(before) || got.CreatedAt.After(time.Now().Add(time.Second)) {
			t.Errorf("created_at %v is not now", got.CreatedAt)
		}
		if !got.CreatedAt.Equal(created.CreatedAt) {
			t.Errorf("created_at read back %v, created %v", got.CreatedAt, created.CreatedAt)
		}
	})
}

func TestCreateDefaultsDayToTheStoresToday(t *testing.T) {
	// A day that is not the day the test runs: the store must take "today"
	// from its own clock, never from time.Now.
	now := func() time.Time { return time.Date(2031, 2, 3, 12, 0, 0, 0, time.Local) }
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			db, _ := storetest.OpenAt(t, driver, now)
			e := mustCreate(t, db, store.Draft{Name: "a", Email: "a@example.com", Content: "c"}, "s")
			if e.Day != "2031-02-03" {
				t.Errorf("day = %q, want 2031-02-03, the store clock's day", e.Day)
			}
			if want := now().UTC(); !e.CreatedAt.Equal(want) {
				t.Errorf("created_at = %v, want %v, the store clock's time", e.CreatedAt, want)
			}
		})
	}
}

func TestCreateRefusesAnInvalidDraftAndStoresNothing(t *testing.T) {
	eachDriver(t, func(t *testing.T, db *store.DB) {
		_, err := db.CreateEntry(context.Background(), store.Draft{Name: strings.Repeat("가", 31), Email: "x", Content: "c"}, "s")
		var ve *store.ValidationError
		if !errors.As(err, &ve) || ve.Fields["name"] != store.ProblemTooLong || ve.Fields["email"] != store.ProblemInvalidEmail {
			t.Fatalf("CreateEntry = %v, want name too_long and email invalid", err)
		}
		if page := mustList(t, db, 0, 100); len(page.Entries) != 0 {
			t.Errorf("an invalid draft was stored: %+v", page.Entries)
		}
	})
}

// On MySQL the driver puts the values into the statement itself
// (interpolateParams), so this is also the test of its escaping: quotes,
// backslashes before quotes, and multibyte text.
func TestCreateStoresTextLiterallyNotAsSQL(t *testing.T) {
	eachDriver(t, func(t *testing.T, db *store.DB) {
		evil := `x'); DROP TABLE entries; -- \'); DROP TABLE entries; -- \ \\ 방명록 ' "`
		e := mustCreate(t, db, store.Draft{Name: "O'Brien \"Bob\"", Email: "ob@example.com", Content: evil}, "s")
		got, err := db.GetEntry(context.Background(), e.ID)
		if err != nil || got.Content != evil || got.Name != "O'Brien \"Bob\"" {
			t.Fatalf("GetEntry = %+v, %v", got, err)
		}
	})
}

func TestGetMissingEntryIsNotFound(t *testing.T) {
	eachDriver(t, func(t *testing.T, db *store.DB) {
		_, err := db.GetEntry(context.Background(), 12345)
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("GetEntry(missing) = %v, want ErrNotFound", err)
		}
	})
}

func mustList(t *testing.T, db *store.DB, before int64, limit int) store.Page {
	t.Helper()
	p, err := db.ListEntries(context.Background(), before, limit)
	if err != nil {
		t.Fatalf("ListEntries(%d, %d): %v", before, limit, err)
	}
	return p
}

func TestListPagesNewestFirstWithKeysets(t *testing.T) {
	eachDriver(t, func(t *testing.T, db *store.DB) {
		var ids []int64
		for i := 1; i <= 45; i++ {
			ids = append(ids, mustCreate(t, db, draft(i), "s").ID)
		}
		var seen []int64
		before := int64(0)
		for pages := 0; ; pages++ {
			if pages > 3 {
				t.Fatal("more pages than 45 entries need")
			}
			p := mustList(t, db, before, 20)
			for _, e := range p.Entries {
				seen = append(seen, e.ID)
			}
			if p.NextBefore == 0 {
				if len(p.Entries) != 5 {
					t.Errorf("last page has %d entries, want 5", len(p.Entries))
				}
				break
			}
			if len(p.Entries) != 20 || p.NextBefore != p.Entries[19].ID {
				t.Fatalf("page of %d entries, next_before %d", len(p.Entries), p.NextBefore)
			}
			before = p.NextBefore
		}
		if len(seen) != len(ids) {
			t.Fatalf("saw %d entries, want %d", len(seen), len(ids))
		}
		for i, id := range seen {
			if want := ids[len(ids)-1-i]; id != want {
				t.Fatalf("entry %d is id %d, want %d (newest first)", i, id, want)
			}
		}
	})
}

func TestListOfExactlyOnePageHasNoNext(t *testing.T) {
	eachDriver(t, func(t *testing.T, db *store.DB) {
		for i := 0; i < 20; i++ {
			mustCreate(t, db, draft(i), "s")
		}
		if p := mustList(t, db, 0, 20); len(p.Entries) != 20 || p.NextBefore != 0 {
			t.Errorf("got %d entries, next %d; want 20 and no next page", len(p.Entries), p.NextBefore)
		}
	})
}

func TestListRefusesLimitsOutsideOneToHundred(t *testing.T) {
	eachDriver(t, func(t *testing.T, db *store.DB) {
		for _, limit := range []int{0, -1, 101} {
			if _, err := db.ListEntries(context.Background(), 0, limit); err == nil {
				t.Errorf("ListEntries(limit %d) succeeded", limit)
			}
		}
	})
}

func TestDeleteWithTheRightSecretRemovesTheEntry(t *testing.T) {
	eachDriver(t, func(t *testing.T, db *store.DB) {
		e := mustCreate(t, db, draft(1), "right")
		other := mustCreate(t, db, draft(2), "right")
		if err := db.DeleteEntry(context.Background(), e.ID, "right"); err != nil {
			t.Fatalf("DeleteEntry: %v", err)
		}
		if _, err := db.GetEntry(context.Background(), e.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleted entry still there: %v", err)
		}
		if _, err := db.GetEntry(context.Background(), other.ID); err != nil {
			t.Errorf("another entry went too: %v", err)
		}
	})
}

func TestDeleteWithAWrongSecretIsForbiddenAndKeepsTheEntry(t *testing.T) {
	eachDriver(t, func(t *testing.T, db *store.DB) {
		e := mustCreate(t, db, draft(1), "right")
		for _, secret := range []string{"wrong", "", store.HashSecret("right")} {
			if err := db.DeleteEntry(context.Background(), e.ID, secret); !errors.Is(err, store.ErrForbidden) {
				t.Errorf("DeleteEntry(secret %q) = %v, want ErrForbidden", secret, err)
			}
		}
		if _, err := db.GetEntry(context.Background(), e.ID); err != nil {
			t.Errorf("entry gone after forbidden deletes: %v", err)
		}
	})
}

func TestDeleteMissingEntryIsNotFound(t *testing.T) {
	eachDriver(t, func(t *testing.T, db *store.DB) {
		if err := db.DeleteEntry(context.Background(), 999, "x"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DeleteEntry(missing) = %v, want ErrNotFound", err)
		}
		if err := db.DeleteEntryAsAdmin(context.Background(), 999); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("DeleteEntryAsAdmin(missing) = %v, want ErrNotFound", err)
		}
	})
}

func TestAdminDeleteNeedsNoSecret(t *testing.T) {
	eachDriver(t, func(t *testing.T, db *store.DB) {
		e := mustCreate(t, db, draft(1), "someone's")
		if err := db.DeleteEntryAsAdmin(context.Background(), e.ID); err != nil {
			t.Fatalf("DeleteEntryAsAdmin: %v", err)
		}
		if _, err := db.GetEntry(context.Background(), e.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("entry still there: %v", err)
		}
	})
}

func TestOnlyTheHashOfTheDeleteSecretIsStored(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			db, cfg := storetest.Open(t, driver)
			e := mustCreate(t, db, draft(1), "the-secret-token")
			raw := rawDB(t, cfg.Driver, cfg.Primary)
			var stored string
			if err := raw.Get(&stored, "SELECT delete_hash FROM entries WHERE id = ?", e.ID); err != nil {
				t.Fatal(err)
			}
			if strings.Contains(stored, "the-secret-token") || stored != store.HashSecret("the-secret-token") {
				t.Errorf("delete_hash column = %q, want only the SHA-256 of the secret", stored)
			}
		})
	}
}

func TestDeletedIDsAreNeverGivenAgain(t *testing.T) {
	eachDriver(t, func(t *testing.T, db *store.DB) {
		e := mustCreate(t, db, draft(1), "s")
		if err := db.DeleteEntry(context.Background(), e.ID, "s"); err != nil {
			t.Fatal(err)
		}
		if next := mustCreate(t, db, draft(2), "s"); next.ID <= e.ID {
			t.Errorf("new entry got id %d after deleting %d", next.ID, e.ID)
		}
	})
}

func TestAClosedStoreIsUnavailable(t *testing.T) {
	eachDriver(t, func(t *testing.T, db *store.DB) {
		db.Close()
		_, err := db.ListEntries(context.Background(), 0, 20)
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("ListEntries on a closed store = %v, want ErrUnavailable", err)
		}
		if err := db.Ping(context.Background()); !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("Ping on a closed store = %v, want ErrUnavailable", err)
		}
	})
}

// rawDB opens the database behind a store directly, to look at what it wrote.
func rawDB(t *testing.T, driver, primary string) *sqlx.DB {
	t.Helper()
	name, dsn := "mysql", primary
	if driver == "sqlite" {
		name, dsn = "sqlite", "file:"+primary
	}
	db, err := sqlx.Open(name, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
