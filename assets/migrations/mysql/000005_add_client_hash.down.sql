ALTER TABLE entries
    DROP INDEX entries_client_created,
    DROP COLUMN client_hash;
