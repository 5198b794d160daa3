variable "name" {
  type        = string
  description = "Prefix of every resource's name (load balancers, groups, the database cluster). Short, because load balancer and target group names are at most 32 characters."
  default     = "guestbook"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,19}$", var.name))
    error_message = "name must be 2 to 20 lower-case letters, digits or dashes, starting with a letter."
  }
}

variable "region" {
  type        = string
  description = "AWS region to create everything in, such as ap-northeast-2 (the original's Seoul) or us-east-1."
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must be a region name such as us-east-1 or ap-northeast-2."
  }
}

variable "vpc_cidr" {
  type        = string
  description = "The VPC's IPv4 block, /16 to /19. Each tier gets one subnet per availability zone, 8 bits longer (a /24 of the default /16)."
  default     = "10.0.0.0/16"

  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0)) && try(tonumber(split("/", var.vpc_cidr)[1]) >= 16 && tonumber(split("/", var.vpc_cidr)[1]) <= 19, false)
    error_message = "vpc_cidr must be an IPv4 CIDR block from /16 to /19, such as 10.0.0.0/16."
  }
}

variable "nat_gateway_per_az" {
  type        = bool
  description = "One NAT gateway in each availability zone (true), so losing a zone does not cut the other zone's instances off AWS's APIs, or one shared NAT gateway (false, the default), which costs half as much."
  default     = false
}

variable "binary_url" {
  type        = string
  description = "Where instances download the guestbook package at boot: an S3 object (s3://bucket/key, read with the instance role) or an HTTPS URL (a release). The .rpm that `make dist` builds for var.architecture (guestbook-VERSION-1.x86_64.rpm or .aarch64.rpm): Amazon Linux installs it with dnf."

  validation {
    condition     = can(regex("^(s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+|https://[^\\s']+)$", var.binary_url))
    error_message = "binary_url must be s3://bucket/key or an https:// URL, without quotes or spaces."
  }
}

variable "binary_sha256" {
  type        = string
  description = "SHA-256 of the package, in hex (its line in make dist's SHA256SUMS). An instance whose download does not match stops before installing anything."

  validation {
    condition     = can(regex("^[0-9a-f]{64}$", var.binary_sha256))
    error_message = "binary_sha256 must be 64 lower-case hex digits (sha256sum's output, or the package's line in SHA256SUMS)."
  }
}

variable "architecture" {
  type        = string
  description = "CPU architecture of the instances and so of the Amazon Linux 2023 image and the binary: x86_64 or arm64 (then use Graviton instance types such as t4g.micro)."
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be x86_64 or arm64."
  }
}

variable "web_instance_type" {
  type        = string
  description = "EC2 instance type of the web tier."
  default     = "t3.micro"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.web_instance_type))
    error_message = "web_instance_type must be an instance type such as t3.micro."
  }
}

variable "app_instance_type" {
  type        = string
  description = "EC2 instance type of the app tier."
  default     = "t3.micro"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.app_instance_type))
    error_message = "app_instance_type must be an instance type such as t3.micro."
  }
}

variable "web_min_size" {
  type        = number
  description = "Fewest web instances. 2 (the default) keeps one in each availability zone."
  default     = 2

  validation {
    condition     = var.web_min_size >= 1 && var.web_min_size <= 20 && floor(var.web_min_size) == var.web_min_size
    error_message = "web_min_size must be a whole number from 1 to 20."
  }
}

variable "web_max_size" {
  type        = number
  description = "Most web instances that CPU scaling may start."
  default     = 4

  validation {
    condition     = var.web_max_size >= var.web_min_size && var.web_max_size <= 20 && floor(var.web_max_size) == var.web_max_size
    error_message = "web_max_size must be a whole number from web_min_size to 20."
  }
}

variable "app_min_size" {
  type        = number
  description = "Fewest app instances. 2 (the default) keeps one in each availability zone."
  default     = 2

  validation {
    condition     = var.app_min_size >= 1 && var.app_min_size <= 20 && floor(var.app_min_size) == var.app_min_size
    error_message = "app_min_size must be a whole number from 1 to 20."
  }
}

variable "app_max_size" {
  type        = number
  description = "Most app instances that CPU scaling may start. Each opens up to 40 database connections (database.max_open_conns for the writer and the reader): keep app_max_size times 40 under the database instances' max_connections."
  default     = 4

  validation {
    condition     = var.app_max_size >= var.app_min_size && var.app_max_size <= 20 && floor(var.app_max_size) == var.app_max_size
    error_message = "app_max_size must be a whole number from app_min_size to 20."
  }
}

variable "cpu_target" {
  type        = number
  description = "Average CPU utilisation, in percent, that target-tracking scaling keeps each auto-scaling group at."
  default     = 50

  validation {
    condition     = var.cpu_target >= 10 && var.cpu_target <= 90
    error_message = "cpu_target must be from 10 to 90 (percent)."
  }
}

