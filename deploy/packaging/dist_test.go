package packaging

import (
	"archive/tar"
	"compress/gzip"
	"debug/buildinfo"
	"debug/elf"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
)

// release is the set of artifacts make dist made, found once per run.
type release struct {
	dir     string
	version string // as in the file names, such as 1.2.3 or 0.0.0-dev+0123456789ab
	err     error
}

var (
	distOnce sync.Once
	dist     release
	madeDir  string // the temp dir theRelease made, removed after the tests
)

func TestMain(m *testing.M) {
	code := m.Run()
	if madeDir != "" {
		os.RemoveAll(madeDir)
	}
	os.Exit(code)
}

// theRelease is the dist directory that make test built before the tests
// (GBTEST_DIST), or one that scripts/dist builds now into a temp dir.
func theRelease(t *testing.T) release {
	t.Helper()
	distOnce.Do(func() {
		dist.dir = os.Getenv("GBTEST_DIST")
		if dist.dir == "" {
			dir, err := os.MkdirTemp("", "guestbook-dist-")
			if err != nil {
				dist.err = err
				return
			}
			dist.dir, madeDir = dir, dir
			cmd := exec.Command("../../scripts/dist")
			cmd.Env = append(os.Environ(), "DIST="+dir)
			if out, err := cmd.CombinedOutput(); err != nil {
				dist.err = &exec.ExitError{ProcessState: cmd.ProcessState, Stderr: out}
				return
			}
		}
		matches, _ := filepath.Glob(filepath.Join(dist.dir, "guestbook_*_linux_amd64.tar.gz"))
		if len(matches) != 1 {
			dist.err = &os.PathError{Op: "find one amd64 tarball", Path: dist.dir, Err: os.ErrNotExist}
			return
		}
		name := filepath.Base(matches[0])
		dist.version = strings.TrimSuffix(strings.TrimPrefix(name, "guestbook_"), "_linux_amd64.tar.gz")
	})
	if dist.err != nil {
		if ee, ok := dist.err.(*exec.ExitError); ok {
			t.Fatalf("scripts/dist: %v\n%s", ee.ProcessState, ee.Stderr)
		}
		t.Fatal(dist.err)
	}
	return dist
}

// path is an artifact's path in the release.
func (r release) path(name string) string { return filepath.Join(r.dir, name) }

// artifacts are every file make dist promises, by name.
func (r release) artifacts() []string {
	v := r.version
	return []string{
		"guestbook_" + v + "_linux_amd64.tar.gz", "guestbook_" + v + "_linux_arm64.tar.gz",
		"guestbook_" + v + "_amd64.deb", "guestbook_" + v + "_arm64.deb",
		"guestbook-" + v + "-1.x86_64.rpm", "guestbook-" + v + "-1.aarch64.rpm",
		"guestbook.cdx.json",
	}
}

// need is the path of a tool, or a skip (a failure under make test).
func need(t *testing.T, tool, debian string) string {
	t.Helper()
	p, err := exec.LookPath(tool)
	if err != nil {
		if os.Getenv("GBTEST_REQUIRE_TOOLS") != "" {
			t.Fatalf("GBTEST_REQUIRE_TOOLS is set but %s is missing (Debian: apt-get install %s)", tool, debian)
		}
		t.Skipf("%s is not installed here (Debian: %s); make test requires it", tool, debian)
	}
	return p
}

// run runs a command and returns its output, failing the test on an error.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// untar reads a .tar.gz into its entries' names and contents.
func untar(t *testing.T, path string) (map[string][]byte, map[string]*tar.Header) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	files, headers := map[string][]byte{}, map[string]*tar.Header{}
	tr := tar.NewReader(gz)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files, headers
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		data, _ := io.ReadAll(tr)
		files[h.Name], headers[h.Name] = data, h
	}
}

// headCommit is the commit the tree is at, as the binary names it.
func headCommit(t *testing.T) string {
	t.Helper()
	return strings.TrimSpace(run(t, "git", "rev-parse", "--short=12", "HEAD"))
}

func TestTheTarballsHoldAStaticStampedBinaryTheUnitsAndTheDocs(t *testing.T) {
	r := theRelease(t)
	for _, arch := range []string{"amd64", "arm64"} {
		dir := "guestbook_" + r.version + "_linux_" + arch + "/"
		files, headers := untar(t, r.path(dir[:len(dir)-1]+".tar.gz"))
		for _, name := range []string{"guestbook", "README.md", "config.example.yaml",
			"systemd/guestbook-web.service", "systemd/guestbook-app.service", "systemd/guestbook-migrate.service"} {
			if _, ok := files[dir+name]; !ok {
				t.Errorf("%s tarball lacks %s", arch, dir+name)
			}
		}
		if h := headers[dir+"guestbook"]; h != nil && (h.Mode&0o111 == 0 || h.Uid != 0) {
			t.Errorf("%s tarball: guestbook has mode %o, uid %d; want executable, root's", arch, h.Mode, h.Uid)
		}
		bin := filepath.Join(t.TempDir(), "guestbook")
		if err := os.WriteFile(bin, files[dir+"guestbook"], 0o755); err != nil {
			t.Fatal(err)
		}
		info, err := buildinfo.ReadFile(bin)
		if err != nil {
			t.Fatalf("%s binary: %v", arch, err)
		}
		settings := map[string]string{}
		for _, s := range info.Settings {
			settings[s.Key] = s.Value
		}
		// timetzdata: the time-zone database in the binary, as a FROM
		// scratch image has no /usr/share/zoneinfo.
		for key, want := range map[string]string{"GOOS": "linux", "GOARCH": arch, "CGO_ENABLED": "0", "-trimpath": "true", "-tags": "timetzdata"} {
			if settings[key] != want {
				t.Errorf("%s binary was built with %s=%q, want %q", arch, key, settings[key], want)
			}
		}
		if e, err := elf.Open(bin); err == nil {
			for _, p := range e.Progs {
				if p.Type == elf.PT_INTERP {
					t.Errorf("%s binary asks for a dynamic loader: it would not run FROM scratch", arch)
				}
			}
			e.Close()
		}
		if arch == "amd64" {
			out := run(t, bin, "version")
			want := "guestbook " + r.version + " (" + headCommit(t) + ")"
			if !strings.HasPrefix(out, want) {
				t.Errorf("guestbook version says %q, want it to start %q", out, want)
			}
		}
	}
}

