package app_test

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/store"
	"github.com/guestbook/guestbook/store/storetest"
	"github.com/guestbook/guestbook/tier/app"
)

// counted is an Observer that counts what it hears.
type counted struct {
	created, validation atomic.Int64

	mu      sync.Mutex
	refused map[string]int // by reason
}

func (c *counted) EntryCreated()      { c.created.Add(1) }
func (c *counted) EntryDeleted()      {}
func (c *counted) ValidationFailed()  { c.validation.Add(1) }
func (c *counted) Shed(string)        {}
func (c *counted) AdminAction(string) {}

func (c *counted) WriteRefused(reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.refused == nil {
		c.refused = map[string]int{}
	}
	c.refused[reason]++
}

// refusals is how many writes were refused for reason.
func (c *counted) refusals(reason string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.refused[reason]
}

// holding is the store with one seam: the first keyed create of key waits,
// once it has reached the store, until release is closed. It lets a test hold
// a create in flight.
type holding struct {
	app.Entries
	key     string
	entered chan struct{} // closed when the held create reaches the store
	release chan struct{}
	once    sync.Once
	let     sync.Once
}

// releaseHeld lets the held create go on; it may be called more than once.
func (h *holding) releaseHeld() { h.let.Do(func() { close(h.release) }) }

// heldIn is the holding store of a, released when the test ends at the latest
// (a test that fails early must not leave a request held).
func heldIn(t *testing.T, a *keyedApp) *holding {
	t.Helper()
	h := a.entries.(*holding)
	t.Cleanup(h.releaseHeld)
	return h
}

func (h *holding) CreateEntryOnce(ctx context.Context, k store.Keyed, secret string) (store.Entry, bool, error) {
	if k.Key == h.key {
		held := false
		h.once.Do(func() { held = true })
		if held {
			close(h.entered)
			<-h.release
		}
	}
	return h.Entries.CreateEntryOnce(ctx, k, secret)
}

func hold(key string) func(app.Entries) app.Entries {
	return func(e app.Entries) app.Entries {
		return &holding{Entries: e, key: key, entered: make(chan struct{}), release: make(chan struct{})}
	}
}

// keyedApp is the app tier on a real listener over a real store, with the
// store possibly wrapped and an Observer to count entries.
type keyedApp struct {
	*testApp
	entries app.Entries
	seen    *counted
}

func newKeyedApp(t *testing.T, driver string, wrap func(app.Entries) app.Entries) *keyedApp {
	t.Helper()
	db, cfg := storetest.OpenAt(t, driver, testNow)
	return newKeyedAppOver(t, db, cfg, wrap)
}

func newKeyedAppOver(t *testing.T, db *store.DB, cfg config.Database, wrap func(app.Entries) app.Entries) *keyedApp {
	t.Helper()
	var entries app.Entries = db
	if wrap != nil {
		entries = wrap(db)
	}
	seen := &counted{}
	srv := httptest.NewServer(app.New(entries, app.Options{
		Log: storetest.Logger(t), Now: testNow, Observer: seen, ReadYourWrites: time.Second,
	}))
	t.Cleanup(srv.Close)
	return &keyedApp{testApp: &testApp{Server: srv, db: db, cfg: cfg}, entries: entries, seen: seen}
}

// send is do for other goroutines: it returns the error instead of failing.
func send(c *http.Client, req *http.Request) (response, error) {
	resp, err := c.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{resp, string(b)}, err
}

func (a *keyedApp) formRequest(t testing.TB, form url.Values, cookie string) *http.Request {
	t.Helper()
	if _, set := form["form_token"]; !set {
		form = maps.Clone(form)
		form.Set("form_token", a.formToken(t, http.DefaultClient))
	}
	req, err := http.NewRequest("POST", a.URL+"/visitor/visitor_create/", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "gb_author", Value: cookie})
	}
	return req
}

func (a *keyedApp) apiRequest(t testing.TB, body, key string) *http.Request {
	t.Helper()
	req, err := http.NewRequest("POST", a.URL+"/visitor/api/entries", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	return req
}

var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func authorCookieOf(r response) string {
	for _, c := range r.Cookies() {
		if c.Name == "gb_author" {
			return c.Value
		}
	}
	return ""
}

var keyInput = regexp.MustCompile(`<input type="hidden" name="idempotency_key" value="([^"]*)">`)

func formKeyOf(t *testing.T, r response) string {
	t.Helper()
	m := keyInput.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("%s %s: the form has no idempotency_key field:\n%s", r.Request.Method, r.Request.URL.Path, r.body)
	}
	return m[1]
}

