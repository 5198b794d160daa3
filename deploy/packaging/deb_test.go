package packaging

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/guestbook/guestbook/config"
)

// packaged is what each package must hold: path → mode and owner.
var packaged = map[string]string{
	"/usr/bin/guestbook":                                "-rwxr-xr-x root/root",
	"/usr/lib/systemd/system/guestbook-web.service":     "-rw-r--r-- root/root",
	"/usr/lib/systemd/system/guestbook-app.service":     "-rw-r--r-- root/root",
	"/usr/lib/systemd/system/guestbook-migrate.service": "-rw-r--r-- root/root",
	"/etc/guestbook/guestbook.env":                      "-rw-r----- root/root",
	"/usr/share/doc/guestbook/config.example.yaml":      "-rw-r--r-- root/root",
}

// forbidden are what maintainer scripts must never do on their own.
var forbidden = regexp.MustCompile(`systemctl([ \t]+\S+)*[ \t]+(start|enable|restart|reload-or-restart|try-restart|preset)\b|deb-systemd-invoke|invoke-rc\.d`)

// checkScripts checks the maintainer scripts, named by their role.
func checkScripts(t *testing.T, pkg string, scripts map[string]string) {
	t.Helper()
	for role, wants := range map[string][]string{
		"preinstall":  {"groupadd --system", "useradd --system", "guestbook"},
		"postinstall": {"/var/lib/guestbook", "systemctl daemon-reload"},
		"postremove":  {"systemctl daemon-reload"},
	} {
		text, ok := scripts[role]
		if !ok {
			t.Errorf("%s has no %s script", pkg, role)
			continue
		}
		for _, want := range wants {
			if !strings.Contains(text, want) {
				t.Errorf("%s's %s script lacks %q", pkg, role, want)
			}
		}
	}
	for role, text := range scripts {
		if m := forbidden.FindString(text); m != "" {
			t.Errorf("%s's %s script does %q: it must never start, enable or restart anything", pkg, role, m)
		}
	}
}

func TestTheDebHoldsTheBinaryUnitsAndConffileWithTheirModes(t *testing.T) {
	r := theRelease(t)
	need(t, "dpkg-deb", "dpkg")
	deb := r.path("guestbook_" + r.version + "_amd64.deb")
	got := map[string]string{}
	for _, line := range strings.Split(run(t, "dpkg-deb", "--contents", deb), "\n") {
		f := strings.Fields(line) // -rw-r--r-- root/root 1234 2026-01-01 00:00 ./path
		if len(f) >= 6 {
			got[strings.TrimPrefix(f[5], ".")] = f[0] + " " + f[1]
		}
	}
	for path, want := range packaged {
		if got[path] != want {
			t.Errorf("the .deb has %s as %q, want %q", path, got[path], want)
		}
	}
	if conffiles := run(t, "dpkg-deb", "--info", deb, "conffiles"); strings.TrimSpace(conffiles) != "/etc/guestbook/guestbook.env" {
		t.Errorf("the .deb's conffiles are %q, want /etc/guestbook/guestbook.env alone", conffiles)
	}
	if arch := strings.TrimSpace(run(t, "dpkg-deb", "--field", deb, "Architecture")); arch != "amd64" {
		t.Errorf("the .deb is for %q, want amd64", arch)
	}
	scripts := map[string]string{}
	for role, name := range map[string]string{"preinstall": "preinst", "postinstall": "postinst", "postremove": "postrm"} {
		if out, err := exec.Command("dpkg-deb", "--info", deb, name).Output(); err == nil {
			scripts[role] = string(out)
		}
	}
	checkScripts(t, "the .deb", scripts)
}

