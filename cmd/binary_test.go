package cmd_test

// These tests build the real guestbook binary once and run it as a user
// would: in an empty directory, with a clean environment holding only PATH,
// HOME, TMPDIR and the GUESTBOOK_ variables a test sets.

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/guestbook/guestbook/internal/httpcheck"
	"github.com/guestbook/guestbook/store/storetest"
)

// binary is the guestbook built by TestMain.
var binary string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "guestbook-binary-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "guestbook")
	build := exec.Command("go", "build", "-o", binary, "github.com/guestbook/guestbook")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build guestbook: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// cleanEnv is the environment of a user who set only vars: no GUESTBOOK_
// variable of the test's own environment leaks into the binary.
func cleanEnv(vars ...string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir()}
	return append(env, vars...)
}

// syncBuffer collects a process's output while tests read it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// process is one running guestbook.
type process struct {
	args           []string
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	done           chan struct{} // closed when it has exited
}

// start runs guestbook with args in dir; it is killed when the test ends if
// still running.
func start(t *testing.T, dir string, env []string, args ...string) *process {
	t.Helper()
	p := &process{args: args, cmd: exec.Command(binary, args...), done: make(chan struct{})}
	p.cmd.Dir = dir
	p.cmd.Env = env
	p.cmd.Stdout = &p.stdout
	p.cmd.Stderr = &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start guestbook %s: %v", strings.Join(args, " "), err)
	}
	go func() {
		p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// wait returns the exit code, failing the test if the process is still
// running after timeout.
func (p *process) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(timeout):
		t.Fatalf("guestbook %s still running after %s; stderr:\n%s", strings.Join(p.args, " "), timeout, p.stderr.String())
		return -1
	}
}

// stop sends sig and expects a clean exit (code 0) within a few seconds.
func (p *process) stop(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %s: %v", sig, err)
	}
	if code := p.wait(t, 5*time.Second); code != 0 {
		t.Errorf("after %s guestbook exited with code %d, want 0; stderr:\n%s", sig, code, p.stderr.String())
	}
}

// result is what a finished run printed and its exit code.
type result struct {
	stdout, stderr string
	code           int
}

// run runs guestbook with args in dir to the end.
func run(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	p := start(t, dir, env, args...)
	code := p.wait(t, 30*time.Second)
	return result{stdout: p.stdout.String(), stderr: p.stderr.String(), code: code}
}

// mustRun runs guestbook with args and fails the test unless it exits 0.
func mustRun(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	r := run(t, dir, env, args...)
	if r.code != 0 {
		t.Fatalf("guestbook %s exited with code %d; stderr:\n%s", strings.Join(args, " "), r.code, r.stderr)
	}
	return r
}

// failsWithOneLine checks the failure contract: a non-zero code, nothing on
// stdout and exactly one line on stderr starting "guestbook: ". It returns
// that line.
func failsWithOneLine(t *testing.T, r result) string {
	t.Helper()
	if r.code == 0 {
		t.Errorf("exit code 0, want non-zero")
	}
	if r.stdout != "" {
		t.Errorf("stdout is %q, want nothing", r.stdout)
	}
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.HasSuffix(r.stderr, "\n") || !strings.HasPrefix(lines[0], "guestbook: ") {
		t.Errorf("stderr is not one line starting %q:\n%s", "guestbook: ", r.stderr)
	}
	return lines[len(lines)-1]
}

// failsWithLastLine checks the failure contract of a run that had started
// work (and may have logged it) before failing: a non-zero code, nothing on
// stdout, and stderr ending with the one line starting "guestbook: ". It
// returns that line.
func failsWithLastLine(t *testing.T, r result) string {
	t.Helper()
	if r.code == 0 {
		t.Errorf("exit code 0, want non-zero")
	}
	if r.stdout != "" {
		t.Errorf("stdout is %q, want nothing", r.stdout)
	}
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "guestbook: ") || strings.Count(r.stderr, "\nguestbook: ") > 1 {
		t.Errorf("stderr does not end with one line starting %q:\n%s", "guestbook: ", r.stderr)
	}
	return last
}

var client = &http.Client{
	Timeout:       5 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// get fetches url and returns its status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := client.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	body.ReadFrom(resp.Body)
	return resp.StatusCode, body.String()
}

// serve starts guestbook with args and waits until addr answers /healthz,
// failing the test if it exits first or takes longer than 20s.
func serve(t *testing.T, dir string, env []string, addr string, args ...string) *process {
	t.Helper()
	p := start(t, dir, env, args...)
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := client.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("guestbook %s not serving on %s after 20s; stderr:\n%s", strings.Join(args, " "), addr, p.stderr.String())
		}
		select {
		case <-p.done:
			t.Fatalf("guestbook %s exited with code %d before serving; stderr:\n%s",
				strings.Join(args, " "), p.cmd.ProcessState.ExitCode(), p.stderr.String())
		case <-time.After(25 * time.Millisecond):
		}
	}
}

