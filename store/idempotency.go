package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jmoiron/sqlx"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// MaxKey is the longest an idempotency key may be, in bytes (its characters
// are ASCII).
const MaxKey = 64

// Keyed is a create that carries an idempotency key: sent again with the same
// key, it stores nothing and finds the entry the first one made.
type Keyed struct {
	// Key is the client's idempotency key (ValidKey). The store keeps it as
	// given: keys are case-sensitive.
	Key string
	// Scope says how the request came (the app tier's form or its API), so
	// that the same draft sent the other way counts as a different request.
	Scope string
	Draft Draft
}

// ValidKey reports whether key is an idempotency key: 1 to MaxKey letters,
// digits, '-' and '_' (URL-safe base64 and UUIDs both fit).
func ValidKey(key string) bool {
	if len(key) < 1 || len(key) > MaxKey {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// RequestHash is the SHA-256, in hex, of what k asks for: its scope and its
// draft normalized as it will be stored, except that an empty day stays empty
// (a resend after midnight is still the same request). The key itself is not
// part of it. Two requests with one key are the same request when their
// hashes are equal.
func (k Keyed) RequestHash() string {
	d := k.Draft.normalizeText()
	h := sha256.New()
	for _, s := range []string{k.Scope, d.Name, d.Email, d.Day, d.Content} {
		h.Write(binary.AppendUvarint(nil, uint64(len(s)))) // length-prefixed: no two drafts hash alike by moving text between fields
		h.Write([]byte(s))
	}
	return hex.EncodeToString(h.Sum(nil))
}

const (
	createKeyedEntrySQL = `
INSERT INTO entries (name, email, day, content, created_at, delete_hash, client_hash, idempotency_key, request_hash, pending)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	entryByKeySQL = `
SELECT id, name, email, day, content, created_at, delete_hash, request_hash, pending
FROM entries WHERE idempotency_key = ?`
)

// keyedRow is an entry found by its idempotency key, with the hash of the
// request that made it.
type keyedRow struct {
	Entry
	RequestHash sql.NullString `db:"request_hash"`
}

// CreateEntryOnce is CreateEntry for a keyed create. When no entry has k.Key
// it stores k.Draft with the key, the request's hash and the hash of
// deleteSecret, and returns the entry and true. When one has, it stores
// nothing: if that entry was made by the same request (RequestHash) it
// returns it as stored and false; if not, ErrKeyReused. A resend is no new
// write: the write limit refuses only a create that would store an entry. The database's unique
// index on the key decides between concurrent creates, on one instance or
// many: the insert that loses ends in a duplicate key (on MySQL after waiting
// for the winner to commit), and the entry is then read back from the writer,
// since a replica may not have it yet.
func (db *DB) CreateEntryOnce(ctx context.Context, k Keyed, deleteSecret string) (Entry, bool, error) {
	if !ValidKey(k.Key) {
		return Entry{}, false, errors.New("create entry: the idempotency key is not 1 to 64 letters, digits, - or _")
	}
	now := db.now()
	d := k.Draft.Normalize(now)
	if err := d.Validate(); err != nil {
		return Entry{}, false, fmt.Errorf("create entry: %w", err)
	}
	hash := k.RequestHash()
	// The key itself is never stored, only its hash: the app tier derives
	// the entry's delete secret from the key, so a reader of the database
	// (a dump, a backup, a replica) must not learn it.
	storedKey := HashSecret(k.Key)
	e := Entry{
		Name: d.Name, Email: d.Email, Day: d.Day, Content: d.Content,
		CreatedAt:  now.UTC().Truncate(time.Microsecond),
		DeleteHash: HashSecret(deleteSecret), Pending: d.Pending,
	}
	var (
		created bool
		found   keyedRow
	)
	err := db.write(ctx, func(ctx context.Context, x *sqlx.DB) error {
		// The entry found may be deleted before it is read back; then the
		// key is free again and the insert is tried anew, a few times.
		args := []any{e.Name, e.Email, e.Day, e.Content, e.CreatedAt, e.DeleteHash, d.Sender.hash(), storedKey, hash, e.Pending}
		insert := func(ctx context.Context, tx sqlx.ExecerContext) error {
			res, err := tx.ExecContext(ctx, createKeyedEntrySQL, args...)
			if err == nil {
				e.ID, err = res.LastInsertId()
			}
			return err
		}
		for range 3 {
			err := db.insertAs(ctx, x, d.Sender, e.CreatedAt, insert)
			if err == nil {
				created = true
				return nil
			}
			refused := errors.Is(err, ErrWriteLimited)
			if !refused && !duplicateKey(err) {
				return err
			}
			// The key's entry: a resend stores nothing, so one of a create
			// that was stored is answered as the first was, also when the
			// write limit refused it.
			ferr := x.GetContext(ctx, &found, entryByKeySQL, storedKey)
			switch {
			case ferr == nil:
				return nil
			case !errors.Is(ferr, sql.ErrNoRows):
				return ferr
			case refused:
				return err
			}
		}
		return errors.New("the entry with this idempotency key keeps being deleted")
	})
	switch {
	case err != nil:
		return Entry{}, false, fmt.Errorf("create entry: %w", unavailable(err))
	case created:
		return e, true, nil
	case !found.RequestHash.Valid || found.RequestHash.String != hash:
		return Entry{}, false, fmt.Errorf("create entry: %w", ErrKeyReused)
	}
	found.CreatedAt = found.CreatedAt.UTC()
	return found.Entry, false, nil
}

// duplicateKey reports the error of an insert that a unique index refused:
// MySQL's 1062 (ER_DUP_ENTRY) or SQLite's SQLITE_CONSTRAINT_UNIQUE.
func duplicateKey(err error) bool {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1062
	}
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}
