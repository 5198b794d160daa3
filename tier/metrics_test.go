package tier_test

import (
	"github.com/guestbook/guestbook/internal/httpcheck"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/store/storetest"
	"github.com/guestbook/guestbook/tier"
)

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d", url, resp.StatusCode)
	}
	return string(body)
}

func wantMetrics(t *testing.T, text string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(text, l) {
			t.Errorf("/metrics lacks %s", l)
		}
	}
}

func TestTheAppTierPublishesItsMetrics(t *testing.T) {
	cfg, _ := sqliteConfig(t)
	p, _, _ := start(t, tier.RoleAll, cfg)
	base := "http://" + p.Addr()
	status(t, base+"/visitor/visitor_detail/424242")
	status(t, base+"/visitor/visitor_detail/777")
	token := httpcheck.FormToken(t, http.DefaultClient, base)
	http.PostForm(base+"/visitor/visitor_create/", url.Values{"name": {"m"}, "email": {"m@example.com"}, "content": {"c"}, "form_token": {token}})
	http.PostForm(base+"/visitor/visitor_create/", url.Values{"name": {""}, "form_token": {token}})
	http.PostForm(base+"/visitor/visitor_create/", url.Values{"name": {"bot"}}) // no token: refused
	text := scrape(t, base+"/metrics")
	wantMetrics(t, text,
		`guestbook_http_requests_total{code="404",method="GET",route="GET /visitor/visitor_detail/{id}"} 2`,
		`guestbook_http_request_duration_seconds_bucket{method="GET",route="GET /visitor/visitor_detail/{id}",le="+Inf"} 2`,
		`guestbook_http_requests_in_flight`,
		`guestbook_entries_total{action="created"} 1`,
		`guestbook_validation_failures_total 1`,
		`guestbook_writes_refused_total{reason="token_missing"} 1`,
		`guestbook_build_info{commit=`,
		`guestbook_store_queries_total{backend=`,
		`guestbook_store_writer{candidate=`,
		`guestbook_store_connections_open{backend=`,
		`process_cpu_seconds_total`,
		`go_goroutines`,
	)
	for _, raw := range []string{"424242", "777"} {
		if strings.Contains(text, "visitor_detail/"+raw) {
			t.Errorf("a raw id (%s) became a label: routes must be patterns", raw)
		}
	}
}

