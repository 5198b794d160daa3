ALTER TABLE entries
    DROP INDEX entries_idempotency_key,
    DROP COLUMN request_hash,
    DROP COLUMN idempotency_key;
