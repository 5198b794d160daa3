# Sourced by the mariadb image's entrypoint on the replica's first start,
# after users.sh: replicate the primary by GTID from its first transaction
# (everything before is out of its binary log, see users.sh).
docker_process_sql <<SQL
SET SESSION sql_log_bin = 0;
CHANGE MASTER TO MASTER_HOST='db-primary', MASTER_PORT=3306, MASTER_USER='repl',
  MASTER_PASSWORD='${DB_REPL_PASSWORD}', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=5;
START SLAVE;
SQL
