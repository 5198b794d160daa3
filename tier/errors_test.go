package tier_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/internal/httpcheck"
	"github.com/guestbook/guestbook/tier"
)

// eachRole runs test against a guestbook in each role, each on its own
// SQLite database: role app alone, role all, and role web in front of an
// app role. base is the address a client talks to.
func eachRole(t *testing.T, test func(t *testing.T, base string)) {
	for _, role := range []string{tier.RoleApp, tier.RoleAll, tier.RoleWeb} {
		t.Run(role, func(t *testing.T) {
			cfg, _ := sqliteConfig(t)
			if role == tier.RoleWeb {
				appProc, _, _ := start(t, tier.RoleApp, cfg)
				cfg = config.Default()
				cfg.Web.Upstreams = []string{"http://" + appProc.Addr()}
			}
			p, _, _ := start(t, role, cfg)
			test(t, "http://"+p.Addr())
		})
	}
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
