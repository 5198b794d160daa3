package terraform

// Each check must fail when its rule is broken: these tests break one rule
// at a time in a copy of the real files (in memory) and expect the check to
// name it.

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFmtCheckFailsOnAnUnformattedFile(t *testing.T) {
	bin := terraform(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.tf"), []byte("locals {\n  a = 1\n  bb = 2\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := fmtCheck(bin, dir, nil); err == nil {
		t.Error("terraform fmt -check passed a misaligned file")
	}
	if err := fmtCheck(bin, t.TempDir(), []byte("a   = 1\nbb = 2\n")); err == nil {
		t.Error("terraform fmt -check passed a misaligned example")
	}
}

func TestReferenceCheckNamesWhatDoesNotResolve(t *testing.T) {
	tests := []struct {
		name, file, old, replacement, want string
	}{
		{"variable", "network.tf", "cidr_block           = var.vpc_cidr", "cidr_block           = var.vpc_cdir", "var.vpc_cdir: no such variable"},
		{"local", "security.tf", "from_port         = 80\n  to_port           = 80\n}\n\nresource \"aws_vpc_security_group_ingress_rule\" \"web_lb_https\"",
			"from_port         = local.http_port\n  to_port           = 80\n}\n\nresource \"aws_vpc_security_group_ingress_rule\" \"web_lb_https\"", "local.http_port: no such local"},
		{"resource", "loadbalancers.tf", "security_groups            = [aws_security_group.web_lb.id]", "security_groups            = [aws_security_group.weblb.id]", "aws_security_group.weblb: no such resource"},
		{"data source", "main.tf", "slice(data.aws_availability_zones.available.names", "slice(data.aws_availability_zones.avail.names", "data.aws_availability_zones.avail: no such data source"},
		{"module", "outputs.tf", "value       = aws_sns_topic.alarms.arn", "value       = module.alarms.topic_arn", "module.alarms: no such module"},
		{"depends_on", "network.tf", "depends_on = [aws_internet_gateway.main]", "depends_on = [aws_internet_gateway.igw]", "aws_internet_gateway.igw: no such resource"},
		{"count.index without count", "network.tf", "cidr_block = \"0.0.0.0/0\"\n    gateway_id = aws_internet_gateway.main.id", "cidr_block = local.public_cidrs[count.index]\n    gateway_id = aws_internet_gateway.main.id", "count.index: only count.index, and only in a block with count"},
		{"each.key without for_each", "compute.tf", "name   = \"read-guestbook-app-secret\"", "name   = each.key", "each.key: only each.key or each.value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustLoad(t, broken(t, tt.file, tt.old, tt.replacement))
			wantError(t, m.checkReferences(), tt.file, tt.want)
		})
	}
}

func TestVariableCheckNamesAVariableWithoutTypeDescriptionOrValidation(t *testing.T) {
	m := mustLoad(t, broken(t, "variables.tf", "  type        = bool\n  description = \"One NAT", "  description = \"One NAT"))
	wantError(t, m.checkVariables(exampleValues(t, m)), `variable "nat_gateway_per_az" has no type`)

	m = mustLoad(t, broken(t, "variables.tf", "description = \"EC2 instance type of the web tier.\"", "default_description = \"\""))
	wantError(t, m.checkVariables(exampleValues(t, m)), `variable "web_instance_type" has no description`)

	m = mustLoad(t, broken(t, "variables.tf", "type        = number\n  description = \"Fewest web", "type        = numbr\n  description = \"Fewest web"))
	wantError(t, m.checkVariables(exampleValues(t, m)), `variable "web_min_size": bad type`)

	m = mustLoad(t, broken(t, "variables.tf", `
  validation {
    condition     = var.cpu_target >= 10 && var.cpu_target <= 90
    error_message = "cpu_target must be from 10 to 90 (percent)."
  }
`, ""))
	wantError(t, m.checkVariables(exampleValues(t, m)), `variable "cpu_target" (number) has no validation`)
}

func TestVariableCheckNamesADefaultOrExampleValueItsValidationRefuses(t *testing.T) {
	m := mustLoad(t, broken(t, "variables.tf", `default     = "t3.micro"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.web_instance_type))`, `default     = "t3 micro"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]*\\.[a-z0-9]+$", var.web_instance_type))`))
	values := exampleValues(t, m)
	delete(values, "web_instance_type") // the default, then
	wantError(t, m.checkVariables(values), `variable "web_instance_type"`, "fails its validation")

	m = mustLoad(t, broken(t, example, `region   = "ap-northeast-2"`, `region   = "Seoul"`))
	wantError(t, m.checkVariables(exampleValues(t, m)), `variable "region"`, "fails its validation")

	m = mustLoad(t, broken(t, example, `route53_zone_id = ""`, `route53_zone_id = "Z0123456789ABCDEFGHIJ"`))
	wantError(t, m.checkVariables(exampleValues(t, m)), `variable "route53_zone_id"`, "fails its validation")
}

func TestExampleCheckNamesAnUnknownOrMissingVariable(t *testing.T) {
	m := mustLoad(t, broken(t, example, `alarm_email = "ops@example.com"`, `alarm_mail = "ops@example.com"`))
	_, errs := m.exampleValues(example)
	wantError(t, errs, "alarm_mail is not a variable")
	wantError(t, errs, `variable "alarm_email" is required but not given`)
}

func TestSecurityGroupCheckNamesAWrongMissingOrExtraRule(t *testing.T) {
	check := func(t *testing.T, overlay map[string]string) []error {
		t.Helper()
		m := mustLoad(t, overlay)
		ports, values := tierPortsOf(t, m)
		ctx, err := m.evalContext(values)
		if err != nil {
			t.Fatal(err)
		}
		return m.checkSecurityGroups(ports, ctx)
	}
	t.Run("database on another port", func(t *testing.T) {
		errs := check(t, broken(t, "security.tf", `description                  = "MySQL, from the app tier"
  referenced_security_group_id = aws_security_group.app.id
  ip_protocol                  = "tcp"
  from_port                    = local.db_port
  to_port                      = local.db_port`, `description                  = "MySQL, from the app tier"
  referenced_security_group_id = aws_security_group.app.id
  ip_protocol                  = "tcp"
  from_port                    = 3307
  to_port                      = 3307`))
		wantError(t, errs, "no security group rule allows db ingress sg:app tcp 3306-3306")
		wantError(t, errs, "aws_vpc_security_group_ingress_rule.db_from_app allows db ingress sg:app tcp 3307-3307")
	})
	t.Run("SSH from the internet", func(t *testing.T) {
		overlay := map[string]string{"ssh.tf": `resource "aws_vpc_security_group_ingress_rule" "ssh" {
  security_group_id = aws_security_group.web.id
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 22
}
`}
		wantError(t, check(t, overlay), "aws_vpc_security_group_ingress_rule.ssh allows web ingress 0.0.0.0/0 tcp 22-22")
	})
	t.Run("web tier open to the internet", func(t *testing.T) {
		errs := check(t, broken(t, "security.tf", `description                  = "web.listen, from the external load balancer"
  referenced_security_group_id = aws_security_group.web_lb.id`, `description                  = "web.listen, from the external load balancer"
  cidr_ipv4                    = "0.0.0.0/0"`))
		wantError(t, errs, "allows web ingress 0.0.0.0/0 tcp 8080-8080")
		wantError(t, errs, "no security group rule allows web ingress sg:web_lb tcp 8080-8080")
	})
	t.Run("inline rules", func(t *testing.T) {
		errs := check(t, broken(t, "security.tf", `  description = "Aurora MySQL: from the app tier only"
  vpc_id      = aws_vpc.main.id
`, `  description = "Aurora MySQL: from the app tier only"
  vpc_id      = aws_vpc.main.id

  ingress {
    from_port   = 3306
    to_port     = 3306
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
`))
		wantError(t, errs, "aws_security_group.db has inline ingress rules")
	})
}

func TestTargetCheckNamesAWrongPortHealthCheckOrMetadataSetting(t *testing.T) {
	check := func(t *testing.T, overlay map[string]string) []error {
		t.Helper()
		m := mustLoad(t, overlay)
		ports, values := tierPortsOf(t, m)
		ctx, err := m.evalContext(values)
		if err != nil {
			t.Fatal(err)
		}
		return m.checkTargets(ports, ctx)
	}
	wantError(t, check(t, broken(t, "loadbalancers.tf", "port                 = local.app_port", "port                 = 8082")),
		"aws_lb_target_group.app.port is 8082", "want 8081")
	wantError(t, check(t, broken(t, "loadbalancers.tf", "port              = local.app_lb_port", "port              = 8000")),
		"aws_lb_listener.app.port is 8000", "want 80")
	wantError(t, check(t, broken(t, "loadbalancers.tf", `    path                = "/readyz"
    port                = "traffic-port"
    matcher             = "200"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }
}

resource "aws_lb_listener" "web_http"`, `    path                = "/healthz"
    port                = "traffic-port"
    matcher             = "200"
    interval            = 10
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 2
  }
}

resource "aws_lb_listener" "web_http"`)), `target group web checks "/healthz", want /readyz`)
	wantError(t, check(t, broken(t, "compute.tf", `http_tokens                 = "required"`, `http_tokens                 = "optional"`)),
		`http_tokens is "optional", want required (IMDSv2)`)
}

func TestUserDataCheckNamesAConfigurationTheBinaryRefuses(t *testing.T) {
	tests := []struct {
		name, file, old, replacement string
		want                         []string
	}{
		{"a listen address without its colon", "user_data.sh.tftpl", "GUESTBOOK_WEB_LISTEN=':${web_port}'", "GUESTBOOK_WEB_LISTEN='${web_port}'",
			[]string{"web user data", "guestbook-web.service", "the binary refuses", "web.listen"}},
		{"a key the binary does not have", "user_data.sh.tftpl", "GUESTBOOK_APP_LISTEN=", "GUESTBOOK_APP_LISTN=",
			[]string{"app user data", "GUESTBOOK_APP_LISTN: unknown variable"}},
		{"an env file no unit reads", "user_data.sh.tftpl", "cat > /etc/guestbook/guestbook.env <<ENV", "cat > /etc/guestbook/app.env <<ENV",
			[]string{"does not write /etc/guestbook/guestbook.env, which guestbook-app.service reads"}},
		{"a DSN file no unit loads", "user_data.sh.tftpl", "cat > /etc/guestbook/migrate.primary <<DSN", "cat > /etc/guestbook/migrate.dsn <<DSN",
			[]string{"does not write /etc/guestbook/migrate.primary, which guestbook-migrate.service loads"}},
		{"a file the package installs written by hand", "user_data.sh.tftpl", "cat > /etc/guestbook/migrate.primary <<DSN", "cat > /etc/systemd/system/guestbook-migrate.service <<DSN",
			[]string{"writes /etc/systemd/system/guestbook-migrate.service: the package installs"}},
		{"the package installed unchecked", "user_data.sh.tftpl", "echo '${binary_sha256}  '\"$pkg\" | sha256sum --check --strict -\n", "",
			[]string{"does not check the package's SHA-256"}},
		{"a placeholder templatefile is not given", "compute.tf", "    drain               = local.drain\n", "",
			[]string{"the template uses ${drain}, which templatefile is not given"}},
		{"the password passed in clear", "compute.tf", "    db_name             = local.db_name\n", "    db_name             = random_password.db.result\n",
			[]string{`templatefile var "db_name" reads random_password`, "in clear"}},
		{"a shell variable the script never sets", "user_data.sh.tftpl", "GUESTBOOK_APP_ADMIN_TOKEN='$admin_token'", "GUESTBOOK_APP_ADMIN_TOKEN='$ADMIN_TOKEN'",
			[]string{"$ADMIN_TOKEN is not set by the script"}},
		{"metrics on the public listener", "user_data.sh.tftpl", "GUESTBOOK_METRICS_LISTEN='127.0.0.1:${metrics_port}'\nGUESTBOOK_LOG_FORMAT='json'\nENV\n%{ endif ~}\n%{ if role == \"app\" ~}",
			"GUESTBOOK_LOG_FORMAT='json'\nENV\n%{ endif ~}\n%{ if role == \"app\" ~}", []string{"web tier: metrics.listen", "want a loopback address"}},
		{"identity not from the metadata service", "user_data.sh.tftpl", "GUESTBOOK_INSTANCE_METADATA='ec2'\nGUESTBOOK_INSTANCE_DRAIN='${drain}'\nGUESTBOOK_METRICS_LISTEN='127.0.0.1:${metrics_port}'\nGUESTBOOK_LOG_FORMAT='json'\nENV\n\n# 3.",
			"GUESTBOOK_INSTANCE_DRAIN='${drain}'\nGUESTBOOK_METRICS_LISTEN='127.0.0.1:${metrics_port}'\nGUESTBOOK_LOG_FORMAT='json'\nENV\n\n# 3.", []string{"app tier: instance.metadata", "want ec2"}},
		{"the tier never started", "user_data.sh.tftpl", "systemctl enable --now guestbook-${role}.service", "systemctl enable guestbook-${role}.service",
			[]string{"does not enable and start guestbook-web.service"}},
		{"a shell syntax error", "user_data.sh.tftpl", "dnf install -y \"$pkg\"", "dnf install -y \"$pkg",
			[]string{"bash -n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.name == "a shell syntax error" && bashBinary() == "" {
				t.Skip("bash is not installed")
			}
			m := mustLoad(t, broken(t, tt.file, tt.old, tt.replacement))
			_, errs := m.checkBootScripts(exampleValues(t, m))
			wantError(t, errs, tt.want...)
		})
	}
}
