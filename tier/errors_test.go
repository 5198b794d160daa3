package tier_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/internal/httpcheck"
	"github.com/guestbook/guestbook/store/storetest"
	"github.com/guestbook/guestbook/tier"
)

// eachRole runs test against a guestbook in each role, each on its own
// SQLite database: role app alone, role all, and role web in front of an
// app role. base is the address a client talks to.
func eachRole(t *testing.T, test func(t *testing.T, base string)) {
	eachRoleWith(t, nil, func(t *testing.T, r roleUnderTest) { test(t, r.base) })
}

// roleUnderTest is the process of the role under test: its address, and
// stop and wait as start returns them.
type roleUnderTest struct {
	base string
	stop func()
	wait func(time.Duration) error
}

// eachRoleWith is eachRole with the role under test's configuration changed
// by set (when not nil), and its process handed to test.
func eachRoleWith(t *testing.T, set func(*config.Config), test func(t *testing.T, r roleUnderTest)) {
	for _, role := range []string{tier.RoleApp, tier.RoleAll, tier.RoleWeb} {
		t.Run(role, func(t *testing.T) {
			cfg, _ := sqliteConfig(t)
			if role == tier.RoleWeb {
				appProc, _, _ := start(t, tier.RoleApp, cfg)
				cfg = config.Default()
				cfg.Web.Upstreams = []string{"http://" + appProc.Addr()}
			}
			if set != nil {
				set(&cfg)
			}
			p, stop, wait := start(t, role, cfg)
			test(t, roleUnderTest{base: "http://" + p.Addr(), stop: stop, wait: wait})
		})
	}
}

// wantSafeErrorHeaders checks what every error answer of every tier
// carries: the security headers, and no caching by anyone but the reader.
func wantSafeErrorHeaders(t *testing.T, what string, h http.Header) {
	t.Helper()
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" ||
		!strings.Contains(h.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Errorf("%s lacks the security headers: %v", what, h)
	}
	if cc := h.Get("Cache-Control"); !strings.Contains(cc, "no-store") && !strings.Contains(cc, "private") {
		t.Errorf("%s: Cache-Control %q, want it kept from shared caches", what, cc)
	}
}

func TestEveryErrorAnswerCarriesTheSecurityHeadersInEveryRole(t *testing.T) {
	eachRole(t, func(t *testing.T, base string) {
		for _, target := range []string{"/static/no-such.css", "/visitor/no_such_page/", "/visitor/api/nope",
			"/visitor/visitor_detail/abc", "/visitor/api/entries/999"} {
			resp, body := httpcheck.Do(t, http.DefaultClient, httpcheck.NewRequest(t, "GET", base+target, nil))
			if resp.StatusCode < 400 {
				t.Errorf("GET %s: %d, want an error", target, resp.StatusCode)
			}
			if strings.Contains(body, "404 page not found") {
				t.Errorf("GET %s: Go's plain 404, not the tier's own answer", target)
			}
			wantSafeErrorHeaders(t, "GET "+target, resp.Header)
		}
		status, header, _ := httpcheck.RawGet(t, strings.TrimPrefix(base, "http://"), "/static/../go.mod")
		if status != http.StatusBadRequest {
			t.Errorf("an unclean path: %d, want 400", status)
		}
		wantSafeErrorHeaders(t, "an unclean path", header)
	})
}

// With no upstream to take a request the web role answers 502 at once, in
// its reader's language or as JSON, saying when to try again.
func TestTheWebRoleAnswers502WithRetryAfterWhenNoUpstreamCanServe(t *testing.T) {
	cfg := config.Default()
	cfg.Web.Upstreams = []string{"http://" + storetest.FreeAddr(t)}
	p, _, _ := start(t, tier.RoleWeb, cfg)
	base := "http://" + p.Addr()
	for _, target := range []string{"/visitor/", "/visitor/api/entries", "/visitor/api/entries"} {
		resp, body := httpcheck.Do(t, http.DefaultClient, httpcheck.NewRequest(t, "GET", base+target, nil))
		if resp.StatusCode != http.StatusBadGateway || resp.Header.Get("Retry-After") != "5" {
			t.Errorf("GET %s: %d, Retry-After %q; want 502 with Retry-After 5", target, resp.StatusCode, resp.Header.Get("Retry-After"))
		}
		wantSafeErrorHeaders(t, "the 502 of "+target, resp.Header)
		if strings.HasPrefix(target, "/visitor/api/") {
			wantJSONError(t, resp, body, http.StatusBadGateway)
		}
	}
}

