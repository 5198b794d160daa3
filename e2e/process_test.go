package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The guestbook binary, built once for the whole package by the first test
// that needs it, and removed by TestMain.
var (
	buildOnce  sync.Once
	binaryDir  string
	binaryPath string
	buildErr   error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binaryDir != "" {
		os.RemoveAll(binaryDir)
	}
	os.Exit(code)
}

// guestbookBinary builds the guestbook as a user would (go build) and returns
// its path.
func guestbookBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		if binaryDir, buildErr = os.MkdirTemp("", "guestbook-e2e-"); buildErr != nil {
			return
		}
		binaryPath = filepath.Join(binaryDir, "guestbook")
		out, err := exec.Command("go", "build", "-o", binaryPath, "github.com/guestbook/guestbook").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build guestbook: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binaryPath
}

// process is one guestbook running on a host of the topology, as a real
// child process: SIGTERM and SIGKILL reach it as they would under systemd.
type process struct {
	name string // web-1, app-2, migrate
	host *host
	args []string
	env  []string
	addr string // its listener, for serve
	out  *tailBuffer

	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{} // closed when it has exited
}

// environ is a clean environment with vars: nothing of the test's own
// environment reaches the binary but PATH, HOME and TMPDIR.
func environ(vars ...string) []string {
	return append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + os.TempDir()}, vars...)
}

// startProcess runs the guestbook with args on h. It is stopped (SIGTERM,
// then SIGKILL after ten seconds) when the test ends, and what it printed
// is logged if the test failed.
func startProcess(t *testing.T, name string, h *host, env []string, args ...string) *process {
	t.Helper()
	p := &process{name: name, host: h, args: args, env: env, out: &tailBuffer{max: 64 << 10}}
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.stop(syscall.SIGTERM, 10*time.Second)
		if t.Failed() {
			t.Logf("guestbook %s (%s) printed:\n%s", p.name, strings.Join(p.args, " "), p.out.tail(40))
		}
	})
	return p
}

func (p *process) start() error {
	cmd := p.host.command(binaryPath, p.args...)
	cmd.Env = p.env
	cmd.Stdout, cmd.Stderr = p.out, p.out
	// The kernel kills it should the test process die without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start guestbook %s: %w", p.name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	p.mu.Lock()
	p.cmd, p.done = cmd, done
	p.mu.Unlock()
	return nil
}

// restart starts the process again, with the same host, address and
// settings, once it has exited.
func (p *process) restart(t *testing.T) {
	t.Helper()
	if p.running() {
		t.Fatalf("restart %s: still running", p.name)
	}
	fmt.Fprintf(p.out, "--- restarted ---\n")
	if err := p.start(); err != nil {
		t.Fatal(err)
	}
}

func (p *process) running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// signal sends sig to the process.
func (p *process) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %s to %s: %v", sig, p.name, err)
	}
}

// freeze stops p with SIGSTOP, as a long pause or a stopped VM does: its
// connections stay open and nothing answers, until thaw. It is woken when
// the test ends, before anything else registered so far runs (its own stop
// among them), if the test has not woken it.
func freeze(t *testing.T, p *process) {
	t.Helper()
	p.signal(t, syscall.SIGSTOP)
	t.Cleanup(func() { p.cont() })
}

// thaw wakes a process that freeze stopped.
func thaw(t *testing.T, p *process) {
	t.Helper()
	p.signal(t, syscall.SIGCONT)
}

// cont sends SIGCONT, ignoring a process that is gone.
func (p *process) cont() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cmd.Process.Signal(syscall.SIGCONT)
}

// wait waits up to timeout for the process to exit and returns its code.
func (p *process) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	select {
	case <-done:
		return cmd.ProcessState.ExitCode()
	case <-time.After(timeout):
		t.Fatalf("guestbook %s still running after %s; it printed:\n%s", p.name, timeout, p.out.tail(20))
		return -1
	}
}

// stop sends sig and waits for the exit, killing the process after grace.
func (p *process) stop(sig syscall.Signal, grace time.Duration) {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	select {
	case <-done:
		return
	default:
	}
	cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(grace):
		cmd.Process.Kill()
		<-done
	}
}

// waitReady polls the process's /readyz until it answers 200, failing the
// test if the process exits or is not ready within timeout.
func (p *process) waitReady(t *testing.T, timeout time.Duration) {
	t.Helper()
	client := directClient(time.Second)
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+p.addr+"/readyz", nil)
		resp, err := client.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		cancel()
		if err == nil && resp.StatusCode == http.StatusOK {
			return
		}
		if !p.running() {
			t.Fatalf("guestbook %s exited before it was ready; it printed:\n%s", p.name, p.out.tail(30))
		}
		if time.Now().After(deadline) {
			t.Fatalf("guestbook %s not ready on %s after %s (last: %v); it printed:\n%s",
				p.name, p.addr, timeout, statusOrErr(resp, err), p.out.tail(30))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func statusOrErr(resp *http.Response, err error) string {
	if err != nil {
		return err.Error()
	}
	return resp.Status
}

// tailBuffer keeps the last max bytes written to it: a process's log, whose
// access lines under load would otherwise grow without bound.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if over := b.buf.Len() - b.max; over > 0 {
		b.buf.Next(over)
	}
	return len(p), nil
}

// tail is the last n lines.
func (b *tailBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	lines := strings.Split(strings.TrimRight(b.buf.String(), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// String is everything kept.
func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// metricValue reads one series of p's /metrics; 0 when it is absent.
func metricValue(t *testing.T, p *process, series string) float64 {
	t.Helper()
	for _, line := range metrics(t, p) {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %q: %v", p.name, line, err)
			}
			return f
		}
	}
	return 0
}

// waitMetric waits until p's /metrics has the line want.
func waitMetric(t *testing.T, p *process, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, line := range metrics(t, p) {
			if line == want {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s's /metrics lacks %s after %s", p.name, want, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func metrics(t *testing.T, p *process) []string {
	t.Helper()
	resp, err := directClient(5 * time.Second).Get("http://" + p.addr + "/metrics")
	if err != nil {
		t.Fatalf("GET %s/metrics: %v", p.name, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(string(b), "\n")
}
