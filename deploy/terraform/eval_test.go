package terraform

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/tryfunc"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// fakeAttributes stand in for what only AWS knows after apply: the
// attributes that the locals and the user data's arguments read, with
// values of the shape AWS gives. An expression that reads any other
// resource attribute cannot be evaluated, and the check that needs it says
// which.
var fakeAttributes = map[string]cty.Value{
	"data.aws_availability_zones.available.names": cty.ListVal([]cty.Value{
		cty.StringVal("us-east-1a"), cty.StringVal("us-east-1b"), cty.StringVal("us-east-1c"),
	}),
	"data.aws_partition.current.partition": cty.StringVal("aws"),
	"aws_lb.app.dns_name":                  cty.StringVal("internal-guestbook-app-1234567890.us-east-1.elb.amazonaws.com"),
	"aws_rds_cluster.main.endpoint":        cty.StringVal("guestbook.cluster-c0abcdefghij.us-east-1.rds.amazonaws.com"),
	"aws_rds_cluster.main.reader_endpoint": cty.StringVal("guestbook.cluster-ro-c0abcdefghij.us-east-1.rds.amazonaws.com"),
	"aws_secretsmanager_secret.app.arn":    cty.StringVal("arn:aws:secretsmanager:us-east-1:123456789012:secret:guestbook-app-AbCdEf"),
}

// evalContext is what Terraform would evaluate expressions with at plan
// time, as far as it can be known without providers: var (the defaults,
// overlaid by values), local (every local that can be computed from
// those), path, the fake resource attributes, and the functions the locals
// and validations use.
func (m *module) evalContext(values map[string]cty.Value) (*hcl.EvalContext, error) {
	vars := map[string]cty.Value{}
	for name, b := range m.variables {
		if v, ok := values[name]; ok {
			vars[name] = v
			continue
		}
		def, ok := b.Body.Attributes["default"]
		if !ok {
			continue // required, and not given: referring to it fails
		}
		v, diags := def.Expr.Value(nil)
		if diags.HasErrors() {
			return nil, fmt.Errorf("variable %q: default: %w", name, diags)
		}
		if ty, ok := b.Body.Attributes["type"]; ok && !v.IsNull() {
			if t, diags := typeexpr.TypeConstraint(ty.Expr); !diags.HasErrors() {
				if v, err := convert.Convert(v, t); err == nil {
					vars[name] = v
					continue
				}
				return nil, fmt.Errorf("%s: variable %q: the default is not a %s", where(def.SrcRange), name, t.FriendlyName())
			}
		}
		vars[name] = v
	}
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{
			"var":  cty.ObjectVal(vars),
			"path": cty.ObjectVal(map[string]cty.Value{"module": cty.StringVal(m.dir), "root": cty.StringVal(m.dir), "cwd": cty.StringVal(m.dir)}),
		},
		Functions: m.functions(),
	}
	for root, v := range nest(fakeAttributes) {
		ctx.Variables[root] = v
	}
	// Locals in as many rounds as their references to each other need.
	locals := map[string]cty.Value{}
	for progress := true; progress; {
		progress = false
		ctx.Variables["local"] = cty.ObjectVal(locals)
		for name, attr := range m.locals {
			if _, done := locals[name]; done {
				continue
			}
			if v, diags := attr.Expr.Value(ctx); !diags.HasErrors() && v.IsWhollyKnown() {
				locals[name] = v
				progress = true
			}
		}
	}
	ctx.Variables["local"] = cty.ObjectVal(locals)
	return ctx, nil
}

// nest turns "a.b.c" keys into nested objects: {a: {b: {c: value}}}.
func nest(flat map[string]cty.Value) map[string]cty.Value {
	tree := map[string]any{}
	for key, v := range flat {
		parts := strings.Split(key, ".")
		node := tree
		for _, p := range parts[:len(parts)-1] {
			if node[p] == nil {
				node[p] = map[string]any{}
			}
			node = node[p].(map[string]any)
		}
		node[parts[len(parts)-1]] = v
	}
	var build func(map[string]any) map[string]cty.Value
	build = func(n map[string]any) map[string]cty.Value {
		out := map[string]cty.Value{}
		for k, v := range n {
			if sub, ok := v.(map[string]any); ok {
				out[k] = cty.ObjectVal(build(sub))
			} else {
				out[k] = v.(cty.Value)
			}
		}
		return out
	}
	return build(tree)
}

// evalString evaluates an attribute that must be a known string.
func evalString(ctx *hcl.EvalContext, attr *hclsyntax.Attribute) (string, error) {
	v, diags := attr.Expr.Value(ctx)
	if diags.HasErrors() {
		return "", fmt.Errorf("%s: %s: %w", where(attr.SrcRange), attr.Name, diags)
	}
	v, err := convert.Convert(v, cty.String)
	if err != nil || !v.IsKnown() || v.IsNull() {
		return "", fmt.Errorf("%s: %s is not a known string", where(attr.SrcRange), attr.Name)
	}
	return v.AsString(), nil
}

