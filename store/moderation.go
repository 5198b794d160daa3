package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"

	"github.com/jmoiron/sqlx"
)

// Moderation: what the admin's pages read and do. The admin sees every
// entry, approved or waiting, with its email and its client's keyed hash
// (its source), and may delete entries, delete every entry of one source,
// and approve waiting entries. Each method reads or writes on the writer:
// the admin acts on what they see, and a lagging replica would show an entry
// deleted a moment ago.

// AdminEntry is an entry as the admin sees it: with the keyed hash of the
// client that wrote it (Sender.Hash), or none for entries made before the
// write limit kept one.
type AdminEntry struct {
	Entry
	ClientHash sql.NullString `db:"client_hash"`
}

// AdminPage is one page of the admin's list, newest first; NextBefore is as
// in Page.
type AdminPage struct {
	Entries    []AdminEntry
	NextBefore int64
}

const (
	adminEntriesSQL = `
SELECT id, name, email, day, content, created_at, delete_hash, pending, client_hash
FROM entries WHERE id < ? ORDER BY id DESC LIMIT ?`
	adminPendingSQL = `
SELECT id, name, email, day, content, created_at, delete_hash, pending, client_hash
FROM entries WHERE pending = 1 AND id < ? ORDER BY id DESC LIMIT ?`
	sourceEntriesSQL = `
SELECT id, name, email, day, content, created_at, delete_hash, pending, client_hash
FROM entries WHERE client_hash = ? ORDER BY id DESC LIMIT ?`
	countSourceSQL = `SELECT COUNT(*) FROM entries WHERE client_hash = ?`
)

// AdminEntries reads up to limit entries older than before (0: the newest),
// newest first, waiting ones included; with pendingOnly, only those.
func (db *DB) AdminEntries(ctx context.Context, before int64, limit int, pendingOnly bool) (AdminPage, error) {
	if limit < 1 || limit > MaxPage {
		return AdminPage{}, fmt.Errorf("admin entries: limit %d is outside 1..%d", limit, MaxPage)
	}
	if before <= 0 {
		before = math.MaxInt64
	}
	query := adminEntriesSQL
	if pendingOnly {
		query = adminPendingSQL
	}
	var entries []AdminEntry
	err := db.read(ReadPrimary(ctx), func(ctx context.Context, x *sqlx.DB) error {
		entries = entries[:0]
		return x.SelectContext(ctx, &entries, query, before, limit+1)
	})
	if err != nil {
		return AdminPage{}, fmt.Errorf("admin entries: %w", unavailable(err))
	}
	p := AdminPage{Entries: entries}
	if len(entries) > limit {
		p.Entries = entries[:limit]
		p.NextBefore = p.Entries[limit-1].ID
	}
	return p, nil
}

// SourceEntries counts the entries of one source (a client hash) and reads
// the newest limit of them, so that the admin sees what deleting the source
// would delete. ErrNotFound when it has none.
func (db *DB) SourceEntries(ctx context.Context, clientHash string, limit int) (count int, newest []AdminEntry, err error) {
	if limit < 1 || limit > MaxPage {
		return 0, nil, fmt.Errorf("source entries: limit %d is outside 1..%d", limit, MaxPage)
	}
	err = db.read(ReadPrimary(ctx), func(ctx context.Context, x *sqlx.DB) error {
		newest = newest[:0]
		if err := x.GetContext(ctx, &count, countSourceSQL, clientHash); err != nil {
			return err
		}
		return x.SelectContext(ctx, &newest, sourceEntriesSQL, clientHash, limit)
	})
	switch {
	case err != nil:
		return 0, nil, fmt.Errorf("source entries: %w", unavailable(err))
	case count == 0:
		return 0, nil, fmt.Errorf("source entries: %w", ErrNotFound)
	}
	return count, newest, nil
}

const (
	deleteEntriesSQL  = `DELETE FROM entries WHERE id IN (?)`
	approveEntriesSQL = `UPDATE entries SET pending = 0 WHERE pending = 1 AND id IN (?)`
	deleteSourceSQL   = `DELETE FROM entries WHERE client_hash = ?`
)

// DeleteEntries deletes the entries ids on the writer, whatever their
// secrets (the caller is the admin), and returns how many there were: ids
// already gone count for nothing. At most MaxPage ids at once.
func (db *DB) DeleteEntries(ctx context.Context, ids []int64) (int64, error) {
	n, err := db.execIDs(ctx, deleteEntriesSQL, ids)
	if err != nil {
		return 0, fmt.Errorf("delete entries: %w", err)
	}
	return n, nil
}

// ApproveEntries makes the waiting entries among ids public, on the writer,
// and returns how many it approved. At most MaxPage ids at once.
func (db *DB) ApproveEntries(ctx context.Context, ids []int64) (int64, error) {
	n, err := db.execIDs(ctx, approveEntriesSQL, ids)
	if err != nil {
		return 0, fmt.Errorf("approve entries: %w", err)
	}
	return n, nil
}

// DeleteSource deletes every entry with clientHash on the writer, in one
// statement, and returns how many it deleted. An empty hash is refused: it
// would name the entries that have none.
func (db *DB) DeleteSource(ctx context.Context, clientHash string) (int64, error) {
	if clientHash == "" {
		return 0, errors.New("delete source: no client hash")
	}
	var res sql.Result
	err := db.write(ctx, func(ctx context.Context, x *sqlx.DB) (err error) {
		res, err = x.ExecContext(ctx, deleteSourceSQL, clientHash)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete source: %w", unavailable(err))
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete source: %w", err)
	}
	return n, nil
}

// execIDs runs query, whose one "IN (?)" takes ids, on the writer as one
// statement, and returns the rows it changed.
func (db *DB) execIDs(ctx context.Context, query string, ids []int64) (int64, error) {
	if len(ids) == 0 || len(ids) > MaxPage {
		return 0, fmt.Errorf("%d ids: give 1 to %d", len(ids), MaxPage)
	}
	q, args, err := sqlx.In(query, ids)
	if err != nil {
		return 0, err
	}
	var res sql.Result
	err = db.write(ctx, func(ctx context.Context, x *sqlx.DB) (err error) {
		res, err = x.ExecContext(ctx, q, args...)
		return err
	})
	if err != nil {
		return 0, unavailable(err)
	}
	return res.RowsAffected()
}
