package tier_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/internal/httpcheck"
	"github.com/guestbook/guestbook/store"
	"github.com/guestbook/guestbook/store/storetest"
	"github.com/guestbook/guestbook/tier"
)

// start opens a process for role on a free loopback port and runs it until
// the returned stop is called (or the test ends). wait returns Run's result
// once it has returned, or an error after a timeout.
func start(t *testing.T, role string, cfg config.Config) (p *tier.Process, stop func(), wait func(time.Duration) error) {
	t.Helper()
	return startLogging(t, role, cfg, storetest.Logger(t))
}

// startLogging is start with the process's log going to log.
func startLogging(t *testing.T, role string, cfg config.Config, log *slog.Logger) (p *tier.Process, stop func(), wait func(time.Duration) error) {
	t.Helper()
	cfg.Web.Listen, cfg.App.Listen = "127.0.0.1:0", "127.0.0.1:0"
	p, err := tier.Open(context.Background(), tier.Options{Config: cfg, Role: role, Version: "v-test", Log: log})
	if err != nil {
		t.Fatalf("Open(%s): %v", role, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	finished := make(chan struct{})
	var runErr error
	go func() { runErr = p.Run(ctx); close(finished) }()
	t.Cleanup(func() { cancel(); <-finished; p.Close() })
	waitHealthy(t, "http://"+p.Addr())
	return p, cancel, func(d time.Duration) error {
		select {
		case <-finished:
			return runErr
		case <-time.After(d):
			return fmt.Errorf("Run did not return within %s", d)
		}
	}
}

func waitHealthy(t *testing.T, base string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never became healthy", base)
}

func sqliteConfig(t *testing.T) (config.Config, config.Database) {
	cfg := config.Default()
	cfg.Database = storetest.Config(t, "sqlite")
	cfg.Instance.ID = "test-instance"
	cfg.App.FormMinAge = 0 // the tests post their forms at once
	return cfg, cfg.Database
}

func status(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestRoleAllServesTheHomePageAndTheGuestbookOnOneListener(t *testing.T) {
	cfg, _ := sqliteConfig(t)
	p, _, _ := start(t, tier.RoleAll, cfg)
	base := "http://" + p.Addr()
	for _, path := range []string{"/", "/visitor/", "/visitor/visitor_list/", "/readyz", "/static/style.css"} {
		if got := status(t, base+path); got != http.StatusOK {
			t.Errorf("GET %s = %d", path, got)
		}
	}
}

func TestRoleAppServesTheGuestbookOnly(t *testing.T) {
	cfg, _ := sqliteConfig(t)
	p, _, _ := start(t, tier.RoleApp, cfg)
	base := "http://" + p.Addr()
	if got := status(t, base+"/visitor/"); got != http.StatusOK {
		t.Errorf("GET /visitor/ = %d", got)
	}
	if got := status(t, base+"/"); got != http.StatusNotFound {
		t.Errorf("GET / on the app role = %d, want 404 (the home page is the web tier's)", got)
	}
}

func TestRoleWebForwardsTheGuestbookToTheAppTier(t *testing.T) {
	cfg, _ := sqliteConfig(t)
	appProc, _, _ := start(t, tier.RoleApp, cfg)
	webCfg := config.Default()
	webCfg.Web.Upstreams = []string{"http://" + appProc.Addr()}
	webProc, _, _ := start(t, tier.RoleWeb, webCfg)
	base := "http://" + webProc.Addr()
	for _, path := range []string{"/", "/visitor/", "/visitor/visitor_list/"} {
		if got := status(t, base+path); got != http.StatusOK {
			t.Errorf("GET %s through the web role = %d", path, got)
		}
	}
	resp, err := http.PostForm(base+"/visitor/visitor_create/", url.Values{"name": {"웹"}, "email": {"w@example.com"}, "content": {"through the web tier"},
		"form_token": {httpcheck.FormToken(t, http.DefaultClient, base)}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Request.URL.Path != "/visitor/visitor_list/" || !strings.Contains(string(body), "through the web tier") {
		t.Errorf("the entry posted through the web tier is not in the list it redirects to (status %d)", resp.StatusCode)
	}
}

func TestRoleWebWithoutUpstreamsIsRefused(t *testing.T) {
	cfg := config.Default()
	cfg.Web.Listen = "127.0.0.1:0"
	_, err := tier.Open(context.Background(), tier.Options{Config: cfg, Role: tier.RoleWeb, Log: storetest.Logger(t)})
	if err == nil || !strings.Contains(err.Error(), "web.upstreams") {
		t.Fatalf("Open(web, no upstreams) = %v, want an error naming web.upstreams", err)
	}
}

func TestAnUnknownRoleIsRefused(t *testing.T) {
	cfg, _ := sqliteConfig(t)
	_, err := tier.Open(context.Background(), tier.Options{Config: cfg, Role: "db", Log: storetest.Logger(t)})
	if err == nil || !strings.Contains(err.Error(), "--role") {
		t.Fatalf("Open(role db) = %v", err)
	}
}

func TestServingMySQLRefusesASchemaThatIsBehindUnlessToldToMigrate(t *testing.T) {
	cfg := config.Default()
	cfg.Database = storetest.Config(t, "mysql")
	cfg.App.Listen = "127.0.0.1:0"
	_, err := tier.Open(context.Background(), tier.Options{Config: cfg, Role: tier.RoleApp, Log: storetest.Logger(t)})
	if err == nil || !strings.Contains(err.Error(), "guestbook migrate") {
		t.Fatalf("Open on an unmigrated MySQL = %v, want a refusal telling to run guestbook migrate", err)
	}
	p, err := tier.Open(context.Background(), tier.Options{Config: cfg, Role: tier.RoleApp, Migrate: true, Log: storetest.Logger(t)})
	if err != nil {
		t.Fatalf("Open with Migrate: %v", err)
	}
	p.Close()
}

// TestShutdownLetsAWriteInFlightFinish starts a form post, stops the process
// (as SIGTERM does) while the body is still arriving, then sends the rest:
// the write must be answered and stored, not cut off.
func TestShutdownLetsAWriteInFlightFinish(t *testing.T) {
	cfg, dbCfg := sqliteConfig(t)
	p, stop, wait := start(t, tier.RoleAll, cfg)

	form := url.Values{"name": {"종료 중"}, "email": {"s@example.com"}, "content": {"in flight during shutdown"},
		"form_token": {httpcheck.FormToken(t, http.DefaultClient, "http://"+p.Addr())}}.Encode()
	conn, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /visitor/visitor_create/ HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s",
		p.Addr(), len(form), form[:10])
	time.Sleep(100 * time.Millisecond) // the server is now reading the body

	stop()
	time.Sleep(200 * time.Millisecond) // shutdown has begun: the listener is closed
	if c, err := net.DialTimeout("tcp", p.Addr(), time.Second); err == nil {
		c.Close()
		t.Error("the process still accepts new connections after shutdown began")
	}
	io.WriteString(conn, form[10:])

	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no response to the in-flight write: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("in-flight write answered %d, want 303", resp.StatusCode)
	}
	if err := wait(10 * time.Second); err != nil {
		t.Fatalf("after the last request finished: %v", err)
	}

	db, err := store.Open(context.Background(), dbCfg, store.Options{Log: storetest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	page, err := db.ListEntries(context.Background(), 0, 10)
	if err != nil || len(page.Entries) != 1 || page.Entries[0].Content != "in flight during shutdown" {
		t.Fatalf("after shutdown the store holds %+v (%v), want the acknowledged entry once", page.Entries, err)
	}
}

// TestASlowClientIsCutOffByTheHeaderTimeout sends half a request line and
// waits: the server must close the connection after ReadHeaderTimeout.
func TestASlowClientIsCutOffByTheHeaderTimeout(t *testing.T) {
	t.Parallel()
	cfg, _ := sqliteConfig(t)
	p, _, _ := start(t, tier.RoleAll, cfg)
	conn, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /visitor/ HTTP/1.1\r\nHost: x\r\n")
	began := time.Now()
	conn.SetReadDeadline(time.Now().Add(tier.ReadHeaderTimeout + 5*time.Second))
	io.ReadAll(conn) // returns when the server closes (or times out)
	if waited := time.Since(began); waited > tier.ReadHeaderTimeout+3*time.Second {
		t.Errorf("a client that never finished its headers held the connection for %s", waited)
	}
}

// TestRoleWebGivesEachRequestOneIDThatTheAppTierShares runs the web role in
// front of an app role that trusts it: the client gets exactly one
// X-Request-Id, and it is the one the app tier answered under.
func TestRoleWebGivesEachRequestOneIDThatTheAppTierShares(t *testing.T) {
	cfg, _ := sqliteConfig(t)
	cfg.App.TrustedProxies = []string{"127.0.0.0/8"}
	appProc, _, _ := start(t, tier.RoleApp, cfg)
	webCfg := config.Default()
	webCfg.Web.Upstreams = []string{"http://" + appProc.Addr()}
	webProc, _, _ := start(t, tier.RoleWeb, webCfg)

	for _, path := range []string{"/visitor/", "/visitor/api/entries", "/"} {
		resp, err := http.Get("http://" + webProc.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if ids := resp.Header.Values("X-Request-Id"); len(ids) != 1 || ids[0] == "" {
			t.Errorf("GET %s: X-Request-Id %q, want exactly one", path, ids)
		}
	}
}

// TestRoleWebFlushesAStreamedResponse puts the web role, with its access
// log and forwarded middleware, in front of an upstream that writes a chunk
// and then waits: the chunk must reach the client while the upstream waits.
func TestRoleWebFlushesAStreamedResponse(t *testing.T) {
	up := httpcheck.NewStreamer(t)
	cfg := config.Default()
	cfg.Web.Upstreams = []string{up.URL}
	p, _, _ := start(t, tier.RoleWeb, cfg)
	httpcheck.WantFirstLineWithin(t, http.DefaultClient, "http://"+p.Addr()+"/visitor/stream", time.Second)
}

// TestRoleWebIsNotReadyWhileNoUpstreamIsHealthy starts the web role in
// front of an app server that is not running: its own health checks take
// the upstream out, and /readyz says so.
func TestRoleWebIsNotReadyWhileNoUpstreamIsHealthy(t *testing.T) {
	cfg := config.Default()
	cfg.Web.Upstreams = []string{"http://" + storetest.FreeAddr(t)}
	cfg.Web.HealthInterval = 100 * time.Millisecond
	p, _, _ := start(t, tier.RoleWeb, cfg)
	deadline := time.Now().Add(3 * time.Second)
	for status(t, "http://"+p.Addr()+"/readyz") != http.StatusServiceUnavailable {
		if time.Now().After(deadline) {
			t.Fatal("/readyz still answers 200 with no app server running")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := status(t, "http://"+p.Addr()+"/visitor/"); got != http.StatusBadGateway {
		t.Errorf("GET /visitor/ with no app server = %d, want 502", got)
	}
}
