package storetest

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// Server is a private, throw-away MariaDB server that one test owns: unlike
// the shared server of scripts/with-mariadb, a test may stop, kill, freeze,
// restart or promote it. Binary logging and GTIDs are on, so any Server can
// be a replication primary. It is stopped and its files removed when the test
// ends. Its methods that take a t must be called from the test's goroutine.
type Server struct {
	id        int    // server_id, and gtid_domain_id so that local writes never collide
	dir       string // parent of the datadir and the logs
	socket    string // unused, but mariadbd must have one
	bin       string // mariadbd
	installDB string // mariadb-install-db
	port      int
	flags     []string
	host      string   // the address mariadbd binds; 127.0.0.1 unless WithBindAddress
	prefix    []string // runs mariadbd through this command (WithCommandPrefix)
	rootDB    *sql.DB

	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{} // closed when cmd has exited
	frozen   bool
	readOnly bool
	primary  *Server   // the server this one replicates from, if any
	replicas []*Server // the servers that replicate from this one
}

// Option changes how StartServer and StartPair start a server.
type Option func(*Server)

// WithFlags adds mariadbd command-line flags (for example semi-synchronous
// replication's --rpl-semi-sync-master-enabled=ON) after the defaults.
func WithFlags(flags ...string) Option {
	return func(s *Server) { s.flags = append(s.flags, flags...) }
}

// WithBindAddress makes mariadbd listen on host (an IPv4 or IPv6 address)
// instead of 127.0.0.1: an address of a network namespace that a test made,
// so that its clients cross a network to reach it. Root may connect only
// from localhost, so the server's own root connections (Exec, QueryString,
// RootDSN, replication set-up) then go through its unix socket, which works
// from any namespace and even while the server's network is cut.
func WithBindAddress(host string) Option {
	return func(s *Server) { s.host = host }
}

// WithCommandPrefix runs mariadbd through a command that then executes it,
// such as "ip", "netns", "exec", "db-1" to start it inside network namespace
// db-1. The command must exec mariadbd in its own process (as ip netns exec
// does) so that the server's signals (Stop, Kill, Freeze) reach mariadbd.
func WithCommandPrefix(prefix ...string) Option {
	return func(s *Server) { s.prefix = append([]string(nil), prefix...) }
}

// serverIDs numbers the servers of this test process, from 11: 1 and 2 are
// scripts/with-mariadb's.
var serverIDs atomic.Int64

// upTimeout bounds a server's start and every wait on replication.
const upTimeout = 60 * time.Second

// StartServer installs a fresh datadir in a temp dir and starts mariadbd on
// a free loopback port, with root (no password) reachable at RootDSN. Without
// mariadbd the test is skipped, or fails when GBTEST_REQUIRE_MYSQL is set.
func StartServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := newServer(t, opts)
	if err := s.install(); err != nil {
		t.Fatal(err)
	}
	if err := s.launchOnFreePort(); err != nil {
		t.Fatal(err)
	}
	return s
}

// newServer prepares a Server (no files yet) and registers its cleanup.
func newServer(t testing.TB, opts []Option) *Server {
	t.Helper()
	mariadbd, installDB := binaries(t)
	s := &Server{id: 10 + int(serverIDs.Add(1)), dir: t.TempDir(), bin: mariadbd, installDB: installDB, host: "127.0.0.1"}
	for _, o := range opts {
		o(s)
	}
	s.socket = filepath.Join(s.dir, "mysqld.sock")
	if len(s.socket) > 100 { // over 107 bytes mariadbd refuses to start
		dir, err := os.MkdirTemp("", "gbsock")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		s.socket = filepath.Join(dir, "mysqld.sock")
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("mariadb %s (server %d) error log:\n%s", s.Addr(), s.id, s.logTail(30))
		}
		if s.rootDB != nil {
			s.rootDB.Close()
		}
		if err := s.stop(syscall.SIGTERM); err != nil {
			t.Error(err)
		}
	})
	return s
}

// launchOnFreePort starts mariadbd on a port that was free a moment ago,
// trying another when something else took it meanwhile.
func (s *Server) launchOnFreePort() error {
	var err error
	for range 5 {
		l, lerr := net.Listen("tcp", "127.0.0.1:0")
		if lerr != nil {
			return lerr
		}
		s.port = l.Addr().(*net.TCPAddr).Port
		l.Close()
		if err = s.launch(); err == nil || !strings.Contains(s.logTail(5), "already in use") {
			return err
		}
	}
	return err
}

