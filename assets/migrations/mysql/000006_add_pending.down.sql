ALTER TABLE entries
    DROP INDEX entries_pending_id,
    DROP COLUMN pending;