func TestRefusedWritesAreCountedByReason(t *testing.T) {
	cfg, _ := sqliteConfig(t)
	cfg.App.MaxLinks = 1
	p, _, _ := start(t, tier.RoleAll, cfg)
	base := "http://" + p.Addr()
	token := httpcheck.FormToken(t, http.DefaultClient, base) // the form as served: only the rule under test is broken
	trap := url.Values{"name": {"봇"}, "email": {"b@example.com"}, "content": {"c"}, "website": {"x"}, "form_token": {token}}
	links := url.Values{"name": {"링크"}, "email": {"l@example.com"}, "content": {"www.a.example www.b.example"}, "form_token": {token}}
	for _, form := range []url.Values{trap, links, links} {
		resp, err := http.PostForm(base+"/visitor/visitor_create/", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("POST %v: %d, want 422", form, resp.StatusCode)
		}
	}
	resp, err := http.Post(base+"/visitor/api/entries", "application/json",
		strings.NewReader(`{"name":"a","email":"a@example.com","content":"http://a.example https://b.example"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("API POST with 2 links over app.max_links 1: %d, want 422", resp.StatusCode)
	}
	wantMetrics(t, scrape(t, base+"/metrics"),
		`guestbook_writes_refused_total{reason="honeypot"} 1`,
		`guestbook_writes_refused_total{reason="links"} 3`,
	)
}

func TestTheWebTierPublishesItsUpstreams(t *testing.T) {
	cfg, _ := sqliteConfig(t)
	appProc, _, _ := start(t, tier.RoleApp, cfg)
	webCfg := config.Default()
	dead := "http://" + storetest.FreeAddr(t)
	webCfg.Web.Upstreams = []string{"http://" + appProc.Addr(), dead}
	webProc, _, _ := start(t, tier.RoleWeb, webCfg)
	base := "http://" + webProc.Addr()
	for i := 0; i < 4; i++ {
		status(t, base+"/visitor/")
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(scrape(t, base+"/metrics"), `guestbook_upstream_healthy{upstream="`+dead+`"} 0`) {
		if time.Now().After(deadline) {
			t.Fatal("the dead upstream never showed as unhealthy")
		}
		time.Sleep(50 * time.Millisecond)
	}
	wantMetrics(t, scrape(t, base+"/metrics"),
		`guestbook_upstream_healthy{upstream="http://`+appProc.Addr()+`"} 1`,
		`guestbook_upstream_requests_total{outcome="success",upstream="http://`+appProc.Addr()+`"}`,
		`guestbook_upstream_retries_total`,
		`guestbook_upstream_unavailable_total 0`,
		`guestbook_http_requests_total{code="200",method="GET",route="/visitor/"} 4`,
	)
}

func TestMetricsListenServesMetricsThereOnly(t *testing.T) {
	cfg, _ := sqliteConfig(t)
	cfg.Metrics.Listen = "127.0.0.1:0"
	p, _, _ := start(t, tier.RoleAll, cfg)
	if p.MetricsAddr() == "" {
		t.Fatal("no metrics listener")
	}
	wantMetrics(t, scrape(t, "http://"+p.MetricsAddr()+"/metrics"), "guestbook_build_info")
	if got := status(t, "http://"+p.Addr()+"/metrics"); got != http.StatusNotFound {
		t.Errorf("/metrics on the public listener = %d, want 404 when metrics.listen is set", got)
	}
}

func TestTheWebTierCountsItsFailures(t *testing.T) {
	webCfg := config.Default()
	webCfg.Web.Upstreams = []string{"http://" + storetest.FreeAddr(t)} // nothing listens there
	webProc, _, _ := start(t, tier.RoleWeb, webCfg)
	base := "http://" + webProc.Addr()
	for i := 0; i < 3; i++ {
		if got := status(t, base+"/visitor/"); got != http.StatusBadGateway {
			t.Fatalf("GET /visitor/ with no app tier = %d, want 502", got)
		}
	}
	wantMetrics(t, scrape(t, base+"/metrics"),
		`guestbook_upstream_unavailable_total 3`,
		`guestbook_http_requests_total{code="502",method="GET",route="/visitor/"} 3`,
	)
}

func TestTheTopologyRoutesAreLabelledByTheirPattern(t *testing.T) {
	cfg, _ := sqliteConfig(t)
	p, _, _ := start(t, tier.RoleAll, cfg)
	base := "http://" + p.Addr()
	scrape(t, base+"/visitor/topology")
	scrape(t, base+"/visitor/api/topology")
	want := []string{
		`guestbook_http_requests_total{code="200",method="GET",route="GET /visitor/topology"} 1`,
		`guestbook_http_requests_total{code="200",method="GET",route="GET /visitor/api/topology"} 1`,
	}
	// A request is counted once its handler returns, which may be a moment
	// after the client has read the last byte.
	deadline := time.Now().Add(2 * time.Second)
	text := scrape(t, base+"/metrics")
	for !strings.Contains(text, want[0]) || !strings.Contains(text, want[1]) {
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
		text = scrape(t, base+"/metrics")
	}
	wantMetrics(t, text, want...)
}

// A stream that breaks mid-copy makes the reverse proxy abort its handler
// with a panic: the request is still counted, and leaves the in-flight
// gauge.
func TestAnAbortedStreamIsCountedAndLeavesTheInFlightGauge(t *testing.T) {
	breaker := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			io.WriteString(w, "ok\n")
			return
		}
		w.Header().Set("Content-Length", "100000")
		io.WriteString(w, strings.Repeat("x", 1000))
		w.(http.Flusher).Flush()
		conn, _, _ := http.NewResponseController(w).Hijack()
		conn.Close()
	}))
	t.Cleanup(breaker.Close)
	webCfg := config.Default()
	webCfg.Web.Upstreams = []string{breaker.URL}
	webProc, _, _ := start(t, tier.RoleWeb, webCfg)
	base := "http://" + webProc.Addr()
	for range 3 {
		if resp, err := http.Get(base + "/visitor/stream"); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	wantMetrics(t, scrape(t, base+"/metrics"),
		"guestbook_http_requests_in_flight 1\n", // the scrape itself
		`guestbook_http_requests_total{code="200",method="GET",route="/visitor/"} 3`,
	)
}
