DROP INDEX entries_pending_id;
ALTER TABLE entries DROP COLUMN pending;
