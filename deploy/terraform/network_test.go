package terraform

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// flow is one security group rule: which group, which way, to or from
// whom (another group as "sg:name", or a CIDR), and which TCP ports.
type flow struct {
	group, dir, peer string
	from, to         int64
}

func (f flow) String() string {
	return fmt.Sprintf("%s %s %s tcp %d-%d", f.group, f.dir, f.peer, f.from, f.to)
}

// wantFlows is the architecture, in the ports the tiers' configurations
// use: internet → web_lb → web → app_lb → app → db, and HTTPS out of the
// instances for AWS's APIs. Nothing else: no SSH, no port left open to the
// internet but the load balancer's.
func wantFlows(p tierPorts) []flow {
	return []flow{
		{"web_lb", "ingress", "0.0.0.0/0", 80, 80},
		{"web_lb", "ingress", "0.0.0.0/0", 443, 443},
		{"web_lb", "egress", "sg:web", p.web, p.web},
		{"web", "ingress", "sg:web_lb", p.web, p.web},
		{"web", "egress", "sg:app_lb", p.appLB, p.appLB},
		{"web", "egress", "0.0.0.0/0", 443, 443},
		{"app_lb", "ingress", "sg:web", p.appLB, p.appLB},
		{"app_lb", "egress", "sg:app", p.app, p.app},
		{"app", "ingress", "sg:app_lb", p.app, p.app},
		{"app", "egress", "sg:db", p.db, p.db},
		{"app", "egress", "0.0.0.0/0", 443, 443},
		{"db", "ingress", "sg:app", p.db, p.db},
	}
}

// checkSecurityGroups compares the module's security group rules with
// wantFlows, naming each rule that is missing or that should not be there.
// Rules must be aws_vpc_security_group_{ingress,egress}_rule resources:
// inline blocks and aws_security_group_rule are refused, so none escapes.
func (m *module) checkSecurityGroups(ports tierPorts, ctx *hcl.EvalContext) []error {
	var errs []error
	var got []flow
	byFlow := map[string]string{}
	for _, key := range sortedKeys(m.resources) {
		b := m.resources[key]
		at := where(b.DefRange())
		switch b.Labels[0] {
		case "aws_security_group", "aws_default_security_group":
			for _, inline := range []string{"ingress", "egress"} {
				if hasAttr(b.Body, inline) || slices.ContainsFunc(b.Body.Blocks, func(x *hclsyntax.Block) bool { return x.Type == inline }) {
					errs = append(errs, fmt.Errorf("%s: %s has inline %s rules: write each as its own rule resource", at, key, inline))
				}
			}
		case "aws_security_group_rule":
			errs = append(errs, fmt.Errorf("%s: %s: use aws_vpc_security_group_ingress_rule or _egress_rule", at, key))
		case "aws_vpc_security_group_ingress_rule", "aws_vpc_security_group_egress_rule":
			f, err := m.ruleFlow(b, ctx)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %s: %w", at, key, err))
				continue
			}
			got = append(got, f)
			byFlow[f.String()] = key
		}
	}
	want := wantFlows(ports)
	for _, f := range want {
		if !slices.Contains(got, f) {
			errs = append(errs, fmt.Errorf("no security group rule allows %s", f))
		}
	}
	for _, f := range got {
		if !slices.Contains(want, f) {
			errs = append(errs, fmt.Errorf("%s allows %s, which the tiers do not use", byFlow[f.String()], f))
		}
	}
	return errs
}

// ruleFlow reads one rule resource.
func (m *module) ruleFlow(b *hclsyntax.Block, ctx *hcl.EvalContext) (flow, error) {
	f := flow{dir: strings.TrimSuffix(strings.TrimPrefix(b.Labels[0], "aws_vpc_security_group_"), "_rule")}
	attrs := b.Body.Attributes
	group, err := securityGroupRef(attrs["security_group_id"])
	if err != nil {
		return f, fmt.Errorf("security_group_id: %w", err)
	}
	f.group = group
	switch {
	case attrs["referenced_security_group_id"] != nil:
		peer, err := securityGroupRef(attrs["referenced_security_group_id"])
		if err != nil {
			return f, fmt.Errorf("referenced_security_group_id: %w", err)
		}
		f.peer = "sg:" + peer
	case attrs["cidr_ipv4"] != nil:
		if f.peer, err = evalString(ctx, attrs["cidr_ipv4"]); err != nil {
			return f, err
		}
	default:
		return f, fmt.Errorf("neither referenced_security_group_id nor cidr_ipv4")
	}
	if attrs["ip_protocol"] == nil {
		return f, fmt.Errorf("no ip_protocol")
	}
	if proto, err := evalString(ctx, attrs["ip_protocol"]); err != nil || proto != "tcp" {
		return f, fmt.Errorf("ip_protocol must be tcp")
	}
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"from_port", &f.from}, {"to_port", &f.to}} {
		if attrs[p.name] == nil {
			return f, fmt.Errorf("no %s", p.name)
		}
		if *p.dst, err = evalPort(ctx, attrs[p.name]); err != nil {
			return f, err
		}
	}
	return f, nil
}

