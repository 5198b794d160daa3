-- One random secret, made here once, that every app instance reads at start
-- and derives its per-purpose keys from (the write limit's client hash,
-- signed form tokens): shared by all instances with nothing to set up.
-- app.secret, when configured, is used instead. The row is never shown or
-- logged, but a reader of a dump or backup that holds it can recompute
-- client hashes (and so try every IPv4 address against them): set
-- app.secret to keep the key out of the database.
CREATE TABLE secret (
    id    INTEGER PRIMARY KEY,
    value BLOB NOT NULL
);
INSERT INTO secret (id, value) VALUES (1, randomblob(32));
