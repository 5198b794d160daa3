package store

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jmoiron/sqlx"
)

// MaxPage is the most entries one List call returns.
const MaxPage = 100

// Page is one page of the list, newest first. NextBefore is the id to pass as
// before for the next (older) page, or 0 when this is the last.
type Page struct {
	Entries    []Entry
	NextBefore int64
}

const listEntriesSQL = `
SELECT id, name, email, day, content, created_at, delete_hash
FROM entries WHERE pending = 0 AND id < ? ORDER BY id DESC LIMIT ?`

// ListEntries reads up to limit approved entries older than before (0: the
// newest), newest first, from a reader. Entries waiting for approval are
// never among them.
func (db *DB) ListEntries(ctx context.Context, before int64, limit int) (Page, error) {
	if limit < 1 || limit > MaxPage {
		return Page{}, fmt.Errorf("list entries: limit %d is outside 1..%d", limit, MaxPage)
	}
	if before <= 0 {
		before = math.MaxInt64
	}
	var entries []Entry
	// One more than the page, to learn whether an older page exists.
	err := db.read(ctx, func(ctx context.Context, x *sqlx.DB) error {
		entries = entries[:0]
		return x.SelectContext(ctx, &entries, listEntriesSQL, before, limit+1)
	})
	if err != nil {
		return Page{}, fmt.Errorf("list entries: %w", unavailable(err))
	}
	p := Page{Entries: entries}
	if len(entries) > limit {
		p.Entries = entries[:limit]
		p.NextBefore = p.Entries[limit-1].ID
	}
	return p, nil
}

const getEntrySQL = `
SELECT id, name, email, day, content, created_at, delete_hash
FROM entries WHERE id = ? AND pending = 0`

// GetEntry reads one approved entry from a reader, or returns ErrNotFound
// (also for an entry waiting for approval: to the public it does not exist
// yet).
func (db *DB) GetEntry(ctx context.Context, id int64) (Entry, error) {
	var e Entry
	err := db.read(ctx, func(ctx context.Context, x *sqlx.DB) error { return x.GetContext(ctx, &e, getEntrySQL, id) })
	if errors.Is(err, sql.ErrNoRows) {
		return Entry{}, fmt.Errorf("entry %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return Entry{}, fmt.Errorf("get entry %d: %w", id, unavailable(err))
	}
	return e, nil
}

const createEntrySQL = `
INSERT INTO entries (name, email, day, content, created_at, delete_hash, client_hash, pending)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)`

// CreateEntry normalizes and validates d, then stores it on the writer with
// the hash of deleteSecret (the only form in which the secret is kept) and
// d.Sender's client hash. One statement is its own transaction: the entry is
// stored whole or not at all. Under d.Sender's write limit the insert and
// the count are one transaction (see insertLimited), and a create over the
// limit stores nothing and returns a *LimitError. With d.Pending the entry
// waits for the admin's approval.
func (db *DB) CreateEntry(ctx context.Context, d Draft, deleteSecret string) (Entry, error) {
	now := db.now()
	d = d.Normalize(now)
	if err := d.Validate(); err != nil {
		return Entry{}, fmt.Errorf("create entry: %w", err)
	}
	e := Entry{
		Name: d.Name, Email: d.Email, Day: d.Day, Content: d.Content,
		CreatedAt:  now.UTC().Truncate(time.Microsecond),
		DeleteHash: HashSecret(deleteSecret), Pending: d.Pending,
	}
	var res sql.Result
	err := db.write(ctx, func(ctx context.Context, x *sqlx.DB) error {
		return db.insertAs(ctx, x, d.Sender, e.CreatedAt, func(ctx context.Context, ex sqlx.ExecerContext) (err error) {
			res, err = ex.ExecContext(ctx, createEntrySQL, e.Name, e.Email, e.Day, e.Content, e.CreatedAt, e.DeleteHash, d.Sender.hash(), e.Pending)
			return err
		})
	})
	if err != nil {
		return Entry{}, fmt.Errorf("create entry: %w", unavailable(err))
	}
	if e.ID, err = res.LastInsertId(); err != nil {
		return Entry{}, fmt.Errorf("create entry: %w", err)
	}
	return e, nil
}

const (
	deleteEntrySQL         = `DELETE FROM entries WHERE id = ?`
	deleteEntryIfSecretSQL = `DELETE FROM entries WHERE id = ? AND delete_hash = ?`
	countEntrySQL          = `SELECT COUNT(*) FROM entries WHERE id = ?`
)

// DeleteEntry deletes entry id on the writer if deleteSecret is the one it
// was created with; ErrForbidden if not, ErrNotFound if there is no such
// entry. The check and the delete are one statement, so a concurrent change
// can't slip between them.
func (db *DB) DeleteEntry(ctx context.Context, id int64, deleteSecret string) error {
	var deleted bool
	var count int
	err := db.write(ctx, func(ctx context.Context, x *sqlx.DB) error {
		tx, err := x.BeginTxx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		res, err := tx.ExecContext(ctx, deleteEntryIfSecretSQL, id, HashSecret(deleteSecret))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return tx.GetContext(ctx, &count, countEntrySQL, id)
		}
		deleted = true
		return tx.Commit()
	})
	switch {
	case err != nil:
		return fmt.Errorf("delete entry %d: %w", id, unavailable(err))
	case deleted:
		return nil
	case count == 0:
		return fmt.Errorf("delete entry %d: %w", id, ErrNotFound)
	}
	return fmt.Errorf("delete entry %d: %w", id, ErrForbidden)
}

// DeleteEntryAsAdmin deletes entry id on the writer whatever its secret; the
// caller has checked the admin token. ErrNotFound if there is no such entry.
func (db *DB) DeleteEntryAsAdmin(ctx context.Context, id int64) error {
	var res sql.Result
	err := db.write(ctx, func(ctx context.Context, x *sqlx.DB) (err error) {
		res, err = x.ExecContext(ctx, deleteEntrySQL, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("delete entry %d: %w", id, unavailable(err))
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("delete entry %d: %w", id, ErrNotFound)
	}
	return nil
}

// HashSecret is the stored form of a delete secret: SHA-256 in hex. The
// secrets are 256 random bits, so a fast hash is enough (no dictionary to
// guess from).
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// CanDelete reports whether secret is the delete secret of e, in constant time.
func (e Entry) CanDelete(secret string) bool {
	return secret != "" && e.HasDeleteHash(HashSecret(secret))
}

// HasDeleteHash is CanDelete with the secret hashed already (HashSecret), for
// a page that checks one reader's secret against many entries.
func (e Entry) HasDeleteHash(hash string) bool {
	return e.DeleteHash != "" && subtle.ConstantTimeCompare([]byte(hash), []byte(e.DeleteHash)) == 1
}

// unavailable marks a database failure as ErrUnavailable (the tiers answer
// 503), keeping the cause for the log. Context ends and the write limit's
// refusals pass through unmarked.
func unavailable(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrUnavailable) ||
		errors.Is(err, ErrWriteLimited) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}
