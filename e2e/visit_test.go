package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"
)

// testBrowserVisit is the original's proof, in Chromium against a web
// instance of the topology: open the home page, follow the navigation to
// the guestbook, write in Korean, find the entry in the list and in the
// database, open it, delete it. Any console error fails the test, and so
// does any request to a host other than the web instance's. Each page is
// saved as a screenshot.
func testBrowserVisit(t *testing.T, tp *topology, l *ledger) {
	base := "http://" + tp.webs[0].addr
	b := newBrowser(t)
	console := b.watchConsole(t)
	shots := artifacts(t)
	marker := l.next()
	text := "안녕하세요! 세 티어를 건너 왔어요."

	b.do(t, chromedp.Navigate(base+"/?lang=ko"))
	if h1 := b.text(t, "h1"); h1 != "3티어 방명록" {
		t.Errorf("home page heading %q", h1)
	}
	if id := b.text(t, ".instance .instance-id"); id != "web-1" {
		t.Errorf("the home page says it was served by %q, want web-1", id)
	}
	b.screenshot(t, shots, "1-home")

	b.do(t, chromedp.Click(chromedp.CSS(`nav a[href="/visitor/"]`)), chromedp.WaitVisible(chromedp.CSS(`.instance`)))
	if p := b.path(t); p != "/visitor/" {
		t.Errorf("the guestbook link led to %s", p)
	}
	if id := b.text(t, ".instance .instance-id"); !strings.HasPrefix(id, "app-") {
		t.Errorf("the guestbook's home says it was served by %q, want an app instance", id)
	}
	b.screenshot(t, shots, "2-guestbook")

	b.do(t,
		chromedp.Click(chromedp.CSS(`nav a[href="/visitor/visitor_create/"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#content`)),
		chromedp.SendKeys(chromedp.CSS(`#name`), "홍길동"),
		chromedp.SendKeys(chromedp.CSS(`#email`), "hong@example.com"),
		chromedp.SendKeys(chromedp.CSS(`#content`), marker+"\n"+text),
	)
	b.screenshot(t, shots, "3-write")
	b.do(t, chromedp.Click(chromedp.CSS(`form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(`ol.entries`)))
	if p := b.path(t); p != "/visitor/visitor_list/" {
		t.Fatalf("after posting the browser is at %s, want the list", p)
	}
	l.record(marker, true)
	entry := get(t, b, chromedp.Evaluate[string](fmt.Sprintf(
		`[...document.querySelectorAll("ol.entries li")].find(li => li.textContent.includes(%q))?.id ?? ""`, marker)))
	if entry == "" {
		t.Fatalf("the list does not show the new entry:\n%s", b.text(t, "ol.entries"))
	}
	b.screenshot(t, shots, "4-list")
	if n := countMarkers(t, tp.primary, l.run)[marker]; n != 1 {
		t.Errorf("the database holds the entry %d times, want once", n)
	}

	b.do(t, chromedp.Click(chromedp.CSS("#"+entry+" a.name")), chromedp.WaitVisible(chromedp.CSS(`article.detail`)))
	if got := b.text(t, "article.detail .content"); got != marker+"\n"+text {
		t.Errorf("the detail page shows %q", got)
	}
	if got := b.text(t, "article.detail h1"); got != "홍길동" {
		t.Errorf("the detail page is headed %q", got)
	}
	b.screenshot(t, shots, "5-detail")

	b.do(t, chromedp.Click(chromedp.CSS(`article.detail a.danger`)), chromedp.WaitVisible(chromedp.CSS(`form button.danger`)))
	b.screenshot(t, shots, "6-delete")
	b.do(t, chromedp.Click(chromedp.CSS(`form button.danger`)), chromedp.WaitVisible(chromedp.CSS(`.heading`)))
	if p := b.path(t); p != "/visitor/visitor_list/" {
		t.Errorf("after deleting the browser is at %s, want the list", p)
	}
	if get(t, b, chromedp.Evaluate[bool](fmt.Sprintf(`document.getElementById(%q) !== null`, entry))) {
		t.Errorf("the list still shows the deleted entry")
	}
	l.deleted(marker)
	b.screenshot(t, shots, "7-deleted")

	b.assertOnlyLocalRequests(t, base)
	console.assertNoErrors(t)
}

// consoleWatch collects what pages write to the browser's console.
type consoleWatch struct {
	mu     sync.Mutex
	errors []string
}

// watchConsole records console errors, uncaught exceptions and error
// entries of the browser's log (a resource that failed to load, a blocked
// script) from now on.
func (b *browser) watchConsole(t *testing.T) *consoleWatch {
	t.Helper()
	w := &consoleWatch{}
	messages := chromedp.Console(b.ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				w.mu.Lock()
				w.errors = append(w.errors, fmt.Sprintf("%s (%s)", m, m.URL))
				w.mu.Unlock()
			}
		}
	}()
	return w
}

func (w *consoleWatch) assertNoErrors(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range w.errors {
		t.Errorf("console: %s", e)
	}
}

// artifacts is the directory for this test's screenshots: under
// GBTEST_ARTIFACTS when it is set (CI keeps it), else the test's artifact
// directory (kept with go test -artifacts).
func artifacts(t *testing.T) string {
	t.Helper()
	dir := t.ArtifactDir()
	if root := os.Getenv("GBTEST_ARTIFACTS"); root != "" {
		dir = filepath.Join(root, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name()))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("screenshots in %s", dir)
	return dir
}

// screenshot saves the whole page as dir/name.png.
func (b *browser) screenshot(t *testing.T, dir, name string) {
	t.Helper()
	png := get(t, b, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