// evalPort evaluates an attribute that must be a whole number.
func evalPort(ctx *hcl.EvalContext, attr *hclsyntax.Attribute) (int64, error) {
	v, diags := attr.Expr.Value(ctx)
	if diags.HasErrors() {
		return 0, fmt.Errorf("%s: %s: %w", where(attr.SrcRange), attr.Name, diags)
	}
	v, err := convert.Convert(v, cty.Number)
	if err != nil || !v.IsKnown() || v.IsNull() {
		return 0, fmt.Errorf("%s: %s is not a known number", where(attr.SrcRange), attr.Name)
	}
	n, acc := v.AsBigFloat().Int64()
	if acc != 0 {
		return 0, fmt.Errorf("%s: %s is not a whole number", where(attr.SrcRange), attr.Name)
	}
	return n, nil
}

// functions are Terraform's functions that this module's locals and
// validations call, from go-cty's standard library where Terraform takes
// them from there, and written here where Terraform has its own.
func (m *module) functions() map[string]function.Function {
	return map[string]function.Function{
		"can": tryfunc.CanFunc, "try": tryfunc.TryFunc,
		"length": stdlib.LengthFunc, "range": stdlib.RangeFunc, "slice": stdlib.SliceFunc,
		"join": stdlib.JoinFunc, "split": stdlib.SplitFunc, "contains": stdlib.ContainsFunc,
		"trimprefix": stdlib.TrimPrefixFunc, "regex": stdlib.RegexFunc, "floor": stdlib.FloorFunc,
		"jsonencode": stdlib.JSONEncodeFunc,
		"tonumber":   convertFunc(cty.Number),
		"tostring":   convertFunc(cty.String),
		"startswith": function.New(&function.Spec{
			Params: []function.Parameter{{Name: "s", Type: cty.String}, {Name: "prefix", Type: cty.String}},
			Type:   function.StaticReturnType(cty.Bool),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				return cty.BoolVal(strings.HasPrefix(args[0].AsString(), args[1].AsString())), nil
			},
		}),
		"cidrsubnet": function.New(&function.Spec{
			Params: []function.Parameter{{Name: "prefix", Type: cty.String}, {Name: "newbits", Type: cty.Number}, {Name: "netnum", Type: cty.Number}},
			Type:   function.StaticReturnType(cty.String),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				newbits, _ := args[1].AsBigFloat().Int64()
				netnum, _ := args[2].AsBigFloat().Int64()
				s, err := cidrSubnet(args[0].AsString(), int(newbits), netnum)
				return cty.StringVal(s), err
			},
		}),
		"cidrhost": function.New(&function.Spec{
			Params: []function.Parameter{{Name: "prefix", Type: cty.String}, {Name: "hostnum", Type: cty.Number}},
			Type:   function.StaticReturnType(cty.String),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				p, err := netip.ParsePrefix(args[0].AsString())
				if err != nil || !p.Addr().Is4() {
					return cty.NilVal, fmt.Errorf("%q is not an IPv4 CIDR block", args[0].AsString())
				}
				n, _ := args[1].AsBigFloat().Int64()
				a := p.Masked().Addr().As4()
				binary.BigEndian.PutUint32(a[:], binary.BigEndian.Uint32(a[:])+uint32(n))
				return cty.StringVal(netip.AddrFrom4(a).String()), nil
			},
		}),
		"file": function.New(&function.Spec{
			Params: []function.Parameter{{Name: "path", Type: cty.String}},
			Type:   function.StaticReturnType(cty.String),
			Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
				b, err := m.readAbs(args[0].AsString())
				return cty.StringVal(string(b)), err
			},
		}),
	}
}

func convertFunc(to cty.Type) function.Function {
	return function.New(&function.Spec{
		Params: []function.Parameter{{Name: "v", Type: cty.DynamicPseudoType, AllowNull: true}},
		Type:   function.StaticReturnType(to),
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			return convert.Convert(args[0], to)
		},
	})
}

// cidrSubnet is Terraform's cidrsubnet for IPv4.
func cidrSubnet(prefix string, newbits int, netnum int64) (string, error) {
	p, err := netip.ParsePrefix(prefix)
	if err != nil || !p.Addr().Is4() {
		return "", fmt.Errorf("%q is not an IPv4 CIDR block", prefix)
	}
	bits := p.Bits() + newbits
	if newbits < 0 || bits > 32 || netnum < 0 || netnum >= 1<<newbits {
		return "", fmt.Errorf("cidrsubnet(%q, %d, %d): out of range", prefix, newbits, netnum)
	}
	a := p.Masked().Addr().As4()
	binary.BigEndian.PutUint32(a[:], binary.BigEndian.Uint32(a[:])|uint32(netnum)<<(32-bits))
	return netip.PrefixFrom(netip.AddrFrom4(a), bits).String(), nil
}
