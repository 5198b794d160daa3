package app_test

import (
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/internal/httpcheck"
	"github.com/guestbook/guestbook/store"
	"github.com/guestbook/guestbook/store/storetest"
	"github.com/guestbook/guestbook/tier/app"
)

const adminToken = "admin-token-for-tests"

// testNow is the test app's clock, and its store's: "today" is 2026-11-25
// whatever day the tests run.
func testNow() time.Time { return time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC) }

// testApp is the app tier on a real listener over a real store.
type testApp struct {
	*httptest.Server
	db  *store.DB
	cfg config.Database
}

func newTestApp(t *testing.T) *testApp {
	t.Helper()
	return newTestAppOn(t, "sqlite")
}

func newTestAppOn(t testing.TB, driver string) *testApp {
	t.Helper()
	return newTestAppWith(t, driver, func(*app.Options) {})
}

// newTestAppWith is newTestAppOn with the options change made.
func newTestAppWith(t testing.TB, driver string, change func(*app.Options)) *testApp {
	t.Helper()
	db, cfg := storetest.OpenAt(t, driver, testNow)
	opts := app.Options{
		Instance:   config.Instance{ID: "app-1", Zone: "ap-northeast-2a", Subnet: "10.0.2.0/24"},
		AdminToken: adminToken,
		MaxLinks:   config.Default().App.MaxLinks,
		Version:    "v-test",
	}
	change(&opts)
	return serveApp(t, db, cfg, opts)
}

// serveApp is the app tier over db on a real listener, with opts and the
// tests' logger and clock.
func serveApp(t testing.TB, db *store.DB, cfg config.Database, opts app.Options) *testApp {
	t.Helper()
	opts.Log, opts.Now = storetest.Logger(t), testNow
	srv := httptest.NewServer(app.New(db, opts))
	t.Cleanup(srv.Close)
	return &testApp{Server: srv, db: db, cfg: cfg}
}

// browser is a client with its own cookies that does not follow redirects,
// so tests see the 303s.
func (a *testApp) browser(t *testing.T) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

type response struct {
	*http.Response
	body string
}

func do(t *testing.T, c *http.Client, req *http.Request) response {
	t.Helper()
	resp, body := httpcheck.Do(t, c, req)
	return response{resp, body}
}

func (a *testApp) get(t *testing.T, c *http.Client, path string, header ...string) response {
	t.Helper()
	req, err := http.NewRequest("GET", a.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, c, req)
}

// postForm posts form to path. A create form without a form_token gets
// one as a browser does, from the form page (with no minimum age in the
// test app); a test of the token sets form_token itself, empty for none.
func (a *testApp) postForm(t *testing.T, c *http.Client, path string, form url.Values, header ...string) response {
	t.Helper()
	if _, set := form["form_token"]; path == "/visitor/visitor_create/" && !set {
		form = maps.Clone(form)
		form.Set("form_token", a.formToken(t, c))
	}
	req, err := http.NewRequest("POST", a.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return do(t, c, req)
}

// formToken is the form_token of a create form served to c now.
func (a *testApp) formToken(t testing.TB, c *http.Client) string {
	t.Helper()
	return httpcheck.FormToken(t, c, a.URL)
}

func (a *testApp) count(t *testing.T) int {
	t.Helper()
	p, err := a.db.ListEntries(t.Context(), 0, store.MaxPage)
	if err != nil {
		t.Fatal(err)
	}
	return len(p.Entries)
}

// wantCount fails the test unless a's store holds n entries.
func wantCount(t *testing.T, a *testApp, n int, when string) {
	t.Helper()
	if got := a.count(t); got != n {
		t.Errorf("%s: %d entries stored, want %d", when, got, n)
	}
}

func wantStatus(t *testing.T, r response, status int) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("%s %s: status %d, want %d; body:\n%s", r.Request.Method, r.Request.URL.Path, r.StatusCode, status, r.body)
	}
}

func wantContains(t *testing.T, r response, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(r.body, p) {
			t.Errorf("%s %s: body lacks %q", r.Request.Method, r.Request.URL.Path, p)
		}
	}
}

func entryForm(name, email, day, content string) url.Values {
	return url.Values{"name": {name}, "email": {email}, "day": {day}, "content": {content}}
}
