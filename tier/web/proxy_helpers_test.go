package web_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/internal/httpcheck"
	"github.com/guestbook/guestbook/tier"
	"github.com/guestbook/guestbook/tier/forwarded"
	"github.com/guestbook/guestbook/tier/web"
)

// front is the web role as tier.Open wires it: web.Server with a Proxy over
// a Pool, behind forwarded's middleware, on a real listener.
type front struct {
	*httptest.Server
	pool *web.Pool
	web  *web.Server // set by newCachingFrontWith
}

func newFront(t *testing.T, trusted forwarded.Trusted, upstreams ...string) *front {
	t.Helper()
	return newFrontTrying(t, 0, trusted, upstreams...)
}

// newFrontTrying is newFront with web.try_timeout at try (the default when
// zero).
func newFrontTrying(t *testing.T, try time.Duration, trusted forwarded.Trusted, upstreams ...string) *front {
	t.Helper()
	log := httpcheck.Logger(t)
	pool, err := web.NewPool(upstreams, time.Second, log)
	if err != nil {
		t.Fatalf("NewPool: %v", err)
	}
	s, err := web.New(web.Options{
		Instance: testInstance, Version: "test", Log: log,
		Upstreams: pool, Trusted: trusted, TryTimeout: try,
	})
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	srv := httptest.NewServer(trusted.Middleware(s))
	t.Cleanup(srv.Close)
	return &front{Server: srv, pool: pool}
}

// checkAll runs one round of active health checks, as Run does every
// interval.
func (f *front) checkAll(t *testing.T) {
	t.Helper()
	f.pool.CheckAll(t.Context())
}

// available lists which upstreams are in the rotation, in configuration
// order.
func (f *front) available() []bool {
	var got []bool
	for _, u := range f.pool.Upstreams() {
		got = append(got, u.Available())
	}
	return got
}

// client is an HTTP client that does not follow redirects, so tests see the
// 303s, and closes its connections when the test ends.
func client(t *testing.T) *http.Client {
	t.Helper()
	c := &http.Client{
		Transport:     &http.Transport{DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		Timeout:       10 * time.Second,
	}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// result is a finished response with its body read.
type result struct {
	*http.Response
	body string
}

func roundTrip(t *testing.T, c *http.Client, req *http.Request) result {
	t.Helper()
	resp, body := httpcheck.Do(t, c, req)
	return result{resp, body}
}

func newRequest(t *testing.T, method, url, body string, header ...string) *http.Request {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}

// echo is an upstream that answers with its name and records every request
// but its health checks. Its /healthz passes while healthy is set.
type echo struct {
	*httptest.Server
	name    string
	healthy atomic.Bool
	mu      sync.Mutex
	seen    []seenRequest
}

// seenRequest is a request as it arrived at an upstream.
type seenRequest struct {
	method, uri, host string
	header            http.Header
	contentLength     int64
	body              string
}

func newEcho(t *testing.T, name string) *echo {
	t.Helper()
	e := &echo{name: name}
	e.healthy.Store(true)
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			if !e.healthy.Load() {
				http.Error(w, "sick", http.StatusInternalServerError)
				return
			}
			io.WriteString(w, "ok\n")
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		e.mu.Lock()
		e.seen = append(e.seen, seenRequest{
			method: r.Method, uri: r.URL.RequestURI(), host: r.Host,
			header: r.Header.Clone(), contentLength: r.ContentLength, body: string(body),
		})
		e.mu.Unlock()
		// As an app tier that does not trust the web tier answers: under
		// an id of its own.
		w.Header().Set("X-Request-Id", "made-by-the-upstream")
		io.WriteString(w, name)
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *echo) requests() []seenRequest {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]seenRequest(nil), e.seen...)
}

// dropper is an upstream that reads each request whole and then closes the
// connection without a byte of answer, as an app server that crashes while
// handling it. It counts the requests it read.
type dropper struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string // method and body of each request read
}

func newDropper(t *testing.T) *dropper {
	t.Helper()
	d := &dropper{}
	d.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			io.WriteString(w, "ok\n")
			return
		}
		body, _ := io.ReadAll(r.Body)
		d.mu.Lock()
		d.seen = append(d.seen, r.Method+" "+string(body))
		d.mu.Unlock()
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(err)
		}
		conn.Close()
	}))
	t.Cleanup(d.Close)
	return d
}

