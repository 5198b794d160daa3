-- The list pages newest first with keyset pagination on id (WHERE id < ?
-- ORDER BY id DESC LIMIT ?): the INTEGER PRIMARY KEY is the table's rowid,
-- so that is an index walk. AUTOINCREMENT keeps a deleted entry's id from
-- being given to a new one, so an old link never shows someone else's entry.
CREATE TABLE entries (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    email       TEXT NOT NULL,
    day         TEXT NOT NULL,
    content     TEXT NOT NULL,
    created_at  DATETIME NOT NULL,
    delete_hash TEXT NOT NULL
);
