# Who may talk to whom, and nothing else:
#
#   internet ─80/443─▶ web_lb ─web_port─▶ web ─app_lb_port─▶ app_lb ─app_port─▶ app ─db_port─▶ db
#
# plus HTTPS out of web and app instances, through NAT, to AWS's APIs (SSM
# Session Manager, S3, Secrets Manager). No SSH anywhere: open a shell with
# `aws ssm start-session`. Every rule is a resource of its own (never an
# inline ingress or egress block) so that each can be read, and checked by
# this directory's Go test, one by one.

resource "aws_security_group" "web_lb" {
  name        = "${var.name}-web-lb"
  description = "External load balancer: HTTP(S) from the internet, to the web tier"
  vpc_id      = aws_vpc.main.id

  tags = { Name = "${var.name}-web-lb" }
}

resource "aws_security_group" "web" {
  name        = "${var.name}-web"
  description = "Web tier instances: from the external load balancer, to the internal one"
  vpc_id      = aws_vpc.main.id

  tags = { Name = "${var.name}-web" }
}

resource "aws_security_group" "app_lb" {
  name        = "${var.name}-app-lb"
  description = "Internal load balancer: from the web tier, to the app tier"
  vpc_id      = aws_vpc.main.id

  tags = { Name = "${var.name}-app-lb" }
}

resource "aws_security_group" "app" {
  name        = "${var.name}-app"
  description = "App tier instances: from the internal load balancer, to the database"
  vpc_id      = aws_vpc.main.id

  tags = { Name = "${var.name}-app" }
}

resource "aws_security_group" "db" {
  name        = "${var.name}-db"
  description = "Aurora MySQL: from the app tier only"
  vpc_id      = aws_vpc.main.id

  tags = { Name = "${var.name}-db" }
}

# internet → external load balancer

resource "aws_vpc_security_group_ingress_rule" "web_lb_http" {
  security_group_id = aws_security_group.web_lb.id
  description       = "HTTP from the internet (a redirect to HTTPS when there is a certificate)"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 80
  to_port           = 80
}

resource "aws_vpc_security_group_ingress_rule" "web_lb_https" {
  count             = local.https ? 1 : 0
  security_group_id = aws_security_group.web_lb.id
  description       = "HTTPS from the internet"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

# external load balancer → web tier

resource "aws_vpc_security_group_egress_rule" "web_lb_to_web" {
  security_group_id            = aws_security_group.web_lb.id
  description                  = "To the web tier's web.listen"
  referenced_security_group_id = aws_security_group.web.id
  ip_protocol                  = "tcp"
  from_port                    = local.web_port
  to_port                      = local.web_port
}

resource "aws_vpc_security_group_ingress_rule" "web_from_web_lb" {
  security_group_id            = aws_security_group.web.id
  description                  = "web.listen, from the external load balancer"
  referenced_security_group_id = aws_security_group.web_lb.id
  ip_protocol                  = "tcp"
  from_port                    = local.web_port
  to_port                      = local.web_port
}

# web tier → internal load balancer

resource "aws_vpc_security_group_egress_rule" "web_to_app_lb" {
  security_group_id            = aws_security_group.web.id
  description                  = "To the internal load balancer, the web tier's upstream"
  referenced_security_group_id = aws_security_group.app_lb.id
  ip_protocol                  = "tcp"
  from_port                    = local.app_lb_port
  to_port                      = local.app_lb_port
}

resource "aws_vpc_security_group_ingress_rule" "app_lb_from_web" {
  security_group_id            = aws_security_group.app_lb.id
  description                  = "From the web tier"
  referenced_security_group_id = aws_security_group.web.id
  ip_protocol                  = "tcp"
  from_port                    = local.app_lb_port
  to_port                      = local.app_lb_port
}

# internal load balancer → app tier

resource "aws_vpc_security_group_egress_rule" "app_lb_to_app" {
  security_group_id            = aws_security_group.app_lb.id
  description                  = "To the app tier's app.listen"
  referenced_security_group_id = aws_security_group.app.id
  ip_protocol                  = "tcp"
  from_port                    = local.app_port
  to_port                      = local.app_port
}

resource "aws_vpc_security_group_ingress_rule" "app_from_app_lb" {
  security_group_id            = aws_security_group.app.id
  description                  = "app.listen, from the internal load balancer"
  referenced_security_group_id = aws_security_group.app_lb.id
  ip_protocol                  = "tcp"
  from_port                    = local.app_port
  to_port                      = local.app_port
}

# app tier → database

resource "aws_vpc_security_group_egress_rule" "app_to_db" {
  security_group_id            = aws_security_group.app.id
  description                  = "MySQL, to the Aurora cluster"
  referenced_security_group_id = aws_security_group.db.id
  ip_protocol                  = "tcp"
  from_port                    = local.db_port
  to_port                      = local.db_port
}

resource "aws_vpc_security_group_ingress_rule" "db_from_app" {
  security_group_id            = aws_security_group.db.id
  description                  = "MySQL, from the app tier"
  referenced_security_group_id = aws_security_group.app.id
  ip_protocol                  = "tcp"
  from_port                    = local.db_port
  to_port                      = local.db_port
}

# instances → AWS's APIs, through NAT (and S3 through its endpoint)

resource "aws_vpc_security_group_egress_rule" "web_https" {
  security_group_id = aws_security_group.web.id
  description       = "HTTPS to AWS APIs (SSM, S3) and the binary's release URL"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}

resource "aws_vpc_security_group_egress_rule" "app_https" {
  security_group_id = aws_security_group.app.id
  description       = "HTTPS to AWS APIs (SSM, S3, Secrets Manager) and the binary's release URL"
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
}
