package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guestbook/guestbook/store/storetest"
	"github.com/guestbook/guestbook/tier/app"
	"github.com/guestbook/guestbook/tier/forwarded"
	"github.com/guestbook/guestbook/tier/metrics"
)

// adminApp is the test app behind the forwarded middleware (so that
// X-Forwarded-For names the client and X-Forwarded-Proto says HTTPS, from
// the loopback test client), with a clock the test moves, its log in a
// buffer and the real metrics as its observer.
type adminApp struct {
	*testApp
	clock   *atomic.Int64 // unix nanoseconds
	log     *syncBuffer
	metrics *metrics.Metrics
	secret  []byte
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

const adminSecret = "the shared secret of the admin tests, 32+ bytes"

func newAdminApp(t *testing.T, driver string, change func(*app.Options)) *adminApp {
	t.Helper()
	a := &adminApp{clock: &atomic.Int64{}, log: &syncBuffer{}, metrics: metrics.New("v-test", "c"), secret: []byte(adminSecret)}
	a.clock.Store(testNow().UnixNano())
	db, cfg := storetest.OpenAt(t, driver, testNow)
	trusted, err := forwarded.ParseTrusted([]string{"127.0.0.1", "::1"})
	if err != nil {
		t.Fatal(err)
	}
	opts := app.Options{
		AdminToken: adminToken, Version: "v-test", Secret: a.secret, TrustedProxies: trusted,
		Log:      slog.New(slog.NewTextHandler(io.MultiWriter(a.log, logWriter{t}), nil)),
		Now:      func() time.Time { return time.Unix(0, a.clock.Load()).UTC() },
		Observer: a.metrics,
	}
	if change != nil {
		change(&opts)
	}
	srv := httptest.NewServer(trusted.Middleware(app.New(db, opts)))
	t.Cleanup(srv.Close)
	a.testApp = &testApp{Server: srv, db: db, cfg: cfg}
	return a
}

type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (a *adminApp) advance(d time.Duration) { a.clock.Add(int64(d)) }

// signIn signs c in and returns the session cookie the answer set.
func (a *adminApp) signIn(t *testing.T, c *http.Client, header ...string) *http.Cookie {
	t.Helper()
	r := a.postForm(t, c, "/visitor/admin/sign-in", url.Values{"admin_token": {adminToken}}, header...)
	wantStatus(t, r, http.StatusSeeOther)
	for _, ck := range r.Cookies() {
		if ck.Name == "gb_admin" {
			return ck
		}
	}
	t.Fatalf("signing in set no gb_admin cookie: %v", r.Header.Values("Set-Cookie"))
	return nil
}

// createFrom creates an entry through the API as the client at addr.
func (a *adminApp) createFrom(t *testing.T, addr, name, email, content string) map[string]any {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"name": name, "email": email, "content": content})
	req, _ := http.NewRequest("POST", a.URL+"/visitor/api/entries", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", addr)
	r := do(t, http.DefaultClient, req)
	wantStatus(t, r, http.StatusCreated)
	var out map[string]any
	if err := json.Unmarshal([]byte(r.body), &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func idOf(e map[string]any) string { return fmt.Sprint(int64(e["id"].(float64))) }

// metric is the value of the admin counter for action in a's /metrics.
func (a *adminApp) adminMetric(t *testing.T, action string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	a.metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	m := regexp.MustCompile(`(?m)^guestbook_admin_actions_total\{action="` + action + `"\} (\S+)$`).FindStringSubmatch(rec.Body.String())
	if m == nil {
		return "0"
	}
	return m[1]
}

var sourceLink = regexp.MustCompile(`href="/visitor/admin/source/([0-9a-f]{64})"`)

func TestTheAdminSignsInSeesEmailsAndDeletesOneEntryThenEverythingFromOneSource(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			a := newAdminApp(t, driver, nil)
			kept := a.createFrom(t, "203.0.113.1", "이웃", "neighbour@example.com", "좋은 하루")
			one := a.createFrom(t, "203.0.113.2", "스팸", "spam1@example.com", "광고 1")
			a.createFrom(t, "203.0.113.2", "스팸", "spam2@example.com", "광고 2")
			a.createFrom(t, "203.0.113.2", "스팸", "spam3@example.com", "광고 3")
			c := a.browser(t)

			r := a.get(t, c, "/visitor/admin/", "Accept-Language", "ko")
			wantStatus(t, r, http.StatusOK)
			wantContains(t, r, "관리자 로그인", `name="admin_token"`)
			if strings.Contains(r.body, "@example.com") {
				t.Fatal("the sign-in page shows an email")
			}
			a.signIn(t, c)
			r = a.get(t, c, "/visitor/admin/", "Accept-Language", "en")
			wantStatus(t, r, http.StatusOK)
			wantContains(t, r, "neighbour@example.com", "spam1@example.com", "spam3@example.com", "Delete selected")
			sources := map[string]bool{}
			for _, m := range sourceLink.FindAllStringSubmatch(r.body, -1) {
				sources[m[1]] = true
				wantContains(t, r, "<code>"+m[1][:10]+"</code>")
			}
			if len(sources) != 2 {
				t.Fatalf("%d sources on the page, want 2 (two clients)", len(sources))
			}

			r = a.postForm(t, c, "/visitor/admin/entries", url.Values{"id": {idOf(one)}, "action": {"delete"}})
			wantStatus(t, r, http.StatusSeeOther)
			r = a.get(t, c, r.Header.Get("Location"), "Accept-Language", "en")
			wantContains(t, r, "Entries deleted: 1.")
			if strings.Contains(r.body, "spam1@example.com") {
				t.Error("the deleted entry is still listed")
			}
			if _, err := a.db.GetEntry(t.Context(), int64(one["id"].(float64))); err == nil {
				t.Error("the deleted entry is still in the store")
			}

			spam := sourceLink.FindAllStringSubmatch(r.body, -1)[0][1] // the newest entry's: spam 3
			r = a.get(t, c, "/visitor/admin/source/"+spam, "Accept-Language", "en")
			wantStatus(t, r, http.StatusOK)
			wantContains(t, r, "Delete all 2 entries from source "+spam[:10], "spam2@example.com", "spam3@example.com")
			r = a.postForm(t, c, "/visitor/admin/source/"+spam, nil)
			wantStatus(t, r, http.StatusSeeOther)
			if n := a.count(t); n != 1 {
				t.Fatalf("%d entries left, want only the neighbour's", n)
			}
			p, _ := a.db.ListEntries(t.Context(), 0, 10)
			if p.Entries[0].ID != int64(kept["id"].(float64)) {
				t.Errorf("left %+v, want the neighbour's", p.Entries[0])
			}

			for action, want := range map[string]string{"sign_in": "1", "delete": "1", "delete_source": "1"} {
				if got := a.adminMetric(t, action); got != want {
					t.Errorf("guestbook_admin_actions_total{action=%q} = %s, want %s", action, got, want)
				}
			}
			logged := a.log.String()
			for _, want := range []string{"action=delete ", "entries=[" + idOf(one) + "] affected=1", "action=delete_source ", "source=" + spam[:10] + " affected=2"} {
				if !strings.Contains(logged, want) {
					t.Errorf("the log lacks %q:\n%s", want, logged)
				}
			}
			if strings.Contains(logged, adminToken) {
				t.Error("the log holds the admin token")
			}
		})
	}
}

