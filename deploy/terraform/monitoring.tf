# CloudWatch alarms that mail the operator through SNS, as the original's
# CPU alarm did, plus what deploy/prometheus/alerts.yml watches that AWS can
# see from outside: 5xx answers and unhealthy instances, per tier.

resource "aws_sns_topic" "alarms" {
  name = "${var.name}-alarms"
}

resource "aws_sns_topic_subscription" "email" {
  topic_arn = aws_sns_topic.alarms.arn
  protocol  = "email"
  endpoint  = var.alarm_email
}

locals {
  # Per tier: the load balancer in front of it and its target group.
  balancers = {
    web = { lb = aws_lb.web.arn_suffix, target_group = aws_lb_target_group.web.arn_suffix }
    app = { lb = aws_lb.app.arn_suffix, target_group = aws_lb_target_group.app.arn_suffix }
  }
}

# The original's alarm: a tier's average CPU over the threshold for 5 minutes.
resource "aws_cloudwatch_metric_alarm" "cpu" {
  for_each            = aws_autoscaling_group.tier
  alarm_name          = "${each.value.name}-cpu-high"
  alarm_description   = "The ${each.key} tier's average CPU has been above ${var.cpu_alarm_threshold}% for 5 minutes: scaling is at its maximum or too slow."
  namespace           = "AWS/EC2"
  metric_name         = "CPUUtilization"
  dimensions          = { AutoScalingGroupName = each.value.name }
  statistic           = "Average"
  period              = 300
  evaluation_periods  = 1
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.cpu_alarm_threshold
  treat_missing_data  = "missing"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# More than error_rate_alarm_percent of a load balancer's answers are 5xx
# (its own, such as 502 and 503, and the targets'), 5 minutes in a row.
resource "aws_cloudwatch_metric_alarm" "errors" {
  for_each            = local.balancers
  alarm_name          = "${var.name}-${each.key}-lb-5xx"
  alarm_description   = "More than ${var.error_rate_alarm_percent}% of the ${each.key} tier load balancer's answers were 5xx for 5 minutes."
  evaluation_periods  = 5
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.error_rate_alarm_percent
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]

  metric_query {
    id          = "rate"
    expression  = "100 * (FILL(lb5xx, 0) + FILL(target5xx, 0)) / requests"
    label       = "5xx answers (%)"
    return_data = true
  }

  metric_query {
    id = "lb5xx"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_ELB_5XX_Count"
      dimensions  = { LoadBalancer = each.value.lb }
      period      = 60
      stat        = "Sum"
    }
  }

  metric_query {
    id = "target5xx"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "HTTPCode_Target_5XX_Count"
      dimensions  = { LoadBalancer = each.value.lb }
      period      = 60
      stat        = "Sum"
    }
  }

  metric_query {
    id = "requests"
    metric {
      namespace   = "AWS/ApplicationELB"
      metric_name = "RequestCount"
      dimensions  = { LoadBalancer = each.value.lb }
      period      = 60
      stat        = "Sum"
    }
  }
}

# An instance has failed its /readyz checks for 3 minutes.
resource "aws_cloudwatch_metric_alarm" "unhealthy_hosts" {
  for_each            = local.balancers
  alarm_name          = "${var.name}-${each.key}-unhealthy-hosts"
  alarm_description   = "A ${each.key} instance has failed its /readyz health check for 3 minutes."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "UnHealthyHostCount"
  dimensions          = { LoadBalancer = each.value.lb, TargetGroup = each.value.target_group }
  statistic           = "Maximum"
  period              = 60
  evaluation_periods  = 3
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}

# No instance of a tier is healthy: that tier is down.
resource "aws_cloudwatch_metric_alarm" "no_healthy_hosts" {
  for_each            = local.balancers
  alarm_name          = "${var.name}-${each.key}-no-healthy-hosts"
  alarm_description   = "No ${each.key} instance has passed its /readyz health check for 2 minutes: the ${each.key} tier is down."
  namespace           = "AWS/ApplicationELB"
  metric_name         = "HealthyHostCount"
  dimensions          = { LoadBalancer = each.value.lb, TargetGroup = each.value.target_group }
  statistic           = "Minimum"
  period              = 60
  evaluation_periods  = 2
  comparison_operator = "LessThanThreshold"
  threshold           = 1
  treat_missing_data  = "breaching"
  alarm_actions       = [aws_sns_topic.alarms.arn]
  ok_actions          = [aws_sns_topic.alarms.arn]
}