func (d *dropper) requests() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.seen...)
}

// closedURL is the base URL of a server that has stopped: nothing listens
// on its port, so a dial is refused.
func closedURL(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	return srv.URL
}

// restart serves h again on the address of a stopped server (URL as
// closedURL gives), as an app server that comes back after a crash.
func restart(t *testing.T, url string, h http.Handler) *httptest.Server {
	t.Helper()
	l, err := net.Listen("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatalf("listen again on %s: %v", url, err)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// testSecret is app.secret of every app server here: app tiers on one
// database share its secret, and these, each on a database of its own,
// share this one instead, so that a form token one issued is good at all.
const testSecret = "the web tier tests' app secret, 32 characters or more"

// appServer is the real app tier, built by the process's own role builder
// over its own SQLite database, on a real listener: one app role behind the
// web tier, reached only over HTTP.
type appServer struct {
	*httptest.Server
	apiURL string // a second listener on the same app tier, for reading back
	token  string // a form_token it issued, good for any app server here
}

func newAppServer(t *testing.T, id string) *appServer {
	t.Helper()
	cfg := config.Default()
	cfg.Instance = config.Instance{ID: id}
	cfg.Database.Primary = filepath.Join(t.TempDir(), "guestbook.db")
	cfg.App.WriteLimit = 0      // the tests post dozens of entries a second, all from loopback
	cfg.App.FormMinAge = 0      // the tests post at once
	cfg.App.Secret = testSecret // the apps share one, as apps on one database do
	role, err := tier.Build(t.Context(), tier.Options{Config: cfg, Role: tier.RoleApp, Version: "test", Log: httpcheck.Logger(t)})
	if err != nil {
		t.Fatalf("build the app role: %v", err)
	}
	t.Cleanup(func() { role.Close() })
	srv, api := httptest.NewServer(role.Handler), httptest.NewServer(role.Handler)
	t.Cleanup(srv.Close)
	t.Cleanup(api.Close)
	return &appServer{Server: srv, apiURL: api.URL, token: httpcheck.FormToken(t, http.DefaultClient, srv.URL)}
}

// contents is how many times each entry content is stored in the app's
// database, as its JSON API lists them. It reads after the server has
// stopped too: the API is asked on a listener of its own.
func (a *appServer) contents(t *testing.T) map[string]int {
	t.Helper()
	got := map[string]int{}
	var before int64
	for {
		url := a.apiURL + "/visitor/api/entries?limit=100"
		if before != 0 {
			url += "&before=" + strconv.FormatInt(before, 10)
		}
		resp, body := httpcheck.Do(t, http.DefaultClient, httpcheck.NewRequest(t, "GET", url, nil))
		var page struct {
			Entries []struct {
				ID      int64  `json:"id"`
				Content string `json:"content"`
			} `json:"entries"`
			NextBefore *int64 `json:"next_before"`
		}
		if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(body), &page) != nil {
			t.Fatalf("list entries of %s: %d %s", a.URL, resp.StatusCode, short(body))
		}
		for _, e := range page.Entries {
			got[e.Content]++
		}
		if page.NextBefore == nil {
			return got
		}
		before = *page.NextBefore
	}
}

// rawRequest sends request bytes exactly as given on a new connection to
// srv and reads one response, so that headers a client library would add,
// drop or merge reach the server as written.
func rawRequest(t *testing.T, srv *httptest.Server, request string) result {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return result{resp, string(b)}
}

func mustTrust(t *testing.T, networks ...string) forwarded.Trusted {
	t.Helper()
	trusted, err := forwarded.ParseTrusted(networks)
	if err != nil {
		t.Fatal(err)
	}
	return trusted
}

func form(content string) string {
	return fmt.Sprintf("name=%s&email=w%%40example.com&content=%s", "tester", content)
}

// short is the start of a body, for a failure message.
func short(body string) string {
	if len(body) > 80 {
		return body[:80] + "…"
	}
	return body
}
