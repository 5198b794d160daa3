-- SQLite has no replicas; the table keeps the schema versions of both
-- drivers in step.
CREATE TABLE heartbeat (
    id   INTEGER PRIMARY KEY,
    beat DATETIME NOT NULL
);