func TestTheAdminSessionCookieIsHttpOnlyStrictExpiringAndSecureOverHTTPS(t *testing.T) {
	a := newAdminApp(t, "sqlite", nil)
	for proto, secure := range map[string]bool{"https": true, "http": false} {
		r := a.postForm(t, a.browser(t), "/visitor/admin/sign-in", url.Values{"admin_token": {adminToken}}, "X-Forwarded-Proto", proto)
		wantStatus(t, r, http.StatusSeeOther)
		raw := r.Header.Get("Set-Cookie")
		for _, part := range []string{"gb_admin=", "Path=/visitor/admin/", "Max-Age=43200", "Expires=", "HttpOnly", "SameSite=Strict"} {
			if !strings.Contains(raw, part) {
				t.Errorf("%s: Set-Cookie %q lacks %s", proto, raw, part)
			}
		}
		if got := strings.Contains(raw, "; Secure"); got != secure {
			t.Errorf("%s: Set-Cookie %q: Secure is %v, want %v", proto, raw, got, secure)
		}
		if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: the answer that sets the session says Cache-Control %q, want no-store", proto, cc)
		}
	}
}

func TestAWrongAdminTokenIsRefusedAndTriesPastTheLimitWaitEvenWithTheRightOne(t *testing.T) {
	a := newAdminApp(t, "sqlite", nil)
	c := a.browser(t)
	for i := range 5 {
		r := a.postForm(t, c, "/visitor/admin/sign-in", url.Values{"admin_token": {fmt.Sprintf("guess-%d", i)}}, "Accept-Language", "en")
		wantStatus(t, r, http.StatusForbidden)
		wantContains(t, r, "That is not the admin token.")
		if len(r.Cookies()) != 0 {
			t.Fatalf("a wrong token got cookies %v", r.Cookies())
		}
	}
	r := a.postForm(t, c, "/visitor/admin/sign-in", url.Values{"admin_token": {adminToken}}, "Accept-Language", "ko")
	wantStatus(t, r, http.StatusTooManyRequests)
	wantContains(t, r, "로그인 시도가 너무 많습니다. 60초 뒤에")
	if r.Header.Get("Retry-After") != "60" || len(r.Cookies()) != 0 {
		t.Fatalf("the sixth try: Retry-After %q, cookies %v; want 60 and none", r.Header.Get("Retry-After"), r.Cookies())
	}
	// Another client is not held back by this one's guesses.
	a.signIn(t, a.browser(t), "X-Forwarded-For", "198.51.100.7")
	a.advance(time.Minute)
	a.signIn(t, c)
	if a.adminMetric(t, "sign_in_refused") != "5" || a.adminMetric(t, "sign_in_limited") != "1" {
		t.Errorf("refused %s and limited %s, want 5 and 1", a.adminMetric(t, "sign_in_refused"), a.adminMetric(t, "sign_in_limited"))
	}
	if strings.Contains(a.log.String(), "guess-") {
		t.Error("the log holds a guessed token")
	}
}

