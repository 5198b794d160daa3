DROP INDEX entries_idempotency_key;
ALTER TABLE entries DROP COLUMN request_hash;
ALTER TABLE entries DROP COLUMN idempotency_key;
