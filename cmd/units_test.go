package cmd_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTheSystemdUnitsVerify runs systemd-analyze verify on deploy/systemd's
// units, pointed at the real binary. verify exits 0 on an unknown key or a
// bad value and only prints a warning, so any output is a failure.
func TestTheSystemdUnitsVerify(t *testing.T) {
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		if os.Getenv("GBTEST_REQUIRE_TOOLS") != "" {
			t.Fatal("GBTEST_REQUIRE_TOOLS is set but systemd-analyze is missing (Debian: apt-get install systemd)")
		}
		t.Skip("systemd-analyze is not installed here; make test requires it")
	}
	units, _ := filepath.Glob("../deploy/systemd/*.service")
	if len(units) != 3 {
		t.Fatalf("found %d units in deploy/systemd, want web, app and migrate", len(units))
	}
	dir := t.TempDir()
	var paths []string
	for _, u := range units {
		text, err := os.ReadFile(u)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"EnvironmentFile=", "User=guestbook", "NoNewPrivileges=yes", "ProtectSystem=strict",
			"ProtectHome=yes", "PrivateTmp=yes", "RestrictAddressFamilies=", "SystemCallFilter=", "CapabilityBoundingSet="} {
			if !strings.Contains(string(text), want) {
				t.Errorf("%s lacks %s", u, want)
			}
		}
		if !strings.Contains(u, "migrate") {
			for _, want := range []string{"Type=notify", "Restart=on-failure", "TimeoutStopSec="} {
				if !strings.Contains(string(text), want) {
					t.Errorf("%s lacks %s", u, want)
				}
			}
		}
		// The real binary, and environment files that need not exist here.
		s := strings.ReplaceAll(string(text), "/usr/bin/guestbook", binary)
		s = strings.ReplaceAll(s, "EnvironmentFile=/", "EnvironmentFile=-/")
		path := filepath.Join(dir, filepath.Base(u))
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, path)
	}
	cmd := exec.Command(analyze, append([]string{"verify", "--man=no"}, paths...)...)
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_LEVEL=warning")
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

func TestTheAppUnitRunsAfterTheMigrations(t *testing.T) {
	text, err := os.ReadFile("../deploy/systemd/guestbook-app.service")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"After=network-online.target guestbook-migrate.service", "Wants=network-online.target guestbook-migrate.service", "--role=app"} {
		if !strings.Contains(string(text), want) {
			t.Errorf("guestbook-app.service lacks %q", want)
		}
	}
}
