output "site_url" {
  description = "The guestbook: the domain name when one is given, else the external load balancer's own name."
  value       = local.site_url
}

output "web_lb_dns_name" {
  description = "DNS name of the external load balancer (point a CNAME or alias here if Route 53 does not hold your domain)."
  value       = aws_lb.web.dns_name
}

output "app_lb_url" {
  description = "The internal load balancer, as the web tier's web.upstreams names it (reachable only from the web tier)."
  value       = "http://${aws_lb.app.dns_name}:${local.app_lb_port}"
}

output "db_writer_endpoint" {
  description = "Aurora cluster (writer) endpoint: the app tier's database.primary."
  value       = aws_rds_cluster.main.endpoint
}

output "db_reader_endpoint" {
  description = "Aurora reader endpoint: the app tier's database.replicas."
  value       = aws_rds_cluster.main.reader_endpoint
}

output "app_secret_arn" {
  description = "Secrets Manager secret with the database user and password and the admin token (aws secretsmanager get-secret-value --secret-id ...)."
  value       = aws_secretsmanager_secret.app.arn
}

output "autoscaling_groups" {
  description = "The tiers' auto-scaling groups, by tier: list their instances to open a session with aws ssm start-session."
  value       = { for tier, group in aws_autoscaling_group.tier : tier => group.name }
}

output "alarm_topic_arn" {
  description = "SNS topic the alarms publish to."
  value       = aws_sns_topic.alarms.arn
}
