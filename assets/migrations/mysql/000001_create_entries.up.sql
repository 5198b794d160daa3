-- The list pages newest first with keyset pagination on id (WHERE id < ?
-- ORDER BY id DESC LIMIT ?): InnoDB's clustered primary key is that index,
-- so the list never sorts or scans past the page it shows.
-- VARCHAR lengths count characters in utf8mb4, as the validation rules do.
CREATE TABLE entries (
    id          BIGINT NOT NULL AUTO_INCREMENT,
    name        VARCHAR(30) NOT NULL,
    email       VARCHAR(100) NOT NULL,
    day         VARCHAR(30) NOT NULL,
    content     TEXT NOT NULL,
    created_at  DATETIME(6) NOT NULL,
    delete_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    PRIMARY KEY (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_unicode_ci;
