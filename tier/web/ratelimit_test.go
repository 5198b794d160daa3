package web_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/guestbook/guestbook/assets"
	"github.com/guestbook/guestbook/internal/clientlimit"
	"github.com/guestbook/guestbook/internal/httpcheck"
	"github.com/guestbook/guestbook/tier/forwarded"
	"github.com/guestbook/guestbook/tier/web"
)

// limitedFront is the web role in front of upstream with a rate limit of
// rate a second and burst per client, behind forwarded's middleware as
// tier.Open puts it, on a real listener. The limit's clock moves only when
// the test calls step, instead of sleeping.
func limitedFront(t *testing.T, trusted forwarded.Trusted, rate, burst float64, upstream string) (srv *httptest.Server, step func(time.Duration)) {
	t.Helper()
	log := httpcheck.Logger(t)
	pool, err := web.NewPool([]string{upstream}, time.Second, log)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	limit := clientlimit.New(rate, burst, 0)
	limit.SetClock(func() time.Time { return now })
	s, err := web.New(web.Options{Instance: testInstance, Version: "test", Log: log,
		Upstreams: pool, Trusted: trusted, RateLimit: limit})
	if err != nil {
		t.Fatal(err)
	}
	srv = httptest.NewServer(trusted.Middleware(s))
	t.Cleanup(srv.Close)
	return srv, func(d time.Duration) { now = now.Add(d) }
}

// statusFrom is the status of GET path from a client that sends the given
// headers (pairs of name and value).
func statusFrom(t *testing.T, srv *httptest.Server, path string, header ...string) int {
	t.Helper()
	r := roundTrip(t, client(t), newRequest(t, "GET", srv.URL+path, "", header...))
	return r.StatusCode
}

// A client past its rate is answered 429 by the web tier itself, before the
// app tier sees the request, with the seconds until it may send again: a
// page in its language, or JSON under /visitor/api/. Another client is not
// held back, and once the wait has passed the first is served again.
func TestAClientPastItsRateGets429WithRetryAfterAndAnotherIsUnaffected(t *testing.T) {
	app := newAppServer(t, "app-1")
	srv, step := limitedFront(t, mustTrust(t, "127.0.0.1"), 0.25, 2, app.URL)
	alice, bob := []string{"X-Forwarded-For", "198.51.100.1"}, []string{"X-Forwarded-For", "198.51.100.2"}
	c := client(t)
	for i := range 2 {
		if st := statusFrom(t, srv, "/visitor/", alice...); st != http.StatusOK {
			t.Fatalf("request %d of a burst of 2: %d, want 200", i+1, st)
		}
	}

	r := roundTrip(t, c, newRequest(t, "GET", srv.URL+"/visitor/", "", append(alice, "Accept-Language", "ko")...))
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") != "4" {
		t.Fatalf("past the burst: %d, Retry-After %q; want 429 and 4 (a request every 4 s)", r.StatusCode, r.Header.Get("Retry-After"))
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || !strings.Contains(r.body, "요청이 너무 잦습니다") {
		t.Errorf("the refusal is not a Korean page saying why: %s %q", r.Header.Get("Content-Type"), short(r.body))
	}
	if r.Header.Get("Guestbook-App") != "" {
		t.Error("the refused request reached the app tier")
	}

	step(3 * time.Second)
	r = roundTrip(t, c, newRequest(t, "GET", srv.URL+"/visitor/api/entries", "", alice...))
	var answer struct {
		Error string `json:"error"`
	}
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") != "1" {
		t.Errorf("3 s later: %d, Retry-After %q; want 429 and 1", r.StatusCode, r.Header.Get("Retry-After"))
	}
	if err := json.Unmarshal([]byte(r.body), &answer); err != nil || !strings.Contains(answer.Error, "Too many requests") {
		t.Errorf("the API's refusal is not JSON saying why: %q (%v)", short(r.body), err)
	}

	if st := statusFrom(t, srv, "/visitor/", bob...); st != http.StatusOK {
		t.Errorf("another client while the first is held back: %d, want 200", st)
	}
	step(time.Second)
	if st := statusFrom(t, srv, "/visitor/", alice...); st != http.StatusOK {
		t.Errorf("once the wait it was told has passed: %d, want 200", st)
	}
}