// onlyEntry is the one entry in the store, read from the primary.
func (a *keyedApp) onlyEntry(t *testing.T) store.Entry {
	t.Helper()
	p, err := a.db.ListEntries(store.ReadPrimary(t.Context()), 0, store.MaxPage)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Entries) != 1 {
		t.Fatalf("%d entries stored, want exactly 1: %+v", len(p.Entries), p.Entries)
	}
	return p.Entries[0]
}

// deleteWithCookie deletes entry id through the form as the browser holding
// cookie, and says whether the entry is gone.
func (a *keyedApp) deleteWithCookie(t *testing.T, id int64, cookie string) bool {
	t.Helper()
	r := a.postForm(t, noRedirect, fmt.Sprintf("/visitor/visitor_delete/%d", id), url.Values{}, "Cookie", "gb_author="+cookie)
	if r.StatusCode != http.StatusSeeOther {
		t.Logf("delete with the author cookie: %d\n%s", r.StatusCode, r.body)
		return false
	}
	_, err := a.db.GetEntry(store.ReadPrimary(t.Context()), id)
	return err != nil
}

func TestTheCreateFormCarriesAFreshRandomIdempotencyKey(t *testing.T) {
	a := newTestApp(t)
	first := formKeyOf(t, a.get(t, a.browser(t), "/visitor/visitor_create/"))
	second := formKeyOf(t, a.get(t, a.browser(t), "/visitor/visitor_create/"))
	if !store.ValidKey(first) || len(first) < 22 { // 128 bits in URL-safe base64
		t.Errorf("key %q is not a valid key of 128 random bits", first)
	}
	if first == second {
		t.Errorf("two renderings of the form carry the same key %q", first)
	}
}

func TestTheFormKeepsItsKeyAfterAValidationErrorAndTheFixedFormGoesIn(t *testing.T) {
	a := newKeyedApp(t, "sqlite", nil)
	key := formKeyOf(t, a.get(t, a.browser(t), "/visitor/visitor_create/"))
	form := entryForm("김철수", "not-an-email", "", "내용")
	form.Set("idempotency_key", key)
	r := do(t, noRedirect, a.formRequest(t, form, ""))
	wantStatus(t, r, http.StatusUnprocessableEntity)
	if got := formKeyOf(t, r); got != key {
		t.Errorf("the form shown again carries key %q, want the same %q (nothing was stored)", got, key)
	}
	form.Set("email", "kim@example.com")
	wantStatus(t, do(t, noRedirect, a.formRequest(t, form, "")), http.StatusSeeOther)
	a.onlyEntry(t)
	if n := a.seen.validation.Load(); n != 1 {
		t.Errorf("validation failures counted %d, want 1", n)
	}
}

func TestAFormPostedTwiceOneAfterTheOtherStoresOneEntryThatItsCookieDeletes(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			a := newKeyedApp(t, driver, nil)
			form := entryForm("김철수", "kim@example.com", "", "두 번 눌렀다")
			form.Set("idempotency_key", "double-click-1")
			// The web tier resending to another instance: no cookie either time.
			first := do(t, noRedirect, a.formRequest(t, form, ""))
			second := do(t, noRedirect, a.formRequest(t, form, ""))
			// The browser sending it again once it holds the first cookie.
			third := do(t, noRedirect, a.formRequest(t, form, authorCookieOf(first)))
			for _, r := range []response{first, second, third} {
				wantStatus(t, r, http.StatusSeeOther)
				if loc := r.Header.Get("Location"); loc != "/visitor/visitor_list/" {
					t.Errorf("Location %q, want the list", loc)
				}
			}
			cookie := authorCookieOf(first)
			if cookie == "" || authorCookieOf(second) != cookie {
				t.Errorf("author cookies %q and %q: a resend without a cookie must get the first's", cookie, authorCookieOf(second))
			}
			if authorCookieOf(third) != "" {
				t.Error("a browser that has its author cookie was given another")
			}
			e := a.onlyEntry(t)
			if n := a.seen.created.Load(); n != 1 {
				t.Errorf("entries created counted %d, want 1", n)
			}
			if !a.deleteWithCookie(t, e.ID, cookie) {
				t.Error("the author cookie of the answers does not delete the entry")
			}
		})
	}
}

