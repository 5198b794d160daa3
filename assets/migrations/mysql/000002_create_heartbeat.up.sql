-- One row that the writer rewrites every database.health_interval with the
-- time. Each replica holds a copy as old as its replication lag, which the
-- app reads with its own privileges (no SUPER or REPLICATION CLIENT), so lag
-- is measured the same way on MySQL, MariaDB, RDS and Aurora.
CREATE TABLE heartbeat (
    id   TINYINT NOT NULL,
    beat DATETIME(6) NOT NULL,
    PRIMARY KEY (id)
) ENGINE = InnoDB;
