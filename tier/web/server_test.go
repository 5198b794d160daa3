package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/guestbook/guestbook/assets"
	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/internal/httpcheck"
	"github.com/guestbook/guestbook/tier/web"
)

var testInstance = config.Instance{ID: "web-i-0abc123", Zone: "ap-northeast-2a", Subnet: "subnet-10-0-1-0"}

func TestHomeShowsInstanceAndNavigation(t *testing.T) {
	srv, _ := newServer(t, web.Options{})
	resp, body := get(t, srv.URL+"/", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200", resp.StatusCode)
	}
	if got := resp.Header.Get("Content-Type"); !strings.HasPrefix(got, "text/html") {
		t.Errorf("Content-Type = %q, want text/html", got)
	}
	for _, want := range []string{
		testInstance.ID, testInstance.Zone, testInstance.Subnet,
		`href="/visitor/"`, `href="/visitor/visitor_list/"`, `href="/visitor/visitor_create/"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("home page lacks %s", want)
		}
	}
}

func TestHomeLanguageFollowsAcceptLanguage(t *testing.T) {
	srv, _ := newServer(t, web.Options{})
	tests := []struct {
		acceptLanguage, want string
	}{
		{"ko-KR", "ko"},
		{"ko-KR,ko;q=0.9,en-US;q=0.8", "ko"},
		{"en-US", "en"},
		{"en-US,en;q=0.9,ko;q=0.5", "en"},
		{"", "en"},
		{"fr-FR", "en"},
	}
	for _, tt := range tests {
		t.Run(tt.acceptLanguage, func(t *testing.T) {
			_, body := get(t, srv.URL+"/", map[string]string{"Accept-Language": tt.acceptLanguage})
			if got := htmlLang(t, body); got != tt.want {
				t.Errorf("<html lang=%q>, want %q", got, tt.want)
			}
		})
	}
}

func TestHomeLangQueryIsRememberedInCookie(t *testing.T) {
	srv, _ := newServer(t, web.Options{})
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Jar: jar}
	t.Cleanup(client.CloseIdleConnections)
	english := map[string]string{"Accept-Language": "en-US"}

	resp, body := send(t, client, "GET", srv.URL+"/?lang=ko", english)
	if got := htmlLang(t, body); got != "ko" {
		t.Fatalf("?lang=ko gave <html lang=%q>, want ko", got)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "gb_lang" {
			cookie = c
		}
	}
	if cookie == nil || cookie.Value != "ko" || cookie.Path != "/" {
		t.Fatalf("?lang=ko set cookie %v, want gb_lang=ko with Path=/", cookie)
	}

	_, body = send(t, client, "GET", srv.URL+"/", english)
	if got := htmlLang(t, body); got != "ko" {
		t.Errorf("later request with the gb_lang cookie gave <html lang=%q>, want ko over Accept-Language en-US", got)
	}
}

func TestHomeWithoutLangQuerySetsNoCookie(t *testing.T) {
	srv, _ := newServer(t, web.Options{})
	resp, _ := get(t, srv.URL+"/", map[string]string{"Accept-Language": "ko-KR"})
	if len(resp.Cookies()) != 0 {
		t.Errorf("home page without ?lang= set cookies %v, want none", resp.Cookies())
	}
}

func TestHomeIfNoneMatchGives304(t *testing.T) {
	srv, _ := newServer(t, web.Options{})
	first, _ := get(t, srv.URL+"/", map[string]string{"Accept-Language": "ko-KR"})
	etag := first.Header.Get("ETag")
	if etag == "" {
		t.Fatal("home page has no ETag")
	}
	resp, body := get(t, srv.URL+"/", map[string]string{"Accept-Language": "ko-KR", "If-None-Match": etag})
	if resp.StatusCode != http.StatusNotModified {
		t.Fatalf("status = %d, want 304", resp.StatusCode)
	}
	if body != "" {
		t.Errorf("304 has a body of %d bytes, want none", len(body))
	}
}

func TestHomeETagDiffersByLanguage(t *testing.T) {
	srv, _ := newServer(t, web.Options{})
	korean, _ := get(t, srv.URL+"/", map[string]string{"Accept-Language": "ko-KR"})
	resp, body := get(t, srv.URL+"/", map[string]string{"Accept-Language": "en-US", "If-None-Match": korean.Header.Get("ETag")})
	if resp.StatusCode != http.StatusOK || htmlLang(t, body) != "en" {
		t.Errorf("English reader holding the Korean ETag got status %d, want 200 with the English page", resp.StatusCode)
	}
	if !strings.Contains(resp.Header.Get("Vary"), "Accept-Language") {
		t.Errorf("Vary = %q, want it to name Accept-Language", resp.Header.Get("Vary"))
	}
}

func TestHomeIsGzippedForClientsThatAcceptIt(t *testing.T) {
	srv, _ := newServer(t, web.Options{})
	resp, body := get(t, srv.URL+"/", map[string]string{"Accept-Encoding": "gzip"})
	if got := resp.Header.Get("Content-Encoding"); got != "gzip" {
		t.Fatalf("Content-Encoding = %q, want gzip", got)
	}
	zr, err := gzip.NewReader(strings.NewReader(body))
	if err != nil {
		t.Fatalf("body is not gzip: %v", err)
	}
	page, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	_, plain := get(t, srv.URL+"/", map[string]string{"Accept-Encoding": "identity"})
	if !bytes.Equal(page, []byte(plain)) || !strings.Contains(plain, testInstance.ID) {
		t.Errorf("gzip body does not decompress to the identity page")
	}
}

func TestHomeEscapesInstanceID(t *testing.T) {
	inst := testInstance
	inst.ID = `<script>alert(1)</script>`
	srv, _ := newServer(t, web.Options{Instance: inst})
	_, body := get(t, srv.URL+"/", nil)
	if strings.Contains(body, "<script>") {
		t.Errorf("home page contains a raw <script> tag from the instance id")
	}
	if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("home page lacks the escaped instance id")
	}
}

func TestHomeLinksToServableHashedStylesheet(t *testing.T) {
	static := assets.NewStatic()
	srv, _ := newServer(t, web.Options{Static: static})
	_, body := get(t, srv.URL+"/", nil)
	url := static.URL("style.css")
	if !strings.Contains(body, `href="`+url+`"`) {
		t.Fatalf("home page does not link to %s", url)
	}
	resp, css := get(t, srv.URL+url, nil)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || css == "" {
		t.Errorf("GET %s: status %d, Content-Type %q, want 200 text/css with a body",
			url, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Errorf("GET %s: Cache-Control = %q, want immutable", url, resp.Header.Get("Cache-Control"))
	}
}

func TestServerRoutesOnlyKnownPaths(t *testing.T) {
	srv, app := newServer(t, web.Options{})
	tests := []struct {
		method, path string
		want         int
	}{
		{"POST", "/", http.StatusMethodNotAllowed},
		{"GET", "/index.html", http.StatusNotFound},
		{"GET", "/nope", http.StatusNotFound},
		{"GET", "/favicon.ico", http.StatusOK},
		{"GET", "/static/style.css", http.StatusOK},
		{"GET", "/static/missing.css", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			resp, _ := do(t, tt.method, srv.URL+tt.path, nil)
			if resp.StatusCode != tt.want {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
	if got := app.requests(); len(got) != 0 {
		t.Errorf("App got %v, want no requests outside /visitor/", got)
	}
}

func TestServerForwardsVisitorPathsToApp(t *testing.T) {
	srv, app := newServer(t, web.Options{})
	tests := []struct{ method, path string }{
		{"GET", "/visitor/"},
		{"GET", "/visitor/visitor_list/?page=2"},
		{"GET", "/visitor/visitor_detail/7"},
		{"POST", "/visitor/visitor_create/"},
		{"DELETE", "/visitor/api/entries/7"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			resp, body := do(t, tt.method, srv.URL+tt.path, nil)
			want := "app: " + tt.method + " " + tt.path
			if resp.StatusCode != http.StatusTeapot || body != want {
				t.Errorf("got %d %q, want %d %q from App", resp.StatusCode, body, http.StatusTeapot, want)
			}
		})
	}
	if got := len(app.requests()); got != len(tests) {
		t.Errorf("App got %d requests, want %d", got, len(tests))
	}
}

func TestHealthzIsOK(t *testing.T) {
	srv, _ := newServer(t, web.Options{Ready: func(context.Context) error { return errors.New("database down") }})
	resp, body := get(t, srv.URL+"/healthz", nil)
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(body) != "ok" {
		t.Errorf("/healthz = %d %q, want 200 ok even when not ready", resp.StatusCode, body)
	}
}

func TestReadyzFollowsReady(t *testing.T) {
	tests := []struct {
		name  string
		ready func(context.Context) error
		want  int
	}{
		{"no Ready func", nil, http.StatusOK},
		{"Ready returns nil", func(context.Context) error { return nil }, http.StatusOK},
		{"Ready returns an error", func(context.Context) error { return errors.New("database down") }, http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := newServer(t, web.Options{Ready: tt.ready})
			resp, body := get(t, srv.URL+"/readyz", nil)
			if resp.StatusCode != tt.want {
				t.Errorf("/readyz = %d %q, want %d", resp.StatusCode, body, tt.want)
			}
			if got := resp.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", got)
			}
		})
	}
}

func TestServerNeverServesFilesOutsideStatic(t *testing.T) {
	srv, _ := newServer(t, web.Options{})
	targets := []string{
		"/static/../go.mod",
		"/static/../assets/assets.go",
		"/static/../templates/layout.html",
		"/static/%2e%2e/assets.go",
		"/static/..%2fassets.go",
		"/static/%252e%252e/x",
		`/static/..\assets.go`,
		"/static/%00",
		"/static/style.css%00",
	}
	for _, target := range targets {
		t.Run(target, func(t *testing.T) {
			status, header, body := rawGet(t, srv, target)
			// Refused, never redirected to the cleaned path (as net/http's
			// mux would): a redirect tells a scanner where to look next.
			if status != http.StatusBadRequest && status != http.StatusNotFound {
				t.Errorf("status = %d (Location %q), want 400 or 404", status, header.Get("Location"))
			}
			for _, secret := range []string{"module github.com/guestbook", "package assets", `{{define "layout"}}`} {
				if strings.Contains(body, secret) {
					t.Errorf("body contains %q from a file outside static/", secret)
				}
			}
		})
	}
}

// fakeApp stands in for the app tier: it answers 418 and names the request.
type fakeApp struct {
	mu   sync.Mutex
	seen []string
}

func (a *fakeApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.seen = append(a.seen, r.Method+" "+r.URL.RequestURI())
	a.mu.Unlock()
	w.WriteHeader(http.StatusTeapot)
	fmt.Fprintf(w, "app: %s %s", r.Method, r.URL.RequestURI())
}

func (a *fakeApp) requests() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.seen...)
}

// newServer starts the web tier on a real listener with testInstance (unless
// opts names another) and a fakeApp as App (unless opts has one).
func newServer(t *testing.T, opts web.Options) (*httptest.Server, *fakeApp) {
	t.Helper()
	if opts.Instance == (config.Instance{}) {
		opts.Instance = testInstance
	}
	opts.Version = "test"
	opts.Log = httpcheck.Logger(t)
	app := &fakeApp{}
	if opts.App == nil {
		opts.App = app
	}
	s, err := web.New(opts)
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return srv, app
}

var htmlLangRE = regexp.MustCompile(`<html lang="([^"]*)">`)

func htmlLang(t *testing.T, body string) string {
	t.Helper()
	m := htmlLangRE.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no <html lang=...> in page")
	}
	return m[1]
}
