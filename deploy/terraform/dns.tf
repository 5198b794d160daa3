# The site's name, when given: an alias record to the external load
# balancer (free, and it follows the balancer's changing addresses).
resource "aws_route53_record" "site" {
  count   = local.dns ? 1 : 0
  zone_id = var.route53_zone_id
  name    = var.domain_name
  type    = "A"

  alias {
    name                   = aws_lb.web.dns_name
    zone_id                = aws_lb.web.zone_id
    evaluate_target_health = true
  }
}
