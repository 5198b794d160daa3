-- A create may carry an idempotency key (the form's hidden idempotency_key,
-- the API's Idempotency-Key header): a resend with the same key stores
-- nothing and answers as the first did. The column holds the key's SHA-256
-- in hex, never the key: delete secrets are derived from the key, so a
-- reader of the database must not learn it. The unique index is what makes that
-- hold across app instances: of two inserts with one key, the second waits on
-- the index and then fails with a duplicate key. request_hash is the SHA-256
-- of what the first request asked, to tell a resend from another request that
-- reuses the key. Entries made without a key hold NULL in both, and a unique
-- index allows any number of NULLs. One statement: MySQL commits each DDL
-- statement on its own, and this one adds all three or nothing.
ALTER TABLE entries
    ADD COLUMN idempotency_key VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
    ADD COLUMN request_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
    ADD UNIQUE INDEX entries_idempotency_key (idempotency_key);
