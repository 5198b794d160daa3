package storetest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// RequireServer skips the test unless mariadbd and mariadb-install-db are
// installed, as StartServer and StartPair do, or fails it when
// GBTEST_REQUIRE_MYSQL is set. A test that prepares much before it starts its
// servers calls it first.
func RequireServer(t testing.TB) {
	t.Helper()
	binaries(t)
}

// binaries finds mariadbd and mariadb-install-db on PATH or in /usr/sbin.
func binaries(t testing.TB) (mariadbd, installDB string) {
	t.Helper()
	mariadbd = findBin("mariadbd", "mysqld")
	installDB = findBin("mariadb-install-db", "mysql_install_db")
	if mariadbd == "" || installDB == "" {
		const msg = "needs mariadbd and mariadb-install-db (Debian: apt-get install -y mariadb-server)"
		if os.Getenv("GBTEST_REQUIRE_MYSQL") != "" {
			t.Fatal("GBTEST_REQUIRE_MYSQL is set but this test " + msg)
		}
		t.Skip("this test " + msg)
	}
	return mariadbd, installDB
}

func findBin(names ...string) string {
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
		if p := filepath.Join("/usr/sbin", name); isExecutable(p) {
			return p
		}
	}
	return ""
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// osUser is who mariadbd runs as: itself. As root it must be told so.
func osUser() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return strconv.Itoa(os.Getuid())
}

// install runs mariadb-install-db into the server's datadir.
func (s *Server) install() error {
	if err := os.MkdirAll(s.tmpdir(), 0o700); err != nil {
		return err
	}
	cmd := exec.Command(s.installDB, "--no-defaults", "--datadir="+s.datadir(),
		"--user="+osUser(), "--auth-root-authentication-method=normal", "--skip-test-db",
		"--tmpdir="+s.tmpdir(), "--innodb-log-file-size=16M", "--innodb-buffer-pool-size=64M")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("mariadb-install-db: %v\n%s", err, errorLines(string(out)))
	}
	return nil
}

// tmpdir is the server's own: mariadbd deletes every #sql* file in its tmpdir
// when it starts, so servers sharing /tmp delete each other's temp tables.
func (s *Server) tmpdir() string { return filepath.Join(s.dir, "tmp") }

// errorLines picks what explains a failed mariadb-install-db out of its long
// advice.
func errorLines(out string) string {
	var keep []string
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "ERROR") || strings.Contains(l, "rror:") {
			keep = append(keep, l)
		}
	}
	if len(keep) == 0 {
		return tail(out, 20)
	}
	return tail(strings.Join(keep, "\n"), 20)
}

func (s *Server) datadir() string { return filepath.Join(s.dir, "data") }

// logTail is the end of the server's error log, for failure messages.
func (s *Server) logTail(lines int) string {
	b, err := os.ReadFile(filepath.Join(s.dir, "error.log"))
	if errors.Is(err, os.ErrNotExist) {
		b, _ = os.ReadFile(filepath.Join(s.dir, "stderr.log"))
	}
	return tail(string(b), lines)
}

func tail(s string, lines int) string {
	all := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}