// securityGroupRef reads aws_security_group.NAME.id.
func securityGroupRef(attr *hclsyntax.Attribute) (string, error) {
	if attr == nil {
		return "", fmt.Errorf("missing")
	}
	tr, diags := hcl.AbsTraversalForExpr(attr.Expr)
	if diags.HasErrors() || len(tr) != 3 || tr.RootName() != "aws_security_group" {
		return "", fmt.Errorf("%s: want aws_security_group.NAME.id", where(attr.SrcRange))
	}
	name, _ := tr[1].(hcl.TraverseAttr)
	id, _ := tr[2].(hcl.TraverseAttr)
	if id.Name != "id" {
		return "", fmt.Errorf("%s: want aws_security_group.NAME.id", where(attr.SrcRange))
	}
	return name.Name, nil
}

// checkTargets checks what else carries the tiers' ports and health: each
// target group sends to its tier's listen port and checks /readyz, the
// internal load balancer listens where web.upstreams points, the database
// cluster listens where the DSNs point, and every launch template requires
// IMDSv2 tokens.
func (m *module) checkTargets(ports tierPorts, ctx *hcl.EvalContext) []error {
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	port := func(key string, want int64) {
		b := m.resources[key]
		if b == nil {
			fail("%s: not declared", key)
			return
		}
		attr := b.Body.Attributes["port"]
		if attr == nil {
			fail("%s: no port (want %d)", where(b.DefRange()), want)
			return
		}
		if got, err := evalPort(ctx, attr); err != nil || got != want {
			fail("%s: %s.port is %d (%v), want %d", where(attr.SrcRange), key, got, err, want)
		}
	}
	port("aws_lb_target_group.web", ports.web)
	port("aws_lb_target_group.app", ports.app)
	port("aws_rds_cluster.main", ports.db)
	for _, name := range m.resourcesOfType("aws_lb_target_group") {
		b := m.resources["aws_lb_target_group."+name]
		var path string
		for _, hc := range b.Body.Blocks {
			if hc.Type == "health_check" && hc.Body.Attributes["path"] != nil {
				path, _ = evalString(ctx, hc.Body.Attributes["path"])
			}
		}
		if path != "/readyz" {
			fail("%s: target group %s checks %q, want /readyz", where(b.DefRange()), name, path)
		}
	}
	for _, name := range m.resourcesOfType("aws_lb_listener") {
		b := m.resources["aws_lb_listener."+name]
		var lb *hclsyntax.Block
		if arn := b.Body.Attributes["load_balancer_arn"]; arn != nil {
			if tr, diags := hcl.AbsTraversalForExpr(arn.Expr); !diags.HasErrors() && len(tr) == 3 && tr.RootName() == "aws_lb" {
				lb = m.resources["aws_lb."+tr[1].(hcl.TraverseAttr).Name]
			}
		}
		if lb == nil {
			fail("%s: listener %s: load_balancer_arn is not aws_lb.NAME.arn of a declared load balancer", where(b.DefRange()), name)
			continue
		}
		if internal, ok := lb.Body.Attributes["internal"]; ok {
			if v, _ := internal.Expr.Value(ctx); v.True() {
				port("aws_lb_listener."+name, ports.appLB)
			}
		}
	}
	for _, name := range m.resourcesOfType("aws_launch_template") {
		b := m.resources["aws_launch_template."+name]
		tokens := ""
		for _, md := range b.Body.Blocks {
			if md.Type == "metadata_options" && md.Body.Attributes["http_tokens"] != nil {
				tokens, _ = evalString(ctx, md.Body.Attributes["http_tokens"])
			}
		}
		if tokens != "required" {
			fail("%s: launch template %s: metadata_options.http_tokens is %q, want required (IMDSv2)", where(b.DefRange()), name, tokens)
		}
	}
	return errs
}
