# Sourced by the mariadb image's entrypoint on a server's first start
# (docker-entrypoint-initdb.d), on the primary and on the replica alike:
# the database and its least-privilege users (docs/deploy.md, section 2),
# out of the binary log (sql_log_bin=0), so that each server has its own
# and the replica replays only what the primary does after.
docker_process_sql <<SQL
SET SESSION sql_log_bin = 0;
CREATE DATABASE IF NOT EXISTS guestbook CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER 'guestbook'@'%' IDENTIFIED BY '${DB_APP_PASSWORD}';
GRANT SELECT, INSERT, UPDATE, DELETE ON guestbook.* TO 'guestbook'@'%';
CREATE USER 'guestbook_migrate'@'%' IDENTIFIED BY '${DB_MIGRATE_PASSWORD}';
GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP ON guestbook.* TO 'guestbook_migrate'@'%';
CREATE USER 'repl'@'%' IDENTIFIED BY '${DB_REPL_PASSWORD}';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'%';
SQL