func TestAFormPostedTwiceAtOnceStoresOneEntryAndBothAnswersGetTheList(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			a := newKeyedApp(t, driver, nil)
			form := entryForm("김철수", "kim@example.com", "", "동시에 눌렀다")
			form.Set("idempotency_key", "double-click-2")
			const n = 8
			var (
				wg    sync.WaitGroup
				start = make(chan struct{})
				out   [n]response
				errs  [n]error
			)
			for i := range n {
				req := a.formRequest(t, form, "")
				wg.Go(func() { <-start; out[i], errs[i] = send(noRedirect, req) })
			}
			close(start)
			wg.Wait()
			cookie := ""
			for i := range n {
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
				wantStatus(t, out[i], http.StatusSeeOther)
				if c := authorCookieOf(out[i]); c == "" || cookie != "" && c != cookie {
					t.Errorf("answer %d has author cookie %q, others %q", i, c, cookie)
				} else {
					cookie = c
				}
			}
			e := a.onlyEntry(t)
			if got := a.seen.created.Load(); got != 1 {
				t.Errorf("entries created counted %d, want 1", got)
			}
			if !a.deleteWithCookie(t, e.ID, cookie) {
				t.Error("the author cookie of the answers does not delete the entry")
			}
		})
	}
}

func TestASecondFormPostWaitsForTheFirstInFlightAndGetsItsAnswer(t *testing.T) {
	a := newKeyedApp(t, "sqlite", hold("held-form"))
	h := heldIn(t, a)
	form := entryForm("김철수", "kim@example.com", "", "기다림")
	form.Set("idempotency_key", "held-form")
	answers := make(chan response, 2)
	post := func(req *http.Request) { r, _ := send(noRedirect, req); answers <- r }
	go post(a.formRequest(t, form, ""))
	<-h.entered
	go post(a.formRequest(t, form, ""))
	select {
	case r := <-answers:
		t.Fatalf("a post answered %d while the first create was held:\n%s", r.StatusCode, r.body)
	case <-time.After(200 * time.Millisecond):
	}
	h.releaseHeld()
	for range 2 {
		r := <-answers
		if r.Response == nil || r.StatusCode != http.StatusSeeOther || authorCookieOf(r) == "" {
			t.Errorf("answer %+v, want a 303 with an author cookie", r)
		}
	}
	a.onlyEntry(t)
}

func TestAFormKeyUsedWithOtherTextShowsTheFormAgainWithANewKeyAnd422(t *testing.T) {
	a := newKeyedApp(t, "sqlite", nil)
	form := entryForm("김철수", "kim@example.com", "", "첫 글")
	form.Set("idempotency_key", "back-button")
	wantStatus(t, do(t, noRedirect, a.formRequest(t, form, "")), http.StatusSeeOther)
	form.Set("content", "뒤로 가서 고친 글")
	r := do(t, noRedirect, a.formRequest(t, form, ""))
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r, "뒤로 가서 고친 글", "already posted")
	next := formKeyOf(t, r)
	if next == "back-button" || !store.ValidKey(next) {
		t.Errorf("the form shown again carries key %q, want a new one", next)
	}
	a.onlyEntry(t)
	// Posted again with its new key, the text is a new entry.
	form.Set("idempotency_key", next)
	wantStatus(t, do(t, noRedirect, a.formRequest(t, form, "")), http.StatusSeeOther)
	if n := a.count(t); n != 2 {
		t.Errorf("%d entries, want 2", n)
	}
	if n := a.seen.validation.Load(); n != 0 {
		t.Errorf("a reused key counted as %d validation failures: no field broke a rule", n)
	}
}

func TestABadFormKeyIs400NamingTheField(t *testing.T) {
	a := newKeyedApp(t, "sqlite", nil)
	for _, key := range []string{"", "has space", "dot.ted", strings.Repeat("k", 65), "키"} {
		form := entryForm("김철수", "kim@example.com", "", "내용")
		form.Set("idempotency_key", key)
		r := do(t, noRedirect, a.formRequest(t, form, ""))
		wantStatus(t, r, http.StatusBadRequest)
		wantContains(t, r, "idempotency_key")
	}
	form := entryForm("김철수", "kim@example.com", "", "내용")
	form["idempotency_key"] = []string{"one", "two"}
	wantStatus(t, do(t, noRedirect, a.formRequest(t, form, "")), http.StatusBadRequest)
	if n := a.count(t); n != 0 {
		t.Errorf("%d entries stored from bad keys", n)
	}
}
