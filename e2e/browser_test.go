package e2e

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/store/storetest"
	"github.com/guestbook/guestbook/tier"
)

// chromium finds the browser: GBTEST_CHROMIUM, or chromium on the PATH. It
// skips the test when there is none, unless GBTEST_REQUIRE_BROWSER is set
// (make test sets it), where a skip would hide a missing install.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("GBTEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("GBTEST_REQUIRE_BROWSER") != "" {
		t.Fatal("GBTEST_REQUIRE_BROWSER is set but no chromium was found (Debian: apt-get install chromium)")
	}
	t.Skip("needs Chromium: apt-get install chromium, or run `make test`")
	return ""
}

// personPause is the while a person takes to write before posting: the
// guestbook runs with its defaults, which refuse a form posted sooner than
// app.form_min_age (2s) after it was served, as bots post.
var personPause = chromedp.Sleep(2100 * time.Millisecond)

// startGuestbook runs role all on SQLite on a free loopback port, with the
// defaults of a guestbook on the internet.
func startGuestbook(t *testing.T) string {
	t.Helper()
	return startGuestbookWith(t, func(*config.Config) {})
}

// startGuestbookWith is startGuestbook with the configuration changed.
func startGuestbookWith(t *testing.T, change func(*config.Config)) string {
	t.Helper()
	cfg := config.Default()
	cfg.Database = storetest.Config(t, "sqlite")
	cfg.Web.Listen = "127.0.0.1:0"
	cfg.Instance = config.Instance{ID: "web-1", Zone: "ap-northeast-2a", Subnet: "10.0.1.0/24"}
	change(&cfg)
	p, err := tier.Open(context.Background(), tier.Options{Config: cfg, Role: tier.RoleAll, Version: "e2e", Log: storetest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; p.Close() })
	return "http://" + p.Addr()
}

// browser is a headless Chromium tab that records every URL it requests and
// every script dialog (alert) that opens.
type browser struct {
	ctx      context.Context
	mu       sync.Mutex
	requests []string
	dialogs  []string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("no-proxy-server", true), // the pages' requests go nowhere but to the server under test
		chromedp.WindowSize(1200, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		t.Fatalf("start Chromium: %v", err)
	}
	b := &browser{ctx: ctx}
	requests := chromedp.Events(ctx, network.RequestWillBeSent)
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("enable network events: %v", err)
	}
	go func() {
		for ev, err := range requests {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.requests = append(b.requests, ev.Request.URL)
			b.mu.Unlock()
		}
	}()
	go func() {
		for ev, err := range dialogs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.dialogs = append(b.dialogs, ev.Message)
			b.mu.Unlock()
			chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
		}
	}()
	return b
}

// do runs steps with a time limit, failing the test on error.
func (b *browser) do(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// get runs one action that returns a value.
func get[T any](t *testing.T, b *browser, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (b *browser) text(t *testing.T, selector string) string {
	t.Helper()
	return get(t, b, chromedp.Text(chromedp.CSS(selector)))
}

func (b *browser) path(t *testing.T) string {
	t.Helper()
	u, err := url.Parse(get(t, b, chromedp.Location()))
	if err != nil {
		t.Fatal(err)
	}
	return u.Path
}

// TestAVisitorWritesInKoreanAndSeesTheEntryInTheList is the first thing a new
// user does: open the home page, follow the navigation to the form, write in
// Korean, and find the entry in the list.
func TestAVisitorWritesInKoreanAndSeesTheEntryInTheList(t *testing.T) {
	base := startGuestbook(t)
	b := newBrowser(t)

	b.do(t, chromedp.Navigate(base+"/?lang=ko"))
	if h1 := b.text(t, "h1"); h1 != "3티어 방명록" {
		t.Errorf("home page heading %q", h1)
	}
	if id := b.text(t, ".instance .instance-id"); id != "web-1" {
		t.Errorf("home page shows instance %q, want web-1", id)
	}

	formOpened := time.Now()
	b.do(t,
		chromedp.Click(chromedp.CSS(`nav a[href="/visitor/visitor_create/"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#content`)),
		chromedp.SendKeys(chromedp.CSS(`#name`), "홍길동"),
		chromedp.SendKeys(chromedp.CSS(`#email`), "hong@example.com"),
	)
	// The honeypot is nowhere a person could see it or reach it by Tab:
	// from the email field, Tab goes on to the day.
	b.do(t, chromedp.KeyEvent(kb.Tab))
	if next := get(t, b, chromedp.Evaluate[string](`document.activeElement.id`)); next != "day" {
		t.Errorf("Tab from the email field went to #%s, want #day (past the honeypot)", next)
	}
	if !get(t, b, chromedp.Evaluate[bool](`(() => { const r = document.getElementById("website").getBoundingClientRect();
		return r.right <= 0 || r.bottom <= 0 || r.left >= innerWidth || r.top >= document.documentElement.scrollHeight })()`)) {
		t.Errorf("the honeypot is on the screen")
	}
	b.do(t,
		chromedp.SendKeys(chromedp.CSS(`#content`), "안녕하세요!\n세 티어를 배우고 있어요."),
		personPause,
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`ol.entries`)),
	)
	if p := b.path(t); p != "/visitor/visitor_list/" {
		t.Errorf("after posting the browser is at %s, want the list", p)
	}
	list := b.text(t, "ol.entries")
	for _, want := range []string{"홍길동", "안녕하세요!", "세 티어를 배우고 있어요."} {
		if !strings.Contains(list, want) {
			t.Errorf("the list lacks %q:\n%s", want, list)
		}
	}
	// The form's day is the server's today: the day the form was opened, or
	// the next one if midnight passed since.
	if !strings.Contains(list, formOpened.Format(time.DateOnly)) && !strings.Contains(list, time.Now().Format(time.DateOnly)) {
		t.Errorf("the list lacks today's date (%s):\n%s", formOpened.Format(time.DateOnly), list)
	}

	// The writer may delete it: the link is there, and the confirm deletes.
	b.do(t,
		chromedp.Click(chromedp.CSS(`ol.entries a.danger`)),
		chromedp.WaitVisible(chromedp.CSS(`form button.danger`)),
		chromedp.Click(chromedp.CSS(`form button.danger`)),
		chromedp.WaitVisible(chromedp.CSS(`.empty`)),
	)
	b.assertOnlyLocalRequests(t, base)
}

