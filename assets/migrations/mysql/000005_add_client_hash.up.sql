-- The write limit counts a client's recent entries on the primary, which
-- sees every write of every app instance. Each entry keeps a keyed hash of
-- its client (HMAC-SHA256 of the secret over the address, an IPv6 client's
-- /64, in hex), never the address itself. The index is the count's: one
-- client's entries in order of creation, so counting (and locking) the
-- window reads only its rows. Entries made before this migration hold
-- NULL; every entry since holds its client's hash, the limit on or off. One
-- statement: MySQL commits each DDL statement
-- on its own, and this one adds both or nothing.
ALTER TABLE entries
    ADD COLUMN client_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
    ADD INDEX entries_client_created (client_hash, created_at);
