package web_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/guestbook/guestbook/store/storetest"
	"github.com/guestbook/guestbook/tier/web"
)

func TestProxyAlternatesBetweenUpstreams(t *testing.T) {
	a, b := newUpstream(t, "a"), newUpstream(t, "b")
	front := newProxy(t, a.URL, b.URL)

	var order []string
	for range 6 {
		resp, body := get(t, front.URL+"/visitor/", nil)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status = %d, want 200", resp.StatusCode)
		}
		order = append(order, body)
	}
	for i := 1; i < len(order); i++ {
		if order[i] == order[i-1] {
			t.Fatalf("upstreams answered in order %v, want them to alternate", order)
		}
	}
	if len(a.requests()) != 3 || len(b.requests()) != 3 {
		t.Errorf("upstream a got %d and b got %d requests, want 3 each", len(a.requests()), len(b.requests()))
	}
}

func TestProxyKeepsHostPathAndAddsXForwardedFor(t *testing.T) {
	up := newUpstream(t, "a")
	front := newProxy(t, up.URL)

	req, err := http.NewRequest("POST", front.URL+"/visitor/visitor_create/?x=1", strings.NewReader("name=kim"))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "guestbook.example:8080"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200", resp.StatusCode)
	}

	seen := up.requests()
	if len(seen) != 1 {
		t.Fatalf("upstream got %d requests, want 1", len(seen))
	}
	got := seen[0]
	if got.host != "guestbook.example:8080" {
		t.Errorf("upstream saw Host %q, want the browser's guestbook.example:8080", got.host)
	}
	if got.forwardedFor != "127.0.0.1" {
		t.Errorf("upstream saw X-Forwarded-For %q, want the client's 127.0.0.1", got.forwardedFor)
	}
	if got.method != "POST" || got.uri != "/visitor/visitor_create/?x=1" || got.body != "name=kim" {
		t.Errorf("upstream saw %s %s %q, want POST /visitor/visitor_create/?x=1 \"name=kim\"", got.method, got.uri, got.body)
	}
}

func TestProxyAnswers502WhenUpstreamIsDown(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	front := newProxy(t, down.URL)

	resp, _ := get(t, front.URL+"/visitor/", nil)
	if resp.StatusCode != http.StatusBadGateway {
		t.Errorf("status = %d, want 502", resp.StatusCode)
	}
}

func TestNewProxyRejectsMissingOrBadUpstreams(t *testing.T) {
	tests := []struct {
		name      string
		upstreams []string
	}{
		{"nil", nil},
		{"empty", []string{}},
		{"unparseable", []string{"http://app:8081", "://no-scheme"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := web.NewProxy(tt.upstreams, storetest.Logger(t))
			if err == nil || !strings.Contains(err.Error(), "web.upstreams") {
				t.Errorf("NewProxy(%q) = %v, %v; want an error naming web.upstreams", tt.upstreams, p, err)
			}
		})
	}
}

func TestServerReachesAppThroughProxyWithBrowserHost(t *testing.T) {
	up := newUpstream(t, "app")
	proxy, err := web.NewProxy([]string{up.URL}, storetest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := newServer(t, web.Options{App: proxy})

	req, err := http.NewRequest("GET", srv.URL+"/visitor/visitor_list/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = "guestbook.example"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	seen := up.requests()
	if resp.StatusCode != http.StatusOK || len(seen) != 1 {
		t.Fatalf("status %d with %d upstream requests, want 200 with 1", resp.StatusCode, len(seen))
	}
	if seen[0].host != "guestbook.example" || seen[0].uri != "/visitor/visitor_list/" {
		t.Errorf("upstream saw Host %q path %q, want guestbook.example /visitor/visitor_list/", seen[0].host, seen[0].uri)
	}
}

// upstream is a real app tier stand-in that answers with its name and
// records what each request looked like when it arrived.
type upstream struct {
	*httptest.Server
	mu   sync.Mutex
	seen []seenRequest
}

type seenRequest struct {
	method, uri, host, forwardedFor, body string
}

func newUpstream(t *testing.T, name string) *upstream {
	t.Helper()
	u := &upstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		u.mu.Lock()
		u.seen = append(u.seen, seenRequest{
			method: r.Method, uri: r.URL.RequestURI(), host: r.Host,
			forwardedFor: r.Header.Get("X-Forwarded-For"), body: string(body),
		})
		u.mu.Unlock()
		fmt.Fprint(w, name)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *upstream) requests() []seenRequest {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]seenRequest(nil), u.seen...)
}

// newProxy starts a Proxy over the upstream URLs on a real listener.
func newProxy(t *testing.T, upstreams ...string) *httptest.Server {
	t.Helper()
	p, err := web.NewProxy(upstreams, storetest.Logger(t))
	if err != nil {
		t.Fatalf("NewProxy: %v", err)
	}
	front := httptest.NewServer(p)
	t.Cleanup(front.Close)
	return front
}
