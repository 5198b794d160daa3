package web_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/guestbook/guestbook/internal/httpcheck"
)

func TestUpstreamSeesTheClientsHostAndAddressNotWhatAnUntrustedClientClaims(t *testing.T) {
	up := newEcho(t, "a")
	f := newFront(t, mustTrust(t, "10.0.0.0/8"), up.URL)

	req := newRequest(t, "POST", f.URL+"/visitor/visitor_create/?x=1", "name=kim",
		"X-Forwarded-For", "203.0.113.9",
		"X-Real-Ip", "203.0.113.9",
		"X-Forwarded-Proto", "https",
		"X-Forwarded-Host", "evil.example",
		"X-Request-Id", "chosen-by-the-client")
	req.Host = "guestbook.example:8080"
	r := roundTrip(t, client(t), req)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200", r.StatusCode)
	}
	seen := up.requests()
	got := seen[len(seen)-1]
	if got.method != "POST" || got.uri != "/visitor/visitor_create/?x=1" || got.body != "name=kim" {
		t.Errorf("upstream saw %s %s %q, want POST /visitor/visitor_create/?x=1 \"name=kim\"", got.method, got.uri, got.body)
	}
	want := map[string]string{
		"Host":              "guestbook.example:8080",
		"X-Forwarded-For":   "127.0.0.1",
		"X-Real-Ip":         "127.0.0.1",
		"X-Forwarded-Proto": "http",
		"X-Forwarded-Host":  "guestbook.example:8080",
	}
	for name, value := range want {
		var have []string
		if name == "Host" {
			have = []string{got.host}
		} else {
			have = got.header.Values(name)
		}
		if len(have) != 1 || have[0] != value {
			t.Errorf("upstream saw %s %q, want %q", name, have, value)
		}
	}
	id := got.header.Values("X-Request-Id")
	if len(id) != 1 || id[0] == "" || id[0] == "chosen-by-the-client" {
		t.Errorf("upstream saw X-Request-Id %q, want one made by the web tier", id)
	}
	if back := r.Header.Values("X-Request-Id"); len(id) == 1 && (len(back) != 1 || back[0] != id[0]) {
		t.Errorf("client got X-Request-Id %q, want the upstream's %q", back, id[0])
	}
}

func TestForwardedHeadersFromATrustedProxyAreKeptAndExtended(t *testing.T) {
	up := newEcho(t, "a")
	f := newFront(t, mustTrust(t, "127.0.0.0/8"), up.URL)

	req := newRequest(t, "GET", f.URL+"/visitor/", "",
		"X-Forwarded-For", "203.0.113.9",
		"X-Forwarded-Proto", "https",
		"X-Forwarded-Host", "guestbook.example",
		"X-Request-Id", "from-the-load-balancer-42")
	r := roundTrip(t, client(t), req)
	got := up.requests()[0]
	want := map[string]string{
		"X-Forwarded-For":   "203.0.113.9, 127.0.0.1",
		"X-Real-Ip":         "203.0.113.9",
		"X-Forwarded-Proto": "https",
		"X-Forwarded-Host":  "guestbook.example",
		"X-Request-Id":      "from-the-load-balancer-42",
	}
	for name, value := range want {
		if have := got.header.Values(name); len(have) != 1 || have[0] != value {
			t.Errorf("upstream saw %s %q, want %q", name, have, value)
		}
	}
	if back := r.Header.Get("X-Request-Id"); back != "from-the-load-balancer-42" {
		t.Errorf("client got X-Request-Id %q, want the trusted proxy's", back)
	}
}

func TestHopByHopHeadersDoNotCrossTheProxy(t *testing.T) {
	headers := make(chan http.Header, 1)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		headers <- r.Header.Clone()
		w.Header().Set("Connection", "X-Upstream-Secret")
		w.Header().Set("X-Upstream-Secret", "only for the proxy")
		w.Header().Set("Keep-Alive", "timeout=5")
		w.Header().Set("X-Kept", "yes")
		io.WriteString(w, "ok")
	}))
	t.Cleanup(up.Close)
	f := newFront(t, nil, up.URL)

	r := rawRequest(t, f.Server, "GET /visitor/ HTTP/1.1\r\n"+
		"Host: guestbook.example\r\n"+
		"Connection: keep-alive, X-Secret\r\n"+
		"X-Secret: only for the next hop\r\n"+
		"Keep-Alive: timeout=5\r\n"+
		"Proxy-Connection: keep-alive\r\n"+
		"Proxy-Authorization: Basic c2VjcmV0OnNlY3JldA==\r\n"+
		"Upgrade-Insecure-Requests: 1\r\n"+
		"X-End-To-End: yes\r\n\r\n")
	if r.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200 from the upstream", r.StatusCode)
	}
	seen := <-headers
	for _, name := range []string{"Connection", "X-Secret", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization"} {
		if v := seen.Values(name); len(v) > 0 {
			t.Errorf("upstream saw hop-by-hop %s: %q", name, v)
		}
	}
	for _, name := range []string{"X-End-To-End", "Upgrade-Insecure-Requests"} {
		if seen.Get(name) == "" {
			t.Errorf("upstream lacks end-to-end header %s", name)
		}
	}
	if v := r.Header.Values("X-Upstream-Secret"); len(v) > 0 {
		t.Errorf("client saw the upstream's hop-by-hop X-Upstream-Secret: %q", v)
	}
	if r.Header.Get("X-Kept") != "yes" {
		t.Error("client lacks the upstream's end-to-end X-Kept")
	}
}