func TestAnInvalidFormShowsAMessageBesideEachBadField(t *testing.T) {
	base := startGuestbook(t)
	b := newBrowser(t)
	b.do(t,
		chromedp.Navigate(base+"/visitor/visitor_create/?lang=ko"),
		chromedp.SendKeys(chromedp.CSS(`#email`), "not-an-email"),
		personPause,
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`#name-error`)),
	)
	if got := b.text(t, "#name-error"); got != "필수 항목입니다." {
		t.Errorf("name message %q", got)
	}
	if got := b.text(t, "#email-error"); !strings.Contains(got, "이메일") {
		t.Errorf("email message %q", got)
	}
	email := get(t, b, chromedp.Value(chromedp.CSS(`#email`)))
	if email != "not-an-email" {
		t.Errorf("the email field lost what was typed: %q", email)
	}
}

// TestScriptInAnEntryNeverRuns writes markup that would run script if it
// were rendered as HTML, and checks in the browser that nothing ran.
func TestScriptInAnEntryNeverRuns(t *testing.T) {
	base := startGuestbook(t)
	b := newBrowser(t)
	payload := `<img src=x onerror="alert('xss')"><script>alert('xss2')</script>`
	b.do(t,
		chromedp.Navigate(base+"/visitor/visitor_create/"),
		chromedp.SendKeys(chromedp.CSS(`#name`), `<b onmouseover=alert(1)>x`),
		chromedp.SendKeys(chromedp.CSS(`#email`), "x@example.com"),
		chromedp.SendKeys(chromedp.CSS(`#content`), payload),
		personPause,
		chromedp.Click(chromedp.CSS(`form button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`ol.entries`)),
		chromedp.Sleep(300*time.Millisecond), // time for an onerror to fire, were there an img
	)
	if got := b.text(t, "ol.entries .content"); got != payload {
		t.Errorf("the entry shows %q, want the text as typed", got)
	}
	imgs := get(t, b, chromedp.Evaluate[int](`document.querySelectorAll("ol.entries img, ol.entries script, ol.entries b").length`))
	b.mu.Lock()
	defer b.mu.Unlock()
	if imgs != 0 || len(b.dialogs) != 0 {
		t.Errorf("entry markup became elements (%d) or ran script (dialogs %v)", imgs, b.dialogs)
	}
}

func TestPagesFitAPhoneScreen(t *testing.T) {
	base := startGuestbook(t)
	b := newBrowser(t)
	b.do(t, chromedp.EmulateViewport(390, 844))
	for _, path := range []string{"/", "/visitor/", "/visitor/visitor_list/", "/visitor/visitor_create/", "/visitor/topology"} {
		b.do(t, chromedp.Navigate(base+path+"?lang=ko"))
		if get(t, b, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)) {
			t.Errorf("%s is wider than a 390px phone screen", path)
		}
	}
	b.assertOnlyLocalRequests(t, base)
}

// assertOnlyLocalRequests checks that the pages fetched nothing from outside:
// no CDN, no web font, no analytics.
func (b *browser) assertOnlyLocalRequests(t *testing.T, base string) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.requests) == 0 {
		t.Fatal("recorded no requests at all")
	}
	for _, u := range b.requests {
		if !strings.HasPrefix(u, base+"/") && !strings.HasPrefix(u, "data:") {
			t.Errorf("the page fetched %s", u)
		}
	}
}

// The topology page refreshes itself with our own script, which the CSP
// must allow and which must run without an error: after one refresh period
// the page has asked for itself again.
func TestTheTopologyPageRefreshesItselfWithoutAnError(t *testing.T) {
	base := startGuestbook(t)
	b := newBrowser(t)
	console := b.watchConsole(t)
	b.do(t, chromedp.Navigate(base+"/visitor/topology"))
	deadline := time.Now().Add(10 * time.Second)
	for b.countRequests(base+"/visitor/topology") < 2 {
		if time.Now().After(deadline) {
			t.Fatal("the topology page did not refresh itself within 10 s (its period is 5 s)")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !get(t, b, chromedp.Evaluate[bool](`document.querySelector("#topology svg") !== null`)) {
		t.Error("after its refresh the topology page has no picture")
	}
	console.assertNoErrors(t)
	b.assertOnlyLocalRequests(t, base)
}

// countRequests is how many requests the browser made for url.
func (b *browser) countRequests(url string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, u := range b.requests {
		if u == url {
			n++
		}
	}
	return n
}