// launch starts mariadbd on s.port and waits until root can connect.
func (s *Server) launch() error {
	args := []string{
		"--no-defaults", "--datadir=" + s.datadir(), "--user=" + osUser(),
		"--bind-address=" + s.host, "--port=" + strconv.Itoa(s.port),
		"--socket=" + s.socket, "--tmpdir=" + s.tmpdir(),
		"--pid-file=" + filepath.Join(s.dir, "mysqld.pid"),
		"--log-error=" + filepath.Join(s.dir, "error.log"),
		"--skip-name-resolve", "--innodb-buffer-pool-size=64M", "--innodb-log-file-size=16M",
		"--innodb-flush-log-at-trx-commit=2", "--max-connections=500",
		"--server-id=" + strconv.Itoa(s.id), "--gtid-domain-id=" + strconv.Itoa(s.id),
		"--log-bin=binlog", "--relay-log=relay-bin", "--log-slave-updates",
		"--binlog-format=ROW", "--gtid-strict-mode=ON", "--slave-net-timeout=10",
	}
	s.mu.Lock()
	if s.readOnly {
		args = append(args, "--read-only=ON")
	}
	s.mu.Unlock()
	args = append(args, s.flags...)
	stderr, err := os.OpenFile(filepath.Join(s.dir, "stderr.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer stderr.Close()
	name, argv := s.bin, args
	if len(s.prefix) > 0 {
		name, argv = s.prefix[0], slices.Concat(s.prefix[1:], []string{s.bin}, args)
	}
	cmd := exec.Command(name, argv...)
	cmd.Stderr = stderr
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start mariadbd: %w", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	s.mu.Lock()
	s.cmd, s.exited, s.frozen = cmd, exited, false
	s.mu.Unlock()
	if s.rootDB == nil {
		if s.rootDB, err = sql.Open("mysql", s.RootDSN()); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(upTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := s.rootDB.PingContext(ctx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-exited:
			s.stop(syscall.SIGKILL)
			return fmt.Errorf("mariadbd on %s exited at start:\n%s", s.Addr(), s.logTail(20))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop(syscall.SIGKILL)
			return fmt.Errorf("mariadbd on %s did not answer within %s: %v\n%s", s.Addr(), upTimeout, err, s.logTail(20))
		}
	}
}

// stop sends sig (after waking a frozen server), waits for the process to
// exit, and kills it when it has not after a minute. It is a no-op when the
// server is not running.
func (s *Server) stop(sig os.Signal) error {
	s.mu.Lock()
	cmd, exited, frozen := s.cmd, s.exited, s.frozen
	s.cmd, s.frozen = nil, false
	s.mu.Unlock()
	if cmd == nil {
		return nil
	}
	if frozen {
		thaw(cmd.Process)
	}
	cmd.Process.Signal(sig)
	select {
	case <-exited:
		return nil
	case <-time.After(upTimeout):
	}
	cmd.Process.Kill()
	<-exited
	return fmt.Errorf("mariadbd on %s ignored %v for %s and was killed", s.Addr(), sig, upTimeout)
}

// Stop shuts the server down cleanly and waits until the process has exited:
// from then on connections to Addr are refused. Start brings it back.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if !s.running() {
		t.Fatalf("stop mariadb %s: not running", s.Addr())
	}
	if err := s.stop(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
}

// Kill ends the server with SIGKILL, with no clean shutdown (as a crash or a
// lost machine would), and waits until the process has exited.
func (s *Server) Kill(t testing.TB) {
	t.Helper()
	if !s.running() {
		t.Fatalf("kill mariadb %s: not running", s.Addr())
	}
	if err := s.stop(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
}

// Start starts a stopped or killed server again, on the same port and datadir,
// and waits until it answers. A replica resumes replicating by itself.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	if s.running() {
		t.Fatalf("start mariadb %s: already running", s.Addr())
	}
	if err := s.launch(); err != nil {
		t.Fatal(err)
	}
}

// Freeze suspends the server's process (SIGSTOP): it keeps its port and its
// connections but answers nothing, like a hung machine, until Thaw. A
// server still frozen when the test ends is thawed first of the cleanups
// registered before the freeze, so that nothing (a store closing, a
// database dropped) waits on it.
func (s *Server) Freeze(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		t.Fatalf("freeze mariadb %s: not running", s.Addr())
	}
	if err := freeze(s.cmd.Process); err != nil {
		t.Fatalf("freeze mariadb %s: %v", s.Addr(), err)
	}
	s.frozen = true
	t.Cleanup(s.thawIfFrozen)
}

// thawIfFrozen resumes the server if it is frozen.
func (s *Server) thawIfFrozen() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil && s.frozen {
		thaw(s.cmd.Process)
		s.frozen = false
	}
}

// Thaw resumes a frozen server.
func (s *Server) Thaw(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil || !s.frozen {
		t.Fatalf("thaw mariadb %s: not frozen", s.Addr())
	}
	if err := thaw(s.cmd.Process); err != nil {
		t.Fatalf("thaw mariadb %s: %v", s.Addr(), err)
	}
	s.frozen = false
}

func (s *Server) running() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cmd != nil
}

// Addr is the server's host:port: on the loopback interface, or on the
// address of WithBindAddress.
func (s *Server) Addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// RootDSN is root's DSN, with no password and no database:
// root@tcp(127.0.0.1:PORT)/, or root@unix(SOCKET)/ for a server bound to
// another address (see WithBindAddress).
func (s *Server) RootDSN() string {
	if ip := net.ParseIP(s.host); ip != nil && ip.IsLoopback() {
		return s.DSN("root", "", "")
	}
	c := mysql.NewConfig()
	c.User, c.Net, c.Addr = "root", "unix", s.socket
	return c.FormatDSN()
}

// DSN is the DSN of user (with password) on database db of this server.
func (s *Server) DSN(user, password, db string) string {
	c := mysql.NewConfig()
	c.User, c.Passwd, c.Net, c.Addr, c.DBName = user, password, "tcp", s.Addr(), db
	return c.FormatDSN()
}

// Exec runs a statement as root, failing the test on error.
func (s *Server) Exec(t testing.TB, query string, args ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), upTimeout)
	defer cancel()
	if _, err := s.rootDB.ExecContext(ctx, query, args...); err != nil {
		t.Fatalf("mariadb %s: %s: %v", s.Addr(), query, err)
	}
}

// QueryString runs a query as root and returns the first column of its first
// row as text ("" for NULL), failing the test on error or no row.
func (s *Server) QueryString(t testing.TB, query string, args ...any) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), upTimeout)
	defer cancel()
	var v sql.NullString
	if err := s.rootDB.QueryRowContext(ctx, query, args...).Scan(&v); err != nil {
		t.Fatalf("mariadb %s: %s: %v", s.Addr(), query, err)
	}
	return v.String
}
