# The external load balancer in front of the web tier, and the internal one
# in front of the app tier (the web tier's only upstream). Both check
# /readyz: a web instance is ready while an app upstream is, an app instance
# while the database answers and its schema is current.

resource "aws_lb" "web" {
  name                       = "${var.name}-web"
  load_balancer_type         = "application"
  internal                   = false
  security_groups            = [aws_security_group.web_lb.id]
  subnets                    = aws_subnet.public[*].id
  drop_invalid_header_fields = true
  # Under the web tier's own idle keep-alive (120 s), as AWS advises.
  idle_timeout = 60
}

resource "aws_lb_target_group" "web" {
  name                 = "${var.name}-web"
  port                 = local.web_port
  protocol             = "HTTP"
  vpc_id               = aws_vpc.main.id
  deregistration_delay = 30

  health_check {
    path                = "/readyz"
    port                = "traffic-port"
    matcher             = "200"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }
}

resource "aws_lb_listener" "web_http" {
  load_balancer_arn = aws_lb.web.arn
  port              = 80
  protocol          = "HTTP"

  # With a certificate, HTTP only redirects to HTTPS; without, it serves.
  default_action {
    type             = local.https ? "redirect" : "forward"
    target_group_arn = local.https ? null : aws_lb_target_group.web.arn

    dynamic "redirect" {
      for_each = local.https ? [443] : []
      content {
        port        = tostring(redirect.value)
        protocol    = "HTTPS"
        status_code = "HTTP_301"
      }
    }
  }
}

resource "aws_lb_listener" "web_https" {
  count             = local.https ? 1 : 0
  load_balancer_arn = aws_lb.web.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = "ELBSecurityPolicy-TLS13-1-2-2021-06"
  certificate_arn   = var.certificate_arn

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.web.arn
  }
}

resource "aws_lb" "app" {
  name                       = "${var.name}-app"
  load_balancer_type         = "application"
  internal                   = true
  security_groups            = [aws_security_group.app_lb.id]
  subnets                    = aws_subnet.app[*].id
  drop_invalid_header_fields = true
  # Between the web tier's idle keep-alive (90 s, tier/web's IdleConnTimeout)
  # and the app tier's (120 s, tier's IdleTimeout): the side that sends
  # closes an idle connection first, so a request is never written onto a
  # connection the other side is closing (a POST there would get a 502).
  idle_timeout = 100
}

resource "aws_lb_target_group" "app" {
  name                 = "${var.name}-app"
  port                 = local.app_port
  protocol             = "HTTP"
  vpc_id               = aws_vpc.main.id
  deregistration_delay = 30

  health_check {
    path                = "/readyz"
    port                = "traffic-port"
    matcher             = "200"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }
}

resource "aws_lb_listener" "app" {
  load_balancer_arn = aws_lb.app.arn
  port              = local.app_lb_port
  protocol          = "HTTP"

  default_action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.app.arn
  }
}