// TestDrainTurnsReadyzOffButKeepsServingInEveryRole is a rolling restart
// behind a load balancer: after SIGTERM the instance fails its readiness
// check for instance.drain, still answering requests, and only then stops.
func TestDrainTurnsReadyzOffButKeepsServingInEveryRole(t *testing.T) {
	eachRoleWith(t, func(c *config.Config) { c.Instance.Drain = 2 * time.Second }, func(t *testing.T, r roleUnderTest) {
		if got := status(t, r.base+"/readyz"); got != http.StatusOK {
			t.Fatalf("/readyz before the stop = %d", got)
		}
		stopped := time.Now()
		r.stop()
		for status(t, r.base+"/readyz") != http.StatusServiceUnavailable {
			if time.Since(stopped) > time.Second {
				t.Fatal("/readyz still answers 200 a second into the drain")
			}
			time.Sleep(10 * time.Millisecond)
		}
		if got := status(t, r.base+"/visitor/"); got != http.StatusOK {
			t.Errorf("a page while draining = %d, want it still served", got)
		}
		if err := r.wait(5 * time.Second); err != nil {
			t.Fatal(err)
		}
		if time.Since(stopped) < 2*time.Second {
			t.Errorf("stopped %v after SIGTERM, before the drain's 2s were up", time.Since(stopped))
		}
		if _, err := http.Get(r.base + "/visitor/"); err == nil {
			t.Error("still serving after the drain and the shutdown")
		}
	})
}

// wantJSONError checks that an answer is the API's JSON error object with
// status.
func wantJSONError(t *testing.T, resp *http.Response, body string, status int) {
	t.Helper()
	var out struct {
		Error string `json:"error"`
	}
	if resp.StatusCode != status {
		t.Errorf("status %d, want %d: %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q, want JSON: %s", ct, body)
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil || out.Error == "" {
		t.Errorf("body %q is not {\"error\": ...}: %v", body, err)
	}
}

func TestABodyOver64KiBToTheAPIIsRefusedWith413AsJSONInEveryRole(t *testing.T) {
	eachRole(t, func(t *testing.T, base string) {
		big := `{"name":"a","email":"a@example.com","content":"` + strings.Repeat("가", 22<<10) + `"}`
		for _, chunked := range []bool{false, true} {
			req, err := http.NewRequest("POST", base+"/visitor/api/entries", strings.NewReader(big))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			if chunked {
				req.ContentLength = -1 // no length known up front: read until the limit
			}
			resp, body := httpcheck.Do(t, http.DefaultClient, req)
			wantJSONError(t, resp, body, http.StatusRequestEntityTooLarge)
		}
		resp, body := httpcheck.Do(t, http.DefaultClient, httpcheck.NewRequest(t, "GET", base+"/visitor/api/entries", nil))
		if resp.StatusCode != http.StatusOK || !strings.Contains(body, `"entries":[]`) {
			t.Errorf("after the refusals the list is %d %s, want it empty", resp.StatusCode, body)
		}
	})
}

func TestAMalformedAPIRequestIsAnsweredAsJSONInEveryRole(t *testing.T) {
	eachRole(t, func(t *testing.T, base string) {
		tests := []struct {
			name, method, target, contentType, body string
			want                                    int
		}{
			{"malformed JSON", "POST", "/visitor/api/entries", "application/json", `{"name":`, http.StatusBadRequest},
			{"not JSON", "POST", "/visitor/api/entries", "text/plain", `name=a`, http.StatusUnsupportedMediaType},
			{"an id that is not one", "GET", "/visitor/api/entries/abc", "", "", http.StatusBadRequest},
			{"a limit that is not one", "GET", "/visitor/api/entries?limit=lots", "", "", http.StatusBadRequest},
			{"no such entry", "GET", "/visitor/api/entries/999", "", "", http.StatusNotFound},
			{"no such route", "GET", "/visitor/api/nope", "", "", http.StatusNotFound},
			{"a method the route lacks", "PUT", "/visitor/api/entries", "", "", http.StatusMethodNotAllowed},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				req, err := http.NewRequest(tt.method, base+tt.target, strings.NewReader(tt.body))
				if err != nil {
					t.Fatal(err)
				}
				if tt.contentType != "" {
					req.Header.Set("Content-Type", tt.contentType)
				}
				resp, body := httpcheck.Do(t, http.DefaultClient, req)
				wantJSONError(t, resp, body, tt.want)
			})
		}
		// A path that is not clean is refused before the mux would
		// redirect it, and under the API in JSON too.
		status, header, body := httpcheck.RawGet(t, strings.TrimPrefix(base, "http://"), "/visitor/api/../api/entries")
		wantJSONError(t, &http.Response{StatusCode: status, Header: header}, string(body), http.StatusBadRequest)
	})
}

func TestPathEscapesUnderStaticAreRefusedAndNeverRedirectedInEveryRole(t *testing.T) {
	targets := []string{
		"/static/../go.mod",
		"/static/..%2fgo.mod",
		"/static/%2e%2e/go.mod",
		"/static/%2e%2e%2fgo.mod",
		"/static/%252e%252e/go.mod",
		"/static/....//....//etc/passwd",
		"/static//etc/passwd",
		"/static/./style.css",
		"/static/../../../../etc/passwd",
		"/static/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
		"//static/../go.mod",
	}
	eachRole(t, func(t *testing.T, base string) {
		for _, target := range targets {
			status, header, body := httpcheck.RawGet(t, strings.TrimPrefix(base, "http://"), target)
			if status != http.StatusBadRequest && status != http.StatusNotFound {
				t.Errorf("GET %s: status %d (Location %q), want 400 or 404", target, status, header.Get("Location"))
			}
			for _, secret := range []string{"module github.com/guestbook", "root:x:0:0"} {
				if strings.Contains(string(body), secret) {
					t.Errorf("GET %s: the answer holds %q", target, secret)
				}
			}
		}
	})
}