func TestAnExpiredForgedOrForeignAdminSessionIsRefused(t *testing.T) {
	a := newAdminApp(t, "sqlite", nil)
	e := a.createFrom(t, "203.0.113.9", "홍길동", "hong@example.com", "안녕")
	session := a.signIn(t, a.browser(t))
	client := func(target *adminApp, value string) *http.Client {
		c := target.browser(t)
		u, _ := url.Parse(target.URL + "/visitor/admin/")
		c.Jar.SetCookies(u, []*http.Cookie{{Name: "gb_admin", Value: value, Path: "/visitor/admin/"}})
		return c
	}
	accepted := func(what string, target *adminApp, value string) {
		t.Helper()
		if list := target.get(t, client(target, value), "/visitor/admin/"); !strings.Contains(list.body, "/visitor/admin/sign-out") {
			t.Errorf("%s: refused", what)
		}
	}
	with := func(target *adminApp, value string) (list, del response) {
		c := client(target, value)
		list = target.get(t, c, "/visitor/admin/")
		del = target.postForm(t, c, "/visitor/admin/entries", url.Values{"id": {idOf(e)}, "action": {"delete"}})
		return list, del
	}
	refused := func(what string, target *adminApp, value string) {
		t.Helper()
		list, del := with(target, value)
		if list.StatusCode != http.StatusOK || !strings.Contains(list.body, `name="admin_token"`) || strings.Contains(list.body, "hong@example.com") {
			t.Errorf("%s: the list answered %d without the sign-in form", what, list.StatusCode)
		}
		if del.StatusCode != http.StatusForbidden {
			t.Errorf("%s: a delete answered %d, want 403", what, del.StatusCode)
		}
	}
	// Another instance with the same secret and token accepts it: nothing
	// is kept on the server that issued it.
	accepted("another instance with the same secret and token", newAdminApp(t, "sqlite", nil), session.Value)
	parts := strings.Split(session.Value, ".")
	farFuture := "v1.99999999999." + parts[2]
	refused("a changed expiry", a, farFuture)
	refused("a made-up MAC", a, "v1.99999999999.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	refused("garbage", a, "admin")
	foreign := newAdminApp(t, "sqlite", func(o *app.Options) { o.Secret = []byte("another guestbook's secret, also 32+ bytes") })
	refused("a session of another guestbook", a, foreign.signIn(t, foreign.browser(t)).Value)
	rotated := newAdminApp(t, "sqlite", func(o *app.Options) { o.AdminToken = "a new admin token" })
	refused("a session from before the token changed", rotated, session.Value)
	a.advance(12*time.Hour - time.Second)
	accepted("a second before it expires", a, session.Value)
	a.advance(time.Second)
	refused("an expired session", a, session.Value)
	if _, err := a.db.GetEntry(t.Context(), int64(e["id"].(float64))); err != nil {
		t.Errorf("a refused session deleted the entry: %v", err)
	}
}

func TestEveryAdminPageSaysNoStore(t *testing.T) {
	a := newAdminApp(t, "sqlite", nil)
	a.createFrom(t, "203.0.113.9", "홍길동", "hong@example.com", "안녕")
	c := a.browser(t)
	check := func(r response) {
		t.Helper()
		if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s %s (%d): Cache-Control %q, want no-store", r.Request.Method, r.Request.URL.Path, r.StatusCode, cc)
		}
	}
	check(a.get(t, c, "/visitor/admin/"))
	check(a.postForm(t, c, "/visitor/admin/entries", url.Values{"id": {"1"}, "action": {"delete"}}))
	check(a.postForm(t, c, "/visitor/admin/sign-in", url.Values{"admin_token": {"wrong"}}))
	a.signIn(t, c)
	list := a.get(t, c, "/visitor/admin/")
	check(list)
	hash := sourceLink.FindStringSubmatch(list.body)[1]
	check(a.get(t, c, "/visitor/admin/source/"+hash))
	check(a.get(t, c, "/visitor/admin/source/not-a-hash"))
	check(a.postForm(t, c, "/visitor/admin/entries", url.Values{"action": {"delete"}})) // nothing selected: 400
	check(a.postForm(t, c, "/visitor/admin/sign-out", nil))
	// A public page that sets a cookie (the language's) says no-store too.
	check(a.get(t, c, "/visitor/?lang=ko"))
}