// A client that is not a trusted proxy can't escape its limit by saying it
// forwards for others: its own X-Forwarded-For is not believed.
func TestASpoofedForwardedForFromAnUntrustedPeerDoesNotEscapeTheLimit(t *testing.T) {
	for name, trusted := range map[string]forwarded.Trusted{"no proxy trusted": nil, "another network trusted": mustTrust(t, "10.0.0.0/8")} {
		t.Run(name, func(t *testing.T) {
			up := newEcho(t, "up")
			srv, _ := limitedFront(t, trusted, 1, 3, up.URL)
			refused := 0
			for _, spoof := range []string{"198.51.100.1", "198.51.100.2", "203.0.113.3", "2001:db8::4", "10.0.0.5", "198.51.100.6"} {
				if statusFrom(t, srv, "/visitor/", "X-Forwarded-For", spoof, "X-Real-Ip", spoof) == http.StatusTooManyRequests {
					refused++
				}
			}
			if refused != 3 {
				t.Errorf("%d of 6 requests with spoofed addresses refused, want the 3 past the burst of one client", refused)
			}
			if n := len(up.requests()); n != 3 {
				t.Errorf("the app tier saw %d requests, want the 3 let through", n)
			}
		})
	}
}

// Behind a trusted load balancer every real client has its own bucket, an
// IPv6 client's being its /64's; a client behind the balancer can't escape
// by putting addresses of its choosing before its own.
func TestBehindATrustedProxyEachRealClientIsLimitedOnItsOwn(t *testing.T) {
	srv, _ := limitedFront(t, mustTrust(t, "127.0.0.1"), 1, 1, newEcho(t, "up").URL)
	steps := []struct {
		forwardedFor string
		want         int
	}{
		{"198.51.100.1", http.StatusOK},
		{"198.51.100.1", http.StatusTooManyRequests},
		{"203.0.113.9, 198.51.100.1", http.StatusTooManyRequests}, // the balancer appended the real one
		{"198.51.100.2", http.StatusOK},
		{"2001:db8:0:7::1", http.StatusOK},
		{"2001:db8:0:7:ffff::2", http.StatusTooManyRequests}, // the same /64
		{"2001:db8:0:8::1", http.StatusOK},
	}
	for _, s := range steps {
		if got := statusFrom(t, srv, "/visitor/", "X-Forwarded-For", s.forwardedFor); got != s.want {
			t.Errorf("from %s: %d, want %d", s.forwardedFor, got, s.want)
		}
	}
}

// The health checks, the home page and the embedded files are never
// counted, and a client past its rate still gets them.
func TestHealthHomeAndStaticFilesAreNeverRateLimited(t *testing.T) {
	srv, _ := limitedFront(t, nil, 1, 1, newEcho(t, "up").URL)
	if st := statusFrom(t, srv, "/visitor/"); st != http.StatusOK {
		t.Fatalf("the first request: %d", st)
	}
	if st := statusFrom(t, srv, "/visitor/"); st != http.StatusTooManyRequests {
		t.Fatalf("past the burst: %d, want 429", st)
	}
	paths := []string{"/healthz", "/readyz", "/", "/favicon.ico", assets.NewStatic().URL("style.css")}
	for range 3 {
		for _, path := range paths {
			if st := statusFrom(t, srv, path); st != http.StatusOK {
				t.Errorf("GET %s from a client past its rate: %d, want 200", path, st)
			}
		}
	}
}

// With no rate limit (web.rate_limit's default) nothing is refused however
// fast one client sends.
func TestWithoutARateLimitNothingIsRefused(t *testing.T) {
	up := newEcho(t, "up")
	f := newFront(t, nil, up.URL)
	for i := range 50 {
		if st := statusFrom(t, f.Server, "/visitor/"); st != http.StatusOK {
			t.Fatalf("request %d: %d, want 200", i+1, st)
		}
	}
}
