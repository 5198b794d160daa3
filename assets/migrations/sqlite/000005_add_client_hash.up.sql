-- The write limit counts a client's recent entries on the primary, which
-- sees every write of every app instance. Each entry keeps a keyed hash of
-- its client (HMAC of the secret over the address, an IPv6 client's /64),
-- never the address itself. The index is the count's: one client's entries
-- in order of creation, so counting the window reads only its rows. Entries
-- made before this migration hold NULL; every entry since holds its
-- client's hash, the limit on or off. The
-- migration runs in one transaction: both statements apply or neither.
ALTER TABLE entries ADD COLUMN client_hash TEXT;
CREATE INDEX entries_client_created ON entries (client_hash, created_at);