func TestAdminActionsFromAnotherSiteAreRefused(t *testing.T) {
	a := newAdminApp(t, "sqlite", nil)
	e := a.createFrom(t, "203.0.113.9", "홍길동", "hong@example.com", "안녕")
	c := a.browser(t)
	a.signIn(t, c)
	r := a.postForm(t, c, "/visitor/admin/entries", url.Values{"id": {idOf(e)}, "action": {"delete"}}, "Sec-Fetch-Site", "cross-site")
	wantStatus(t, r, http.StatusForbidden)
	r = a.postForm(t, c, "/visitor/admin/sign-in", url.Values{"admin_token": {adminToken}}, "Origin", "https://evil.example")
	wantStatus(t, r, http.StatusForbidden)
	if n := a.count(t); n != 1 {
		t.Errorf("%d entries, want the 1 a cross-site request must not delete", n)
	}
}

func TestWithNoAdminTokenThereAreNoAdminPages(t *testing.T) {
	a := newAdminApp(t, "sqlite", func(o *app.Options) { o.AdminToken = "" })
	wantStatus(t, a.get(t, a.browser(t), "/visitor/admin/"), http.StatusNotFound)
	wantStatus(t, a.postForm(t, a.browser(t), "/visitor/admin/sign-in", url.Values{"admin_token": {""}}), http.StatusNotFound)
}

