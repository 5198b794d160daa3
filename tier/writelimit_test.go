package tier_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/tier"
)

// TestTheWriteLimitCountsEachVisitorBehindTheWebTierByDefault is the
// default topology with nothing configured about proxies on the app role: a
// load balancer (this test, trusted by the web role) names two visitors, and
// the app role, believing the web role by app.trusted_proxies' default,
// counts each for itself rather than both as the web instance.
func TestTheWriteLimitCountsEachVisitorBehindTheWebTierByDefault(t *testing.T) {
	cfg, _ := sqliteConfig(t)
	cfg.App.WriteLimit = 1
	appProc, _, _ := start(t, tier.RoleApp, cfg)
	webCfg := config.Default()
	webCfg.Web.Upstreams = []string{"http://" + appProc.Addr()}
	webCfg.Web.TrustedProxies = []string{"127.0.0.1"} // the load balancer in front
	webProc, _, _ := start(t, tier.RoleWeb, webCfg)

	create := func(visitor string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("POST", "http://"+webProc.Addr()+"/visitor/api/entries",
			strings.NewReader(`{"name":"방문자","email":"v@example.com","content":"안녕하세요"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", visitor)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, tc := range []struct {
		visitor string
		want    int
	}{
		{"203.0.113.1", http.StatusCreated},
		{"203.0.113.2", http.StatusCreated},
		{"203.0.113.1", http.StatusTooManyRequests},
	} {
		resp := create(tc.visitor)
		if resp.StatusCode != tc.want {
			t.Errorf("create from %s: %d, want %d", tc.visitor, resp.StatusCode, tc.want)
		}
		if tc.want == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "" {
			t.Error("a 429 without Retry-After")
		}
	}
	wantMetrics(t, scrape(t, "http://"+appProc.Addr()+"/metrics"),
		`guestbook_writes_refused_total{reason="write_limit"} 1`,
		`guestbook_entries_total{action="created"} 2`)
}