variable "cpu_alarm_threshold" {
  type        = number
  description = "Average CPU utilisation, in percent, of an auto-scaling group over 5 minutes above which the alarm mails alarm_email (the original's CloudWatch alarm)."
  default     = 80

  validation {
    condition     = var.cpu_alarm_threshold > 0 && var.cpu_alarm_threshold <= 100
    error_message = "cpu_alarm_threshold must be from 1 to 100 (percent)."
  }
}

variable "error_rate_alarm_percent" {
  type        = number
  description = "Share of a load balancer's requests answered with a 5xx, in percent, over 5 minutes in a row, above which the alarm mails alarm_email (as the Prometheus rule's 1%)."
  default     = 1

  validation {
    condition     = var.error_rate_alarm_percent > 0 && var.error_rate_alarm_percent <= 100
    error_message = "error_rate_alarm_percent must be above 0 and at most 100."
  }
}

variable "alarm_email" {
  type        = string
  description = "Address the SNS topic mails alarms to. AWS first mails it a confirmation link: nothing arrives until it is clicked."

  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alarm_email))
    error_message = "alarm_email must be an email address."
  }
}

variable "certificate_arn" {
  type        = string
  description = "ARN of an ACM certificate, in var.region, for the site's name. When set, the external load balancer serves HTTPS on 443 and redirects HTTP to it. Empty (the default): HTTP only."
  default     = ""

  validation {
    condition     = can(regex("^(arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/[0-9a-f-]+)?$", var.certificate_arn))
    error_message = "certificate_arn must be empty or an ACM certificate ARN."
  }
}

variable "domain_name" {
  type        = string
  description = "The site's name, such as guestbook.example.com: with route53_zone_id, an alias record points it at the external load balancer. Empty (the default): no record; use the load balancer's own name."
  default     = ""

  validation {
    condition     = can(regex("^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\\.)+[a-z]{2,63}$", var.domain_name)) || var.domain_name == ""
    error_message = "domain_name must be empty or a lower-case DNS name such as guestbook.example.com."
  }
}

variable "route53_zone_id" {
  type        = string
  description = "ID of the Route 53 hosted zone that holds domain_name. Set both, or neither."
  default     = ""

  validation {
    condition     = can(regex("^(Z[A-Z0-9]{1,31})?$", var.route53_zone_id)) && ((var.route53_zone_id == "") == (var.domain_name == ""))
    error_message = "route53_zone_id must be a hosted zone ID (Z...), set together with domain_name, or both must be empty."
  }
}

variable "db_instance_class" {
  type        = string
  description = "Instance class of the Aurora MySQL writer and reader. db.t4g.medium is the smallest Aurora MySQL 3 takes."
  default     = "db.t4g.medium"

  validation {
    condition     = can(regex("^db\\.[a-z0-9]+\\.[a-z0-9]+$", var.db_instance_class))
    error_message = "db_instance_class must be a database instance class such as db.t4g.medium."
  }
}

variable "db_instance_count" {
  type        = number
  description = "Aurora instances: the first is the writer, the others readers behind the reader endpoint. 2 (the default) is the original's writer and reader, in two availability zones; 1 saves cost, and reads then go to the writer."
  default     = 2

  validation {
    condition     = var.db_instance_count >= 1 && var.db_instance_count <= 16 && floor(var.db_instance_count) == var.db_instance_count
    error_message = "db_instance_count must be a whole number from 1 to 16."
  }
}

variable "db_engine_version" {
  type        = string
  description = "Aurora MySQL version, such as 8.0.mysql_aurora.3.08.2. null (the default): the region's default 8.0-compatible version."
  default     = null

  validation {
    condition     = var.db_engine_version == null || can(regex("^8\\.0\\.mysql_aurora\\.[0-9.]+$", var.db_engine_version))
    error_message = "db_engine_version must be null or an Aurora MySQL 3 version such as 8.0.mysql_aurora.3.08.2."
  }
}

variable "db_backup_retention_days" {
  type        = number
  description = "Days of automatic backups (point-in-time recovery) the cluster keeps."
  default     = 7

  validation {
    condition     = var.db_backup_retention_days >= 1 && var.db_backup_retention_days <= 35
    error_message = "db_backup_retention_days must be from 1 to 35."
  }
}

variable "db_deletion_protection" {
  type        = bool
  description = "Refuse to delete the database cluster, terraform destroy included. false by default so that a trial can be destroyed; set true for a site you keep."
  default     = false
}

variable "db_skip_final_snapshot" {
  type        = bool
  description = "Delete the cluster on destroy without a final snapshot. false (the default) keeps one, named <name>-final, which costs storage until you delete it."
  default     = false
}