func TestVersionPrintsOneLineStartingWithGuestbook(t *testing.T) {
	r := mustRun(t, t.TempDir(), cleanEnv(), "version")
	if !strings.HasPrefix(r.stdout, "guestbook ") || strings.Count(r.stdout, "\n") != 1 || !strings.HasSuffix(r.stdout, "\n") {
		t.Errorf("stdout is %q, want one line starting %q", r.stdout, "guestbook ")
	}
	if r.stderr != "" {
		t.Errorf("stderr is %q, want nothing", r.stderr)
	}
}

func TestServeWithNoConfigRunsOnSQLiteInTheWorkingDirectory(t *testing.T) {
	dir := t.TempDir()
	addr := storetest.FreeAddr(t)
	env := cleanEnv("GUESTBOOK_WEB_LISTEN="+addr, "GUESTBOOK_APP_LISTEN="+storetest.FreeAddr(t))
	p := serve(t, dir, env, addr, "serve")
	base := "http://" + addr

	if code, body := get(t, base+"/readyz"); code != http.StatusOK {
		t.Errorf("GET /readyz: %d %s, want 200", code, body)
	}
	// With nothing configured a form posted sooner than app.form_min_age
	// (2s) after it was served is refused: this one is posted as a person
	// posts it, a little later.
	token := httpcheck.FormToken(t, http.DefaultClient, base)
	time.Sleep(2100 * time.Millisecond)
	form := url.Values{"name": {"홍길동"}, "email": {"hong@example.com"}, "content": {"안녕하세요, 방명록 시험입니다"}, "form_token": {token}}
	resp, err := client.PostForm(base+"/visitor/visitor_create/", form)
	if err != nil {
		t.Fatalf("POST /visitor/visitor_create/: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/visitor/visitor_list/" {
		t.Errorf("POST /visitor/visitor_create/: %d to %q, want 303 to /visitor/visitor_list/", resp.StatusCode, resp.Header.Get("Location"))
	}
	code, body := get(t, base+"/visitor/visitor_list/")
	if code != http.StatusOK || !strings.Contains(body, "안녕하세요, 방명록 시험입니다") || !strings.Contains(body, "홍길동") {
		t.Errorf("GET /visitor/visitor_list/: %d, want 200 with the new entry; body:\n%s", code, body)
	}
	if code, _ := get(t, base+"/"); code != http.StatusOK {
		t.Errorf("GET /: %d, want 200", code)
	}
	if _, err := os.Stat(filepath.Join(dir, "guestbook.db")); err != nil {
		t.Errorf("no guestbook.db in the working directory: %v", err)
	}
	p.stop(t, syscall.SIGTERM)

	// The entry is in the file: a second run in the same directory shows it.
	serve(t, dir, env, addr, "serve")
	if _, body := get(t, base+"/visitor/visitor_list/"); !strings.Contains(body, "안녕하세요, 방명록 시험입니다") {
		t.Errorf("after a restart the entry is gone; body:\n%s", body)
	}
}

func TestServeRoleAppListensOnAppListenOnly(t *testing.T) {
	webAddr, appAddr := storetest.FreeAddr(t), storetest.FreeAddr(t)
	env := cleanEnv("GUESTBOOK_WEB_LISTEN="+webAddr, "GUESTBOOK_APP_LISTEN="+appAddr)
	p := serve(t, t.TempDir(), env, appAddr, "serve", "--role=app")
	for _, path := range []string{"/healthz", "/readyz", "/visitor/", "/visitor/visitor_list/"} {
		if code, body := get(t, "http://"+appAddr+path); code != http.StatusOK {
			t.Errorf("GET %s: %d, want 200; body:\n%s", path, code, body)
		}
	}
	if conn, err := net.DialTimeout("tcp", webAddr, time.Second); err == nil {
		conn.Close()
		t.Errorf("role app also listens on web.listen %s", webAddr)
	}
	p.stop(t, syscall.SIGINT)
}

func TestFailuresExitNonZeroWithOneLineNamingTheCause(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		env   []string
		file  string // written to config.yaml in the working directory
		wants []string
	}{
		{name: "unknown flag", args: []string{"serve", "--bogus"}, wants: []string{"--bogus"}},
		{name: "unknown command", args: []string{"serv"}, wants: []string{`"serv"`}},
		{name: "argument to serve", args: []string{"serve", "now"}, wants: []string{`"now"`}},
		{name: "bad role", args: []string{"serve", "--role=db"}, wants: []string{"--role", `"db"`}},
		{name: "role web without upstreams", args: []string{"serve", "--role=web"}, wants: []string{"web.upstreams"}},
		{name: "config file that does not exist", args: []string{"serve", "--config", "missing.yaml"}, wants: []string{"missing.yaml"}},
		{
			name: "config file with an unknown key", args: []string{"serve", "--config", "config.yaml"},
			file: "web:\n  listn: \":9000\"\n", wants: []string{"config.yaml", `"web.listn"`, "line 2"},
		},
		{
			name: "config file with an unknown section", args: []string{"migrate", "--config", "config.yaml"},
			file: "database:\n  driver: sqlite\nlogging:\n  level: debug\n", wants: []string{`"logging"`, "line 3"},
		},
		{name: "unknown variable", args: []string{"serve"}, env: []string{"GUESTBOOK_WEB_LISTN=:9000"}, wants: []string{"GUESTBOOK_WEB_LISTN"}},
		{name: "unknown variable for migrate", args: []string{"migrate"}, env: []string{"GUESTBOOK_DB=x"}, wants: []string{"GUESTBOOK_DB"}},
		{
			name: "duration variable without a unit", args: []string{"serve"},
			env: []string{"GUESTBOOK_DATABASE_CONNECT_TIMEOUT=30"}, wants: []string{"GUESTBOOK_DATABASE_CONNECT_TIMEOUT"},
		},
		{name: "invalid value", args: []string{"serve"}, env: []string{"GUESTBOOK_LOG_FORMAT=xml"}, wants: []string{"log.format", `"xml"`}},
		{name: "migrate sideways", args: []string{"migrate", "sideways"}, wants: []string{`"sideways"`}},
		{name: "migrate down without N", args: []string{"migrate", "down"}, wants: []string{"migrate down N"}},
		{name: "migrate down x", args: []string{"migrate", "down", "x"}, wants: []string{`"x"`}},
		{name: "migrate down 0", args: []string{"migrate", "down", "0"}, wants: []string{`"0"`}},
		{name: "migrate version with an argument", args: []string{"migrate", "version", "2"}, wants: []string{"migrate version"}},
		{name: "migrate with three arguments", args: []string{"migrate", "down", "1", "2"}, wants: []string{"3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if tt.file != "" {
				if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(tt.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			env := append(cleanEnv("GUESTBOOK_WEB_LISTEN="+storetest.FreeAddr(t), "GUESTBOOK_APP_LISTEN="+storetest.FreeAddr(t)), tt.env...)
			line := failsWithOneLine(t, run(t, dir, env, tt.args...))
			for _, want := range tt.wants {
				if !strings.Contains(line, want) {
					t.Errorf("%q does not say %q", line, want)
				}
			}
			if _, err := os.Stat(filepath.Join(dir, "guestbook.db")); err == nil {
				t.Errorf("a failure before opening the database created guestbook.db")
			}
		})
	}
}

func TestServeOnAnAddressInUseFailsWithOneLineNamingIt(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { busy.Close() })
	addr := busy.Addr().String()
	for _, role := range []string{"all", "app"} {
		t.Run(role, func(t *testing.T) {
			env := cleanEnv("GUESTBOOK_WEB_LISTEN="+addr, "GUESTBOOK_APP_LISTEN="+addr)
			if line := failsWithLastLine(t, run(t, t.TempDir(), env, "serve", "--role="+role)); !strings.Contains(line, addr) {
				t.Errorf("%q does not name %s", line, addr)
			}
		})
	}
}

func TestUnreachableMySQLFailsNamingTheHostButNeverThePassword(t *testing.T) {
	for _, args := range [][]string{{"serve"}, {"serve", "--role=app"}, {"migrate"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			host := storetest.FreeAddr(t) // closed: nothing answers there
			env := cleanEnv(
				"GUESTBOOK_WEB_LISTEN="+storetest.FreeAddr(t), "GUESTBOOK_APP_LISTEN="+storetest.FreeAddr(t),
				"GUESTBOOK_DATABASE_DRIVER=mysql",
				"GUESTBOOK_DATABASE_PRIMARY=guestbook:s3cretpw@tcp("+host+")/guestbook",
				"GUESTBOOK_DATABASE_CONNECT_TIMEOUT=1s",
			)
			p := start(t, t.TempDir(), env, args...)
			code := p.wait(t, 10*time.Second)
			r := result{stdout: p.stdout.String(), stderr: p.stderr.String(), code: code}
			if last := failsWithLastLine(t, r); !strings.Contains(last, host) {
				t.Errorf("last stderr line %q does not name %s", last, host)
			}
			if strings.Contains(r.stderr, "s3cretpw") || strings.Contains(r.stdout, "s3cretpw") {
				t.Errorf("the password is printed; stderr:\n%s", r.stderr)
			}
		})
	}
}