func TestTheVersionIsTheTagOrADevVersionNamingTheCommit(t *testing.T) {
	r := theRelease(t)
	tag, err := exec.Command("git", "describe", "--tags", "--exact-match", "--match", "v[0-9]*").Output()
	switch {
	case err == nil && !strings.Contains(r.version, "dirty"):
		if want := strings.TrimPrefix(strings.TrimSpace(string(tag)), "v"); r.version != want {
			t.Errorf("at tag %s the version is %q, want %q", tag, r.version, want)
		}
	case err != nil:
		if !regexp.MustCompile(`^\d+\.\d+\.\d+-dev(\.\d+)?\+[0-9a-f]{12}(\.dirty)?$`).MatchString(r.version) {
			t.Errorf("away from a tag the version is %q, want 0.0.0-dev+COMMIT or X.Y.Z-dev.N+COMMIT", r.version)
		}
	}
}

func TestSHA256SUMSChecksEveryArtifact(t *testing.T) {
	r := theRelease(t)
	need(t, "sha256sum", "coreutils")
	cmd := exec.Command("sha256sum", "--check", "--strict", "SHA256SUMS")
	cmd.Dir = r.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sha256sum --check: %v\n%s", err, out)
	}
	for _, name := range r.artifacts() {
		if !strings.Contains(string(out), name+": OK\n") {
			t.Errorf("SHA256SUMS does not check %s:\n%s", name, out)
		}
	}
	entries, _ := os.ReadDir(r.dir)
	for _, e := range entries {
		if e.Name() != "SHA256SUMS" && !slices.Contains(r.artifacts(), e.Name()) {
			t.Errorf("make dist left %s in dist/, which is no artifact", e.Name())
		}
	}
}

// TestTheSBOMNamesEveryModuleOfTheBinary checks the CycloneDX SBOM against
// go.mod: every required module the binary holds is a component, with
// go.mod's version.
func TestTheSBOMNamesEveryModuleOfTheBinary(t *testing.T) {
	r := theRelease(t)
	data, err := os.ReadFile(r.path("guestbook.cdx.json"))
	if err != nil {
		t.Fatal(err)
	}
	var bom struct {
		BOMFormat string `json:"bomFormat"`
		Metadata  struct {
			Component struct{ Name, Version string } `json:"component"`
		} `json:"metadata"`
		Components []struct{ Name, Version, Purl string } `json:"components"`
	}
	if err := json.Unmarshal(data, &bom); err != nil {
		t.Fatalf("guestbook.cdx.json does not parse: %v", err)
	}
	if bom.BOMFormat != "CycloneDX" || bom.Metadata.Component.Name != "github.com/guestbook/guestbook" {
		t.Errorf("the SBOM is %q of %q, want CycloneDX of github.com/guestbook/guestbook", bom.BOMFormat, bom.Metadata.Component.Name)
	}
	components := map[string]string{}
	for _, c := range bom.Components {
		components[c.Name] = c.Version
	}
	files, _ := untar(t, r.path("guestbook_"+r.version+"_linux_amd64.tar.gz"))
	bin := filepath.Join(t.TempDir(), "guestbook")
	os.WriteFile(bin, files["guestbook_"+r.version+"_linux_amd64/guestbook"], 0o755)
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	inBinary := map[string]bool{}
	for _, d := range info.Deps {
		inBinary[d.Path] = true
	}
	checked := 0
	for path, version := range goModRequires(t) {
		if !inBinary[path] {
			continue // a module only tests use
		}
		checked++
		if v, ok := components[path]; !ok || v != version {
			t.Errorf("the SBOM has %s at %q, want go.mod's %s", path, v, version)
		}
	}
	for _, direct := range []string{"github.com/spf13/cobra", "github.com/go-sql-driver/mysql", "modernc.org/sqlite"} {
		if _, ok := components[direct]; !ok {
			t.Errorf("the SBOM lacks %s", direct)
		}
	}
	if checked < 5 {
		t.Errorf("only %d of go.mod's modules are in the binary: is this the binary's SBOM?", checked)
	}
}

// goModRequires reads go.mod's require lines: module path → version.
func goModRequires(t *testing.T) map[string]string {
	t.Helper()
	data, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	reqs := map[string]string{}
	inBlock := false
	for _, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "//")
		fields := strings.Fields(line)
		switch {
		case len(fields) == 2 && fields[0] == "require" && fields[1] == "(":
			inBlock = true
		case inBlock && len(fields) == 1 && fields[0] == ")":
			inBlock = false
		case inBlock && len(fields) == 2:
			reqs[fields[0]] = fields[1]
		case len(fields) == 3 && fields[0] == "require":
			reqs[fields[1]] = fields[2]
		}
	}
	if len(reqs) == 0 {
		t.Fatal("go.mod has no require lines")
	}
	return reqs
}