func TestTheRPMHoldsTheSameWithTheEnvFileKeptOnUpgrade(t *testing.T) {
	r := theRelease(t)
	need(t, "rpm", "rpm")
	pkg := r.path("guestbook-" + r.version + "-1.x86_64.rpm")
	got := map[string]string{}
	out := run(t, "rpm", "-qp", "--queryformat", `[%{FILEMODES:perms} %{FILEUSERNAME}/%{FILEGROUPNAME} %{FILEFLAGS:fflags}|%{FILENAMES}\n]`, pkg)
	flags := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		head, path, _ := strings.Cut(line, "|")
		f := strings.Fields(head)
		got[path] = f[0] + " " + f[1]
		if len(f) > 2 {
			flags[path] = f[2]
		}
	}
	for path, want := range packaged {
		if got[path] != want {
			t.Errorf("the .rpm has %s as %q, want %q", path, got[path], want)
		}
	}
	if f := flags["/etc/guestbook/guestbook.env"]; !strings.Contains(f, "c") || !strings.Contains(f, "n") {
		t.Errorf("the .rpm's env file has flags %q, want %%config(noreplace) (c and n)", f)
	}
	if arch := strings.TrimSpace(run(t, "rpm", "-qp", "--queryformat", "%{ARCH}", pkg)); arch != "x86_64" {
		t.Errorf("the .rpm is for %q, want x86_64", arch)
	}
	scripts := map[string]string{}
	for role, tag := range map[string]string{"preinstall": "PREIN", "postinstall": "POSTIN", "postremove": "POSTUN"} {
		if s := run(t, "rpm", "-qp", "--queryformat", "%{"+tag+"}", pkg); s != "(none)" {
			scripts[role] = s
		}
	}
	checkScripts(t, "the .rpm", scripts)
}

func TestLintianFindsNoErrorInTheDeb(t *testing.T) {
	r := theRelease(t)
	lintian := need(t, "lintian", "lintian")
	out, err := exec.Command(lintian, "--fail-on", "error", "--no-tag-display-limit",
		r.path("guestbook_"+r.version+"_amd64.deb")).CombinedOutput()
	if err != nil {
		t.Errorf("lintian: %v\n%s", err, out)
	}
}

// TestTheDebInstalledInAThrowAwayRootLeavesWhatTheUnitsNeed installs the
// .deb with dpkg into an empty root (its maintainer scripts honour
// DPKG_ROOT), checks that every file the units name is there and that the
// binary accepts what the units hand it, runs systemd-analyze verify on the
// installed units, and purges it.
func TestTheDebInstalledInAThrowAwayRootLeavesWhatTheUnitsNeed(t *testing.T) {
	r := theRelease(t)
	dpkg := need(t, "dpkg", "dpkg")
	analyze := need(t, "systemd-analyze", "systemd")
	if os.Geteuid() != 0 {
		t.Skip("installing into a root needs root (the maintainer scripts chown); make test runs as root")
	}
	root := t.TempDir()
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates", "etc", "usr/lib/systemd/system"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	for name, text := range map[string]string{
		"var/lib/dpkg/status": "", "var/lib/dpkg/available": "",
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\n", "etc/group": "root:x:0:\n", "etc/shadow": "", "etc/gshadow": "",
	} {
		os.WriteFile(filepath.Join(root, name), []byte(text), 0o644)
	}
	dpkgIn := func(args ...string) string {
		return run(t, dpkg, append([]string{"--root=" + root, "--force-script-chrootless", "--force-not-root"}, args...)...)
	}
	dpkgIn("--install", r.path("guestbook_"+r.version+"_amd64.deb"))

	if out := run(t, filepath.Join(root, "usr/bin/guestbook"), "version"); !strings.Contains(out, r.version) {
		t.Errorf("the installed binary says %q, want version %s", out, r.version)
	}
	passwd, _ := os.ReadFile(filepath.Join(root, "etc/passwd"))
	if !regexp.MustCompile(`(?m)^guestbook:x:\d{1,3}:\d+:[^:]*:/var/lib/guestbook:/usr/sbin/nologin$`).Match(passwd) {
		t.Errorf("no guestbook system user (uid under 1000, no login) in /etc/passwd:\n%s", passwd)
	}
	if fi, err := os.Stat(filepath.Join(root, "var/lib/guestbook")); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o750 {
		t.Errorf("/var/lib/guestbook: %v, %v; want a directory of mode 0750", fi, err)
	}

	environ := installedEnviron(t, root)
	cfg, err := config.Load("", environ)
	if err != nil {
		t.Fatalf("the binary refuses what the app unit hands it: %v", err)
	}
	if cfg.Database.Primary != "/var/lib/guestbook/guestbook.db" || len(cfg.Database.Replicas) != 0 {
		t.Errorf("from the installed files the app tier uses primary %q, replicas %q; want the SQLite default in the state directory",
			cfg.Database.Primary, cfg.Database.Replicas)
	}

	// verify needs the system's targets beside the units in the root.
	targets, _ := filepath.Glob("/usr/lib/systemd/system/*.target")
	for _, target := range targets {
		if data, err := os.ReadFile(target); err == nil {
			os.WriteFile(filepath.Join(root, "usr/lib/systemd/system", filepath.Base(target)), data, 0o644)
		}
	}
	units, _ := filepath.Glob(filepath.Join(root, "usr/lib/systemd/system/guestbook-*.service"))
	if len(units) != 3 {
		t.Fatalf("installed %d units, want web, app and migrate", len(units))
	}
	cmd := exec.Command(analyze, append([]string{"verify", "--root=" + root, "--man=no"}, units...)...)
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_LEVEL=warning")
	if out, err := cmd.CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify on the installed units: %v\n%s", err, out)
	}

	dpkgIn("--purge", "guestbook")
	for _, gone := range []string{"usr/bin/guestbook", "etc/guestbook/guestbook.env", "etc/guestbook/database.primary"} {
		if _, err := os.Stat(filepath.Join(root, gone)); err == nil {
			t.Errorf("/%s is still there after a purge", gone)
		}
	}
}