// TestASameOriginBrowserPostThroughTheProxyIsStoredAndACrossOriginOneRefused
// posts through the web tier to a real app tier, whose cross-origin
// protection compares Origin with the Host it sees.
func TestASameOriginBrowserPostThroughTheProxyIsStoredAndACrossOriginOneRefused(t *testing.T) {
	a := newAppServer(t, "app-1")
	f := newFront(t, nil, a.URL)
	c := client(t)
	post := func(content string, header ...string) int {
		req := newRequest(t, "POST", f.URL+"/visitor/visitor_create/", form(content)+"&form_token="+a.token,
			append([]string{"Content-Type", "application/x-www-form-urlencoded"}, header...)...)
		return roundTrip(t, c, req).StatusCode
	}
	site := f.URL // "http://" + the web tier's host:port, as the browser sees it

	tests := []struct {
		content string
		header  []string
		want    int
	}{
		{"same-origin-fetch", []string{"Origin", site, "Sec-Fetch-Site", "same-origin"}, http.StatusSeeOther},
		// A browser that sends no Sec-Fetch-Site is judged by Origin
		// against Host: the app must see the web tier's Host.
		{"same-origin-only", []string{"Origin", site}, http.StatusSeeOther},
		{"cross-origin-fetch", []string{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"}, http.StatusForbidden},
		{"cross-origin-only", []string{"Origin", "https://evil.example"}, http.StatusForbidden},
	}
	for _, tt := range tests {
		if got := post(tt.content, tt.header...); got != tt.want {
			t.Errorf("post %s with %q: status %d, want %d", tt.content, tt.header, got, tt.want)
		}
	}
	stored := a.contents(t)
	want := map[string]int{"same-origin-fetch": 1, "same-origin-only": 1}
	if fmt.Sprint(stored) != fmt.Sprint(want) {
		t.Errorf("stored %v, want %v", stored, want)
	}
}

func TestAStreamedResponseReachesTheClientBeforeTheUpstreamFinishes(t *testing.T) {
	f := newFront(t, nil, httpcheck.NewStreamer(t).URL)
	// The whole exchange up to the first line, response header included,
	// must fit in a second while the upstream still holds the rest.
	httpcheck.WantFirstLineWithin(t, client(t), f.URL+"/visitor/stream", time.Second)
}

func TestARequestBodyOver64KiBIsRefusedAtTheProxy(t *testing.T) {
	up := newEcho(t, "a")
	f := newFront(t, nil, up.URL)
	c := client(t)

	over := strings.Repeat("x", 64<<10+1)
	if r := roundTrip(t, c, newRequest(t, "POST", f.URL+"/visitor/visitor_create/", over)); r.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("body of 64 KiB + 1 with Content-Length: status %d, want 413", r.StatusCode)
	}
	chunked := newRequest(t, "POST", f.URL+"/visitor/visitor_create/", "")
	chunked.Body, chunked.ContentLength = io.NopCloser(strings.NewReader(over)), -1
	if r := roundTrip(t, c, chunked); r.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("body of 64 KiB + 1 without Content-Length: status %d, want 413", r.StatusCode)
	}
	if n := len(up.requests()); n != 0 {
		t.Errorf("upstream got %d oversized requests, want 0", n)
	}

	limit := url.Values{"content": {strings.Repeat("x", 64<<10-len("content="))}}.Encode()
	if r := roundTrip(t, c, newRequest(t, "POST", f.URL+"/visitor/visitor_create/", limit)); r.StatusCode != http.StatusOK {
		t.Errorf("body of exactly 64 KiB: status %d, want 200", r.StatusCode)
	}
	if seen := up.requests(); len(seen) != 1 || seen[0].body != limit {
		t.Errorf("the 64 KiB body did not reach the upstream whole")
	}
}
