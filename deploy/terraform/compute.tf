# The web and app tiers: one launch template and one auto-scaling group
# each, from local.tiers, with target-tracking scaling on CPU.

data "aws_iam_policy_document" "ec2_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "tier" {
  for_each           = local.tiers
  name               = "${var.name}-${each.key}"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
}

# Session Manager instead of SSH: `aws ssm start-session --target i-...`.
resource "aws_iam_role_policy_attachment" "ssm" {
  for_each   = aws_iam_role.tier
  role       = each.value.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

data "aws_iam_policy_document" "binary" {
  count = local.binary_source == "s3" ? 1 : 0

  statement {
    actions   = ["s3:GetObject"]
    resources = [local.binary_s3_arn]
  }
}

resource "aws_iam_role_policy" "binary" {
  for_each = { for tier, role in aws_iam_role.tier : tier => role.name if local.binary_source == "s3" }
  name     = "read-guestbook-binary"
  role     = each.value
  policy   = data.aws_iam_policy_document.binary[0].json
}

# Only the app tier may read the database credentials.
data "aws_iam_policy_document" "app_secret" {
  statement {
    actions   = ["secretsmanager:GetSecretValue"]
    resources = [aws_secretsmanager_secret.app.arn]
  }
}

resource "aws_iam_role_policy" "app_secret" {
  name   = "read-guestbook-app-secret"
  role   = aws_iam_role.tier["app"].name
  policy = data.aws_iam_policy_document.app_secret.json
}

resource "aws_iam_instance_profile" "tier" {
  for_each = aws_iam_role.tier
  name     = each.value.name
  role     = each.value.name
}

resource "aws_launch_template" "tier" {
  for_each      = local.tiers
  name_prefix   = "${var.name}-${each.key}-"
  description   = "guestbook ${each.key} tier"
  image_id      = data.aws_ssm_parameter.al2023.value
  instance_type = each.value.instance_type

  vpc_security_group_ids = [each.value.security_group]

  iam_instance_profile {
    arn = aws_iam_instance_profile.tier[each.key].arn
  }

  # IMDSv2 only: a request must first PUT for a session token, which an
  # SSRF through the app cannot do; one hop, so nothing behind the host
  # (a container) reaches it.
  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 1
  }

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size           = 8
      volume_type           = "gp3"
      encrypted             = true
      delete_on_termination = true
    }
  }

  # The boot script: installs the package (the binary and the units of
  # deploy/systemd), writes the tier's env file and DSN files, and starts
  # the tier. It holds no
  # secret: the app tier reads the database credentials from Secrets
  # Manager when it runs.
  user_data = base64encode(templatefile("${path.module}/user_data.sh.tftpl", {
    role                = each.key
    region              = var.region
    binary_source       = local.binary_source
    binary_url          = var.binary_url
    binary_sha256       = var.binary_sha256
    web_port            = local.web_port
    app_port            = local.app_port
    metrics_port        = local.metrics_port
    drain               = local.drain
    upstream            = "http://${aws_lb.app.dns_name}:${local.app_lb_port}"
    web_trusted_proxies = join(",", local.public_cidrs)
    app_trusted_proxies = var.vpc_cidr
    db_writer           = aws_rds_cluster.main.endpoint
    db_reader           = aws_rds_cluster.main.reader_endpoint
    db_port             = local.db_port
    db_name             = local.db_name
    secret_arn          = aws_secretsmanager_secret.app.arn
  }))

  tag_specifications {
    resource_type = "instance"
    tags          = { Name = "${var.name}-${each.key}", Tier = each.key }
  }

  tag_specifications {
    resource_type = "volume"
    tags          = { Name = "${var.name}-${each.key}", Tier = each.key }
  }

  # Before an app instance boots, its credentials must be in Secrets
  # Manager, its role allowed to read them, and a database instance up to
  # migrate (the cluster endpoint exists before any instance does).
  depends_on = [
    aws_secretsmanager_secret_version.app,
    aws_iam_role_policy.app_secret,
    aws_rds_cluster_instance.main,
  ]
}

resource "aws_autoscaling_group" "tier" {
  for_each            = local.tiers
  name                = "${var.name}-${each.key}"
  min_size            = each.value.min_size
  max_size            = each.value.max_size
  vpc_zone_identifier = each.value.subnet_ids
  target_group_arns   = [each.value.target_group_arn]

  # The target group decides where requests go (/readyz); the group replaces
  # only instances that EC2 finds broken. /readyz follows a tier's
  # dependencies (no app upstream, no database), and replacing every
  # instance of a tier because the next tier is down would only add churn to
  # an outage. systemd restarts a guestbook that exits.
  health_check_type         = "EC2"
  health_check_grace_period = 300
  default_instance_warmup   = 120

  launch_template {
    id      = aws_launch_template.tier[each.key].id
    version = aws_launch_template.tier[each.key].latest_version
  }

  # A new launch template version (a new binary_url, say) replaces the
  # instances a few at a time, each new one healthy before the next goes.
  instance_refresh {
    strategy = "Rolling"
    preferences {
      min_healthy_percentage = 50
    }
  }

  tag {
    key                 = "Name"
    value               = "${var.name}-${each.key}"
    propagate_at_launch = true
  }
}

resource "aws_autoscaling_policy" "cpu" {
  for_each               = aws_autoscaling_group.tier
  name                   = "${each.value.name}-cpu"
  autoscaling_group_name = each.value.name
  policy_type            = "TargetTrackingScaling"

  target_tracking_configuration {
    predefined_metric_specification {
      predefined_metric_type = "ASGAverageCPUUtilization"
    }
    target_value = var.cpu_target
  }
}
