-- A create may carry an idempotency key (the form's hidden idempotency_key,
-- the API's Idempotency-Key header): a resend with the same key stores
-- nothing and answers as the first did. idempotency_key holds the key's
-- SHA-256 in hex, never the key: delete secrets are derived from the key, so
-- a reader of the database must not learn it. request_hash is the SHA-256 of what
-- the first request asked, to tell a resend from another request that reuses
-- the key. Entries made without a key hold NULL in both, and a unique index
-- allows any number of NULLs. The migration runs in one transaction, so the
-- three statements apply together or not at all.
ALTER TABLE entries ADD COLUMN idempotency_key TEXT;
ALTER TABLE entries ADD COLUMN request_hash TEXT;
CREATE UNIQUE INDEX entries_idempotency_key ON entries (idempotency_key);