func TestPreModerationHidesANewEntryFromEveryPublicPageUntilTheAdminApprovesIt(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			a := newAdminApp(t, driver, func(o *app.Options) { o.PreModeration, o.ReadYourWrites = true, 5*time.Second })
			author := a.browser(t)
			form := entryForm("검토 대기", "wait@example.com", "", "승인을 기다리는 글")
			form.Set("idempotency_key", "pending-form-key")
			r := a.postForm(t, author, "/visitor/visitor_create/", form)
			wantStatus(t, r, http.StatusSeeOther)
			if loc := r.Header.Get("Location"); loc != "/visitor/visitor_list/?waiting=1" {
				t.Fatalf("the create sent its author to %q, want the list that says the entry waits", loc)
			}
			again := a.postForm(t, author, "/visitor/visitor_create/", form) // a resend: the same answer, nothing stored
			if again.StatusCode != http.StatusSeeOther || again.Header.Get("Location") != r.Header.Get("Location") {
				t.Errorf("the resend answered %d to %q", again.StatusCode, again.Header.Get("Location"))
			}
			r = a.get(t, author, "/visitor/visitor_list/?waiting=1", "Accept-Language", "ko")
			wantContains(t, r, "관리자가 승인하면 목록에 나타납니다")
			api := a.createFrom(t, "203.0.113.5", "API", "api@example.com", "API로 쓴 글")
			if api["pending"] != true {
				t.Errorf("the API's create answered %v, want \"pending\": true", api)
			}
			page, err := a.db.AdminEntries(t.Context(), 0, 10, true)
			if err != nil || len(page.Entries) != 2 {
				t.Fatalf("waiting entries %+v, %v; want the form's and the API's", page.Entries, err)
			}
			ids := []string{fmt.Sprint(page.Entries[0].ID), fmt.Sprint(page.Entries[1].ID)}
			hidden := func(want bool) {
				t.Helper()
				for _, c := range []*http.Client{author, a.browser(t)} { // the author reads the primary (read-your-writes)
					for _, path := range []string{"/visitor/", "/visitor/visitor_list/", "/visitor/api/entries"} {
						r := a.get(t, c, path)
						wantStatus(t, r, http.StatusOK)
						for _, text := range []string{"승인을 기다리는 글", "API로 쓴 글"} {
							// The home page shows no entry at all: it must hide
							// them, and need not show them.
							if shown := strings.Contains(r.body, text); shown && want || !shown && !want && path != "/visitor/" {
								t.Errorf("GET %s: %q shown %v while hidden is %v", path, text, shown, want)
							}
						}
					}
					for _, id := range ids {
						for _, path := range []string{"/visitor/visitor_detail/" + id, "/visitor/api/entries/" + id} {
							status := a.get(t, c, path).StatusCode
							if (status == http.StatusNotFound) != want {
								t.Errorf("GET %s: %d while hidden is %v", path, status, want)
							}
						}
					}
				}
			}
			hidden(true)
			admin := a.browser(t)
			a.signIn(t, admin)
			r = a.get(t, admin, "/visitor/admin/?show=pending", "Accept-Language", "en")
			wantContains(t, r, "Pre-moderation is on", "Waiting", "wait@example.com", "api@example.com")
			r = a.postForm(t, admin, "/visitor/admin/entries", url.Values{"id": ids, "action": {"approve"}})
			wantStatus(t, r, http.StatusSeeOther)
			wantContains(t, a.get(t, admin, r.Header.Get("Location"), "Accept-Language", "en"), "Entries approved: 2.")
			hidden(false)
			if got := a.adminMetric(t, "approve"); got != "1" {
				t.Errorf("approve counted %s, want 1", got)
			}
			if n := a.count(t); n != 2 {
				t.Errorf("%d entries, want 2: the resend stored nothing", n)
			}
		})
	}
}

func TestSigningOutRemovesTheSessionCookieEvenWhenItHasExpired(t *testing.T) {
	a := newAdminApp(t, "sqlite", nil)
	c := a.browser(t)
	a.signIn(t, c)
	a.advance(13 * time.Hour)
	r := a.postForm(t, c, "/visitor/admin/sign-out", nil)
	wantStatus(t, r, http.StatusSeeOther)
	if raw := r.Header.Get("Set-Cookie"); !strings.Contains(raw, "gb_admin=;") || !strings.Contains(raw, "Max-Age=0") {
		t.Errorf("sign-out set %q, want gb_admin removed", raw)
	}
	wantContains(t, a.get(t, c, "/visitor/admin/"), `name="admin_token"`)
}
