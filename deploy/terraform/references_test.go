package terraform

import (
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// scope is what a reference may name where it stands, beyond the module's
// declarations.
type scope struct {
	count, each bool            // inside a block with count, or for_each
	iterators   map[string]bool // dynamic blocks' iterators
}

// checkReferences reports every reference to a variable, local, resource,
// data source or module that the module does not declare, and count.* or
// each.* used where the block has no count or for_each: what terraform
// validate would refuse, found without providers.
func (m *module) checkReferences() []error {
	var errs []error
	for _, b := range m.blocks {
		if b.Type == "terraform" {
			continue // required_providers and backends: no references
		}
		sc := scope{count: hasAttr(b.Body, "count"), each: hasAttr(b.Body, "for_each")}
		m.walk(b.Type, b.Body, sc, &errs)
	}
	return errs
}

func hasAttr(body *hclsyntax.Body, name string) bool {
	_, ok := body.Attributes[name]
	return ok
}

func (m *module) walk(blockType string, body *hclsyntax.Body, sc scope, errs *[]error) {
	for name, attr := range body.Attributes {
		switch {
		case blockType == "variable" && name == "type", // a type, not a reference
			blockType == "lifecycle" && name == "ignore_changes", // attribute names
			blockType == "dynamic" && name == "iterator",
			name == "provider": // a provider address such as aws.east
			continue
		}
		for _, tr := range hclsyntax.Variables(attr.Expr) {
			if err := m.resolve(tr, sc); err != nil {
				*errs = append(*errs, fmt.Errorf("%s: %w", where(tr.SourceRange()), err))
			}
		}
	}
	for _, b := range body.Blocks {
		inner := sc
		if b.Type == "dynamic" {
			name := b.Labels[0]
			if it, ok := b.Body.Attributes["iterator"]; ok {
				name = hcl.ExprAsKeyword(it.Expr)
			}
			inner.iterators = map[string]bool{name: true}
			for k := range sc.iterators {
				inner.iterators[k] = true
			}
		}
		m.walk(b.Type, b.Body, inner, errs)
	}
}

// resolve checks one reference against the declarations.
func (m *module) resolve(tr hcl.Traversal, sc scope) error {
	step := func(i int) string {
		if i < len(tr) {
			if a, ok := tr[i].(hcl.TraverseAttr); ok {
				return a.Name
			}
		}
		return ""
	}
	root, first, second := tr.RootName(), step(1), step(2)
	switch root {
	case "var":
		if m.variables[first] == nil {
			return fmt.Errorf("var.%s: no such variable", first)
		}
	case "local":
		if m.locals[first] == nil {
			return fmt.Errorf("local.%s: no such local", first)
		}
	case "data":
		if m.data[first+"."+second] == nil {
			return fmt.Errorf("data.%s.%s: no such data source", first, second)
		}
	case "module":
		if m.modules[first] == nil {
			return fmt.Errorf("module.%s: no such module", first)
		}
	case "path":
		if first != "module" && first != "root" && first != "cwd" {
			return fmt.Errorf("path.%s: no such path", first)
		}
	case "terraform":
		if first != "workspace" {
			return fmt.Errorf("terraform.%s: not a terraform attribute", first)
		}
	case "count":
		if !sc.count || first != "index" {
			return fmt.Errorf("count.%s: only count.index, and only in a block with count", first)
		}
	case "each":
		if !sc.each || (first != "key" && first != "value") {
			return fmt.Errorf("each.%s: only each.key or each.value, and only in a block with for_each", first)
		}
	case "self":
		return fmt.Errorf("self: only in provisioners, which this module does not use")
	default:
		if sc.iterators[root] {
			return nil
		}
		if m.resources[root+"."+first] == nil {
			return fmt.Errorf("%s.%s: no such resource", root, first)
		}
	}
	return nil
}

// checkVariables reports a variable without a valid type or a description,
// a string or number variable without a validation, an output without a
// description, and a validation that its own default, or the value in
// values (the example tfvars), does not pass.
func (m *module) checkVariables(values map[string]cty.Value) []error {
	var errs []error
	ctx, err := m.evalContext(values)
	if err != nil {
		return []error{err}
	}
	for _, name := range sortedKeys(m.variables) {
		b := m.variables[name]
		at := where(b.DefRange())
		if ty, ok := b.Body.Attributes["type"]; !ok {
			errs = append(errs, fmt.Errorf("%s: variable %q has no type", at, name))
		} else if _, diags := typeexpr.TypeConstraint(ty.Expr); diags.HasErrors() {
			errs = append(errs, fmt.Errorf("%s: variable %q: bad type: %w", at, name, diags))
		}
		if d, ok := b.Body.Attributes["description"]; !ok {
			errs = append(errs, fmt.Errorf("%s: variable %q has no description", at, name))
		} else if s, err := evalString(nil, d); err != nil || s == "" {
			errs = append(errs, fmt.Errorf("%s: variable %q has an empty description", at, name))
		}
		validated := false
		for _, v := range b.Body.Blocks {
			if v.Type != "validation" {
				continue
			}
			validated = true
			cond := v.Body.Attributes["condition"]
			if cond == nil {
				errs = append(errs, fmt.Errorf("%s: variable %q: a validation without a condition", where(v.DefRange()), name))
				continue
			}
			ok, diags := cond.Expr.Value(ctx)
			if diags.HasErrors() || !ok.IsKnown() || ok.IsNull() || ok.Type() != cty.Bool || ok.False() {
				errs = append(errs, fmt.Errorf("%s: variable %q: its value (default, or the example's) fails its validation %s",
					where(cond.SrcRange), name, diags))
			}
		}
		if ty := b.Body.Attributes["type"]; ty != nil && !validated {
			if kw := hcl.ExprAsKeyword(ty.Expr); kw == "string" || kw == "number" {
				errs = append(errs, fmt.Errorf("%s: variable %q (%s) has no validation", at, name, kw))
			}
		}
	}
	for _, name := range sortedKeys(m.outputs) {
		if !hasAttr(m.outputs[name].Body, "description") {
			errs = append(errs, fmt.Errorf("%s: output %q has no description", where(m.outputs[name].DefRange()), name))
		}
	}
	return errs
}

// exampleValues reads a tfvars file: every name must be a variable, and
// every variable without a default must be given.
func (m *module) exampleValues(file string) (map[string]cty.Value, []error) {
	src, err := m.read(file)
	if err != nil {
		return nil, []error{err}
	}
	f, diags := hclparse.NewParser().ParseHCL(src, file)
	if diags.HasErrors() {
		return nil, []error{diags}
	}
	attrs, diags := f.Body.JustAttributes()
	if diags.HasErrors() {
		return nil, []error{diags}
	}
	var errs []error
	values := map[string]cty.Value{}
	for name, attr := range attrs {
		if m.variables[name] == nil {
			errs = append(errs, fmt.Errorf("%s: %s is not a variable", where(attr.Range), name))
			continue
		}
		v, diags := attr.Expr.Value(nil)
		if diags.HasErrors() {
			errs = append(errs, diags)
			continue
		}
		values[name] = v
	}
	for _, name := range sortedKeys(m.variables) {
		if _, given := values[name]; !given && !hasAttr(m.variables[name].Body, "default") {
			errs = append(errs, fmt.Errorf("%s: variable %q is required but not given", file, name))
		}
	}
	return values, errs
}

func sortedKeys[V any](table map[string]V) []string {
	keys := make([]string, 0, len(table))
	for k := range table {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
