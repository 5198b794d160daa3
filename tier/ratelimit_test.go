package tier_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/tier"
)

// web.rate_limit applies to the web tier in role web and in role all: a
// client past its burst is answered 429 with Retry-After (JSON under
// /visitor/api/), counted in guestbook_rate_limited_total and not in
// guestbook_shed_total, while /metrics, the health checks and the home page
// are served however often it asks. At 0.01 a second (one request in 100 s)
// no machine is slow enough for a token to come back during the test.
func TestBothRolesWithTheWebTierLimitEachClientsRateFromTheConfiguration(t *testing.T) {
	appCfg, _ := sqliteConfig(t)
	appProc, _, _ := start(t, tier.RoleApp, appCfg)
	webCfg := config.Default()
	webCfg.Web.Upstreams = []string{"http://" + appProc.Addr()}
	allCfg, _ := sqliteConfig(t)
	for role, cfg := range map[string]config.Config{tier.RoleWeb: webCfg, tier.RoleAll: allCfg} {
		t.Run(role, func(t *testing.T) {
			cfg.Web.RateLimit, cfg.Web.RateBurst = 0.01, 2
			p, _, _ := start(t, role, cfg)
			base := "http://" + p.Addr()
			for i := range 2 {
				if st := status(t, base+"/visitor/"); st != http.StatusOK {
					t.Fatalf("request %d of a burst of 2: %d, want 200", i+1, st)
				}
			}
			resp, err := http.Get(base + "/visitor/api/entries")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "100" {
				t.Errorf("past the burst: %d, Retry-After %q; want 429 and 100", resp.StatusCode, resp.Header.Get("Retry-After"))
			}
			if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
				t.Errorf("the API's refusal is %s, want JSON", resp.Header.Get("Content-Type"))
			}
			for range 3 {
				for _, path := range []string{"/healthz", "/readyz", "/"} {
					if st := status(t, base+path); st != http.StatusOK {
						t.Errorf("GET %s from a client past its rate: %d, want 200", path, st)
					}
				}
			}
			var text string
			for range 3 { // scrape fails the test on anything but 200
				text = scrape(t, base+"/metrics")
			}
			wantMetrics(t, text, `guestbook_rate_limited_total{tier="web"} 1`)
			if strings.Contains(text, "guestbook_shed_total{") {
				t.Error("a rate-limited request counted as shed for want of capacity")
			}
		})
	}
}

// By default (web.rate_limit 0) one client may send as fast as it likes.
func TestTheRateLimitIsOffByDefault(t *testing.T) {
	cfg, _ := sqliteConfig(t)
	p, _, _ := start(t, tier.RoleAll, cfg)
	for i := range 30 {
		if st := status(t, "http://"+p.Addr()+"/visitor/"); st != http.StatusOK {
			t.Fatalf("request %d: %d, want 200", i+1, st)
		}
	}
	if text := scrape(t, "http://"+p.Addr()+"/metrics"); strings.Contains(text, "guestbook_rate_limited_total{") {
		t.Error("requests counted as rate-limited with no limit set")
	}
}
