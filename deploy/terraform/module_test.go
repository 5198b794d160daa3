package terraform

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// module is the Terraform of one directory, parsed with hcl/v2 alone: no
// provider schemas, no state.
type module struct {
	dir string
	// overlay replaces files (by path relative to dir, slash-separated) or
	// adds them, so that a test can break one rule without touching the disk.
	overlay map[string]string

	blocks    []*hclsyntax.Block // every top-level block, in file order
	variables map[string]*hclsyntax.Block
	locals    map[string]*hclsyntax.Attribute
	resources map[string]*hclsyntax.Block // by "type.name"
	data      map[string]*hclsyntax.Block // by "type.name"
	modules   map[string]*hclsyntax.Block
	outputs   map[string]*hclsyntax.Block
}

// loadModule parses every .tf file of dir, with overlay's replacements.
func loadModule(dir string, overlay map[string]string) (*module, error) {
	m := &module{
		dir: dir, overlay: overlay,
		variables: map[string]*hclsyntax.Block{}, locals: map[string]*hclsyntax.Attribute{},
		resources: map[string]*hclsyntax.Block{}, data: map[string]*hclsyntax.Block{},
		modules: map[string]*hclsyntax.Block{}, outputs: map[string]*hclsyntax.Block{},
	}
	names := map[string]bool{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read module: %w", err)
	}
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".tf") {
			names[e.Name()] = true
		}
	}
	for name := range overlay {
		if strings.HasSuffix(name, ".tf") && !strings.Contains(name, "/") {
			names[name] = true
		}
	}
	sorted := make([]string, 0, len(names))
	for name := range names {
		sorted = append(sorted, name)
	}
	sort.Strings(sorted)
	parser := hclparse.NewParser()
	for _, name := range sorted {
		src, err := m.read(name)
		if err != nil {
			return nil, err
		}
		f, diags := parser.ParseHCL(src, name)
		if diags.HasErrors() {
			return nil, fmt.Errorf("parse %s: %w", name, diags)
		}
		for _, b := range f.Body.(*hclsyntax.Body).Blocks {
			if err := m.declare(b); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// read returns a file of the module (or beside it, as ../systemd/...).
func (m *module) read(rel string) ([]byte, error) {
	if s, ok := m.overlay[filepath.ToSlash(rel)]; ok {
		return []byte(s), nil
	}
	return os.ReadFile(filepath.Join(m.dir, rel))
}

// readAbs reads a path as Terraform's path.module-based expressions give it.
func (m *module) readAbs(p string) ([]byte, error) {
	rel, err := filepath.Rel(m.dir, p)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", p, err)
	}
	return m.read(rel)
}

func (m *module) declare(b *hclsyntax.Block) error {
	m.blocks = append(m.blocks, b)
	at := where(b.DefRange())
	add := func(table map[string]*hclsyntax.Block, key string) error {
		if table[key] != nil {
			return fmt.Errorf("%s: %s %q is declared twice", at, b.Type, key)
		}
		table[key] = b
		return nil
	}
	switch b.Type {
	case "terraform", "provider", "moved", "import", "check":
		return nil
	case "variable":
		return add(m.variables, b.Labels[0])
	case "output":
		return add(m.outputs, b.Labels[0])
	case "module":
		return add(m.modules, b.Labels[0])
	case "resource":
		return add(m.resources, b.Labels[0]+"."+b.Labels[1])
	case "data":
		return add(m.data, b.Labels[0]+"."+b.Labels[1])
	case "locals":
		for name, attr := range b.Body.Attributes {
			if m.locals[name] != nil {
				return fmt.Errorf("%s: local %q is declared twice", where(attr.SrcRange), name)
			}
			m.locals[name] = attr
		}
		return nil
	default:
		return fmt.Errorf("%s: unknown block type %q", at, b.Type)
	}
}

// resourcesOfType lists the resources of one type, by name, sorted.
func (m *module) resourcesOfType(typ string) []string {
	var names []string
	for key := range m.resources {
		if t, name, _ := strings.Cut(key, "."); t == typ {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// where is a position as an editor takes it: file:line.
func where(r hcl.Range) string {
	return fmt.Sprintf("%s:%d", r.Filename, r.Start.Line)
}

// mustLoad loads this directory's Terraform, failing the test if it does
// not parse.
func mustLoad(t *testing.T, overlay map[string]string) *module {
	t.Helper()
	m, err := loadModule(".", overlay)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// broken returns overlay with one replacement in one of this directory's
// files, failing the test if old is not in it exactly once, so that a
// test's "broken" module can never silently be the real one.
func broken(t *testing.T, file, old, replacement string) map[string]string {
	t.Helper()
	src, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(src), old); n != 1 {
		t.Fatalf("%s has %q %d times, want once: the test no longer breaks what it says", file, old, n)
	}
	return map[string]string{file: strings.Replace(string(src), old, replacement, 1)}
}

// wantError fails the test unless one of errs says every one of want.
func wantError(t *testing.T, errs []error, want ...string) {
	t.Helper()
	for _, err := range errs {
		all := true
		for _, w := range want {
			all = all && strings.Contains(err.Error(), w)
		}
		if all {
			return
		}
	}
	t.Errorf("no error says %q; got %d: %v", want, len(errs), errs)
}

// noErrors fails the test with every error in errs.
func noErrors(t *testing.T, errs []error) {
	t.Helper()
	for _, err := range errs {
		t.Error(err)
	}
}
