DROP INDEX entries_client_created;
ALTER TABLE entries DROP COLUMN client_hash;
