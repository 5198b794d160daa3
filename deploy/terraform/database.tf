# Aurora MySQL: a writer and a reader in two zones. The app tier's
# database.primary is the cluster (writer) endpoint, which follows a
# failover by DNS; database.replicas is the reader endpoint.
#
# The password and the admin token are made here, kept in Secrets Manager,
# and read by app instances at boot with their instance role: neither is in
# this code, in the launch template or in user data. They are in the
# Terraform state, as every generated secret is: keep the state in an
# encrypted bucket (README.md, "State").

resource "random_password" "db" {
  length  = 40
  special = false # letters and digits only: safe inside a DSN and an env file
}

resource "random_password" "admin_token" {
  length  = 40
  special = false
}

resource "aws_secretsmanager_secret" "app" {
  name_prefix             = "${var.name}-app-"
  description             = "guestbook app tier: database user and password, and app.admin_token"
  recovery_window_in_days = 7
}

resource "aws_secretsmanager_secret_version" "app" {
  secret_id = aws_secretsmanager_secret.app.id
  secret_string = jsonencode({
    username    = local.db_user
    password    = random_password.db.result
    admin_token = random_password.admin_token.result
  })
}

resource "aws_db_subnet_group" "main" {
  name       = var.name
  subnet_ids = aws_subnet.db[*].id
}

resource "aws_rds_cluster" "main" {
  cluster_identifier        = var.name
  engine                    = "aurora-mysql"
  engine_version            = var.db_engine_version
  database_name             = local.db_name
  master_username           = local.db_user
  master_password           = random_password.db.result
  port                      = local.db_port
  db_subnet_group_name      = aws_db_subnet_group.main.name
  vpc_security_group_ids    = [aws_security_group.db.id]
  storage_encrypted         = true
  backup_retention_period   = var.db_backup_retention_days
  copy_tags_to_snapshot     = true
  deletion_protection       = var.db_deletion_protection
  skip_final_snapshot       = var.db_skip_final_snapshot
  final_snapshot_identifier = var.db_skip_final_snapshot ? null : "${var.name}-final"
}

# The first instance Aurora starts is the writer; the others are readers.
resource "aws_rds_cluster_instance" "main" {
  count                      = var.db_instance_count
  identifier                 = "${var.name}-${count.index + 1}"
  cluster_identifier         = aws_rds_cluster.main.id
  engine                     = aws_rds_cluster.main.engine
  engine_version             = aws_rds_cluster.main.engine_version
  instance_class             = var.db_instance_class
  db_subnet_group_name       = aws_db_subnet_group.main.name
  availability_zone          = local.azs[count.index % length(local.azs)]
  publicly_accessible        = false
  auto_minor_version_upgrade = true
}
