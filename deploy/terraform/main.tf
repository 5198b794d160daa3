# guestbook on AWS: the original's three tiers, each tier this one binary.
#
#   internet → external ALB (public subnets) → web ASG (private)
#            → internal ALB → app ASG (private) → Aurora MySQL writer + reader
#
# The files: network.tf (VPC, subnets, NAT), security.tf (who may talk to
# whom), loadbalancers.tf, compute.tf (instances and scaling), database.tf
# (Aurora and its secret), monitoring.tf (alarms), dns.tf, outputs.tf, and
# user_data.sh.tftpl, each instance's boot script.

data "aws_partition" "current" {}

data "aws_availability_zones" "available" {
  state = "available"

  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

# The newest Amazon Linux 2023: systemd 252 runs deploy/systemd's units as
# they are, and it comes with the AWS CLI and the SSM agent.
data "aws_ssm_parameter" "al2023" {
  name = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-${var.architecture}"
}

locals {
  azs = slice(data.aws_availability_zones.available.names, 0, 2)

  # The tiers' ports: config.Default()'s web.listen and app.listen, which the
  # user data writes out, MySQL's, and the internal load balancer's listener
  # (the web tier's web.upstreams). The security groups open exactly these;
  # the Go test in this directory checks that they agree.
  web_port    = 8080
  app_port    = 8081
  db_port     = 3306
  app_lb_port = 80
  # metrics.listen: loopback only, so the public never reads /metrics
  # through the load balancer (read them over an SSM session).
  metrics_port = 9100

  # One subnet per tier and zone: 10.0.0.0/24 and 10.0.1.0/24 public,
  # 10.0.10-11 web, 10.0.20-21 app, 10.0.30-31 database (at the default /16).
  public_cidrs = [for i in range(length(local.azs)) : cidrsubnet(var.vpc_cidr, 8, i)]
  web_cidrs    = [for i in range(length(local.azs)) : cidrsubnet(var.vpc_cidr, 8, 10 + i)]
  app_cidrs    = [for i in range(length(local.azs)) : cidrsubnet(var.vpc_cidr, 8, 20 + i)]
  db_cidrs     = [for i in range(length(local.azs)) : cidrsubnet(var.vpc_cidr, 8, 30 + i)]
  nat_count    = var.nat_gateway_per_az ? length(local.azs) : 1

  https = var.certificate_arn != ""
  dns   = var.domain_name != ""

  db_name = "guestbook"
  db_user = "guestbook"

  # The package's source: an S3 object is read with the instance role, which
  # is then allowed that one object.
  binary_source = startswith(var.binary_url, "s3://") ? "s3" : "https"
  binary_s3_arn = local.binary_source == "s3" ? "arn:${data.aws_partition.current.partition}:s3:::${trimprefix(var.binary_url, "s3://")}" : ""

  # After SIGTERM an instance answers /readyz with 503 for this long while
  # still serving: above the target groups' health check interval (10 s)
  # times their unhealthy threshold (2), and under the units'
  # TimeoutStopSec (60 s) minus the 30 s requests in flight may take.
  drain = "25s"

  tiers = {
    web = {
      instance_type    = var.web_instance_type
      min_size         = var.web_min_size
      max_size         = var.web_max_size
      subnet_ids       = aws_subnet.web[*].id
      security_group   = aws_security_group.web.id
      target_group_arn = aws_lb_target_group.web.arn
    }
    app = {
      instance_type    = var.app_instance_type
      min_size         = var.app_min_size
      max_size         = var.app_max_size
      subnet_ids       = aws_subnet.app[*].id
      security_group   = aws_security_group.app.id
      target_group_arn = aws_lb_target_group.app.arn
    }
  }

  site_url = "${local.https ? "https" : "http"}://${local.dns ? var.domain_name : aws_lb.web.dns_name}"
}