// installedEnviron is what systemd would hand the installed app unit: its
// Environment= lines with %d its credentials (each LoadCredential= file,
// which must exist), and its EnvironmentFile=, which must exist and list
// every variable the binary takes.
func installedEnviron(t *testing.T, root string) []string {
	t.Helper()
	unit, err := os.ReadFile(filepath.Join(root, "usr/lib/systemd/system/guestbook-app.service"))
	if err != nil {
		t.Fatal(err)
	}
	creds := t.TempDir()
	var environ []string
	for _, line := range strings.Split(string(unit), "\n") {
		if cred, ok := strings.CutPrefix(line, "LoadCredential="); ok {
			id, src, _ := strings.Cut(cred, ":")
			data, err := os.ReadFile(filepath.Join(root, src))
			if err != nil {
				t.Errorf("the app unit loads %s from %s: %v", id, src, err)
			}
			if fi, err := os.Stat(filepath.Join(root, src)); err == nil && fi.Mode().Perm() != 0o600 {
				t.Errorf("%s has mode %o, want 0600 (it holds a DSN)", src, fi.Mode().Perm())
			}
			os.WriteFile(filepath.Join(creds, id), data, 0o600)
		}
		if env, ok := strings.CutPrefix(line, "Environment="); ok {
			environ = append(environ, strings.ReplaceAll(env, "%d", creds))
		}
		if path, ok := strings.CutPrefix(line, "EnvironmentFile="); ok {
			environ = append(environ, envFile(t, filepath.Join(root, strings.TrimPrefix(path, "-")))...)
		}
	}
	return environ
}

// envFile reads an installed env file's settings, and checks that it names
// every variable, commented out.
func envFile(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("the units' EnvironmentFile: %v", err)
	}
	defer f.Close()
	var set, commented []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if name, _, ok := strings.Cut(strings.TrimPrefix(line, "#"), "="); ok && strings.HasPrefix(name, config.EnvPrefix) {
			if strings.HasPrefix(line, "#") {
				commented = append(commented, name)
			} else {
				set = append(set, line)
			}
		}
	}
	for _, k := range config.Keys() {
		if !slices.Contains(commented, k.Env) {
			t.Errorf("%s lacks #%s=", path, k.Env)
		}
		if k.Secret && !slices.Contains(commented, k.FileEnv) {
			t.Errorf("%s lacks #%s=", path, k.FileEnv)
		}
	}
	if len(set) > 0 {
		t.Errorf("%s sets %q; want every variable commented out", path, set)
	}
	return set
}
