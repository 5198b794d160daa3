-- One random secret, made here once, that every app instance reads at start
-- and derives its per-purpose keys from (the write limit's client hash,
-- signed form tokens): shared by all instances with nothing to set up.
-- app.secret, when configured, is used instead (a reader of a dump that
-- holds this row can recompute client hashes and try every IPv4 address
-- against them; app.secret keeps the key out of the database). One
-- statement (MySQL commits each DDL statement on its own): the table is
-- created with its row, or not at all. RANDOM_BYTES is unsafe for statement-based binary
-- logging, so with binlog_format MIXED (MariaDB's default) or ROW the
-- replicas copy the bytes themselves and a promoted replica has the same
-- secret.
CREATE TABLE secret (
    id    TINYINT NOT NULL,
    value VARBINARY(64) NOT NULL,
    PRIMARY KEY (id)
) ENGINE = InnoDB
SELECT 1 AS id, RANDOM_BYTES(32) AS value;
