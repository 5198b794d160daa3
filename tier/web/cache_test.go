package web_test

import (
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/internal/httpcheck"
	"github.com/guestbook/guestbook/tier"
	"github.com/guestbook/guestbook/tier/hops"
	"github.com/guestbook/guestbook/tier/page"
	"github.com/guestbook/guestbook/tier/web"
)

// countedApp is a real app role (tier.Build over its own SQLite file, with
// app.cache_ttl's default of 1s) on a real listener, counting at its door
// the requests that reach it, each held delay first so that concurrent
// misses overlap.
type countedApp struct {
	*httptest.Server
	delay atomic.Int64 // nanoseconds
	mu    sync.Mutex
	seen  map[string]int // "GET /visitor/visitor_list/?x" -> requests
	// keyedBy, when set, replaces the parameters its answers name
	// (hops.HeaderCacheKey), as an upgraded app tier would.
	keyedBy atomic.Pointer[string]
}

func newCountedApp(t *testing.T, id string) *countedApp {
	t.Helper()
	cfg := config.Default()
	cfg.Instance = config.Instance{ID: id}
	cfg.Database.Primary = filepath.Join(t.TempDir(), "guestbook.db")
	cfg.App.WriteLimit, cfg.App.FormMinAge, cfg.App.Secret = 0, 0, testSecret
	role, err := tier.Build(t.Context(), tier.Options{Config: cfg, Role: tier.RoleApp, Version: "test", Log: httpcheck.Logger(t)})
	if err != nil {
		t.Fatalf("build the app role: %v", err)
	}
	t.Cleanup(func() { role.Close() })
	a := &countedApp{seen: map[string]int{}}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			a.mu.Lock()
			a.seen[r.Method+" "+r.URL.RequestURI()]++
			a.mu.Unlock()
			time.Sleep(time.Duration(a.delay.Load()))
		}
		if k := a.keyedBy.Load(); k != nil {
			w = &rekeyed{ResponseWriter: w, keyedBy: *k}
		}
		role.Handler.ServeHTTP(w, r)
	}))
	t.Cleanup(a.Close)
	return a
}

// rekeyed names keyedBy in place of what the app tier's answer names.
type rekeyed struct {
	http.ResponseWriter
	keyedBy string
	wrote   bool
}

func (w *rekeyed) WriteHeader(code int) {
	if !w.wrote && w.ResponseWriter.Header().Get(hops.HeaderCacheKey) != "" {
		w.ResponseWriter.Header().Set(hops.HeaderCacheKey, w.keyedBy)
	}
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *rekeyed) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

func (a *countedApp) count(methodAndURI string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.seen[methodAndURI]
}

// newCachingFront is the web role with its cache on (the defaults of
// web.cache_size and the stale windows unless changed) in front of apps.
func newCachingFront(t *testing.T, change func(*web.CacheOptions), apps ...*countedApp) *front {
	t.Helper()
	return newCachingFrontWith(t, func(o *web.Options) {
		if change != nil {
			change(o.Cache)
		}
	}, apps...)
}

// newCachingFrontWith is newCachingFront with the web tier's options
// changed (its limits, its cache's).
func newCachingFrontWith(t *testing.T, change func(*web.Options), apps ...*countedApp) *front {
	t.Helper()
	log := httpcheck.Logger(t)
	var urls []string
	for _, a := range apps {
		urls = append(urls, a.URL)
	}
	pool, err := web.NewPool(urls, time.Second, log)
	if err != nil {
		t.Fatalf("NewPool: %v", err)
	}
	opts := web.Options{Instance: config.Instance{ID: "web-1"}, Version: "test", Log: log, Upstreams: pool,
		Cache: &web.CacheOptions{Size: 8 << 20, StaleWhileRevalidate: 5 * time.Second, StaleIfError: 10 * time.Minute}}
	if change != nil {
		change(&opts)
	}
	s, err := web.New(opts)
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	f := &front{Server: srv, pool: pool, web: s}
	f.checkAll(t)
	return f
}

func cacheStatus(resp *http.Response) string { return resp.Header.Get("Cache-Status") }

func wantCacheStatus(t *testing.T, resp *http.Response, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(cacheStatus(resp), p) {
			t.Errorf("%s %s: Cache-Status %q, want %q in it", resp.Request.Method, resp.Request.URL, cacheStatus(resp), p)
		}
	}
}

func TestOneHundredConcurrentMissesReachTheAppAsOneRequest(t *testing.T) {
	app := newCountedApp(t, "app-1")
	f := newCachingFront(t, nil, app)
	app.delay.Store(int64(300 * time.Millisecond))
	const n = 100
	statuses := make([]string, n)
	codes := make([]int, n)
	var wg sync.WaitGroup
	c := client(t)
	for i := range n {
		wg.Go(func() {
			req := newRequest(t, "GET", f.URL+"/visitor/visitor_list/", "")
			resp, err := c.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			codes[i], statuses[i] = resp.StatusCode, cacheStatus(resp)
		})
	}
	wg.Wait()
	if got := app.count("GET /visitor/visitor_list/"); got != 1 {
		t.Errorf("%d concurrent misses reached the app as %d requests, want 1", n, got)
	}
	collapsed := 0
	for i := range n {
		if codes[i] != http.StatusOK {
			t.Errorf("request %d: status %d", i, codes[i])
		}
		if strings.Contains(statuses[i], "collapsed") {
			collapsed++
		}
	}
	if collapsed == 0 || collapsed > n-1 {
		t.Errorf("%d of %d answers say collapsed, want all but the one that went upstream (%v)", collapsed, n, statuses[:3])
	}
}

func TestARepeatedPageComesFromTheCacheWithItsAgeUntilItIsStale(t *testing.T) {
	app := newCountedApp(t, "app-1")
	f := newCachingFront(t, func(o *web.CacheOptions) { o.StaleWhileRevalidate = 0 }, app)
	first, _ := get(t, f.URL+"/visitor/visitor_list/", nil)
	wantCacheStatus(t, first, "web-1; fwd=miss; fwd-status=200; stored")
	if first.Header.Get("Age") != "0" {
		t.Errorf("a page just fetched has Age %q, want 0", first.Header.Get("Age"))
	}
	again, _ := get(t, f.URL+"/visitor/visitor_list/", nil)
	wantCacheStatus(t, again, "web-1; hit; ttl=")
	if again.Header.Get("Age") != "0" || again.Header.Get("Guestbook-App") == "" {
		t.Errorf("a hit: Age %q, Guestbook-App %q", again.Header.Get("Age"), again.Header.Get("Guestbook-App"))
	}
	if got := app.count("GET /visitor/visitor_list/"); got != 1 {
		t.Errorf("the app saw the page %d times, want 1", got)
	}
	tag := again.Header.Get("ETag")
	notModified, _ := get(t, f.URL+"/visitor/visitor_list/", map[string]string{"If-None-Match": tag})
	if notModified.StatusCode != http.StatusNotModified || tag == "" {
		t.Errorf("a reload with the ETag %q: %d, want 304 from the cache", tag, notModified.StatusCode)
	}
	time.Sleep(1100 * time.Millisecond) // app.cache_ttl
	later, _ := get(t, f.URL+"/visitor/visitor_list/", nil)
	wantCacheStatus(t, later, "fwd=miss", "stored")
	if got := app.count("GET /visitor/visitor_list/"); got != 2 {
		t.Errorf("past its s-maxage the app saw the page %d times, want 2", got)
	}
}

func TestAPageJustStaleIsServedWhileOneRequestRefreshesIt(t *testing.T) {
	app := newCountedApp(t, "app-1")
	f := newCachingFront(t, nil, app)
	get(t, f.URL+"/visitor/visitor_list/", nil)
	time.Sleep(1100 * time.Millisecond)
	app.delay.Store(int64(600 * time.Millisecond)) // a slow refresh (under web.try_timeout), so that waiting for it would show
	start := time.Now()
	for range 5 {
		resp, _ := get(t, f.URL+"/visitor/visitor_list/", nil)
		wantCacheStatus(t, resp, "fwd=stale", "detail=revalidating")
	}
	if took := time.Since(start); took > 450*time.Millisecond {
		t.Errorf("stale answers took %s: they waited for the refresh", took)
	}
	time.Sleep(900 * time.Millisecond)
	if got := app.count("GET /visitor/visitor_list/"); got != 2 {
		t.Errorf("the app saw the page %d times, want 2: one refresh for five stale answers", got)
	}
	resp, _ := get(t, f.URL+"/visitor/visitor_list/", nil)
	wantCacheStatus(t, resp, "hit")
}

func TestKoreanAndEnglishPagesNeverMix(t *testing.T) {
	app := newCountedApp(t, "app-1")
	f := newCachingFront(t, nil, app)
	for range 2 {
		for _, tt := range []struct {
			header map[string]string
			lang   string
		}{
			{map[string]string{"Accept-Language": "ko-KR,ko;q=0.9"}, "ko"},
			{map[string]string{"Accept-Language": "en-US,en;q=0.9"}, "en"},
			{map[string]string{"Accept-Language": "ko", "Cookie": "gb_lang=en"}, "en"},
			{map[string]string{"Accept-Language": "en", "Cookie": "gb_lang=ko"}, "ko"},
			{nil, "en"},
		} {
			resp, body := get(t, f.URL+"/visitor/visitor_list/", tt.header)
			if !strings.Contains(body, `<html lang="`+tt.lang+`">`) || resp.Header.Get("Content-Language") != tt.lang {
				t.Errorf("%v: a page in %q (Content-Language %q), want %s; %s", tt.header, body[:min(len(body), 80)],
					resp.Header.Get("Content-Language"), tt.lang, cacheStatus(resp))
			}
		}
	}
	if got := app.count("GET /visitor/visitor_list/"); got != 2 {
		t.Errorf("the app rendered the list %d times, want once per language", got)
	}
}

func TestAPageWithAFormTokenOrACookieNeverComesOutOfTheCache(t *testing.T) {
	app := newCountedApp(t, "app-1")
	f := newCachingFront(t, nil, app)
	get(t, f.URL+"/visitor/visitor_list/", nil) // kept for others
	for _, tt := range []struct {
		name, uri string
		header    map[string]string
	}{
		{"the create form", "/visitor/visitor_create/", nil},
		{"the admin's sign-in page", "/visitor/admin/", nil},
		{"the admin's page to its session", "/visitor/admin/", map[string]string{"Cookie": "gb_admin=session"}},
		{"a page that sets the language cookie", "/visitor/visitor_list/?lang=ko", nil},
		{"the list to an author", "/visitor/visitor_list/", map[string]string{"Cookie": "gb_author=secret"}},
		{"the list in a read-your-writes window", "/visitor/visitor_list/", map[string]string{"Cookie": "gb_ryw=99999999999999"}},
		{"the list to the admin's session", "/visitor/visitor_list/", map[string]string{"Cookie": "gb_admin=session"}},
		{"the API to a bearer", "/visitor/api/entries", map[string]string{"Authorization": "Bearer x"}},
	} {
		before := app.count("GET " + tt.uri)
		var tokens []string
		for range 3 {
			resp, body := get(t, f.URL+tt.uri, tt.header)
			if strings.Contains(cacheStatus(resp), "hit") || strings.Contains(cacheStatus(resp), "stored") {
				t.Errorf("%s: Cache-Status %q", tt.name, cacheStatus(resp))
			}
			tokens = append(tokens, formTokenIn(body))
		}
		if got := app.count("GET "+tt.uri) - before; got != 3 {
			t.Errorf("%s: %d of 3 requests reached the app", tt.name, got)
		}
		if tt.uri == "/visitor/visitor_create/" && (tokens[0] == "" || tokens[0] == tokens[1]) {
			t.Errorf("the create form's tokens %q: want a fresh one each time", tokens)
		}
	}
}

// formTokenIn is the form_token in a page, or "".
func formTokenIn(body string) string {
	_, rest, ok := strings.Cut(body, `name="form_token" value="`)
	if !ok {
		return ""
	}
	token, _, _ := strings.Cut(rest, `"`)
	return token
}

func TestTheAuthorSeesTheirEntryAtOnceAndOthersWithinTheTTL(t *testing.T) {
	app := newCountedApp(t, "app-1")
	f := newCachingFront(t, nil, app)
	other := func() string { _, body := get(t, f.URL+"/visitor/visitor_list/", nil); return body }
	other() // kept
	author := browserClient(t)
	form := url.Values{"name": {"작성자"}, "email": {"a@example.com"}, "content": {"새 글 하나"},
		"form_token": {httpcheck.FormToken(t, author, f.URL)}}
	resp := postForm(t, author, f.URL+"/visitor/visitor_create/", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	list, body := send(t, author, "GET", f.URL+"/visitor/visitor_list/", nil)
	if !strings.Contains(body, "새 글 하나") {
		t.Errorf("the author's list lacks the new entry (%s)", cacheStatus(list))
	}
	deadline := time.Now().Add(1500 * time.Millisecond) // app.cache_ttl, and a replica-less store
	for !strings.Contains(other(), "새 글 하나") {
		if time.Now().After(deadline) {
			t.Fatal("another reader's list still lacks the new entry past app.cache_ttl")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestWithEveryAppStoppedASeenPageIsServedStaleAndTheRestFailAsToday(t *testing.T) {
	app := newCountedApp(t, "app-1")
	f := newCachingFront(t, func(o *web.CacheOptions) { o.StaleWhileRevalidate = 0 }, app)
	seen, seenBody := get(t, f.URL+"/visitor/visitor_list/", map[string]string{"Accept-Language": "ko"})
	wantCacheStatus(t, seen, "stored")
	app.Close()
	time.Sleep(1100 * time.Millisecond) // past app.cache_ttl
	resp, body := get(t, f.URL+"/visitor/visitor_list/", map[string]string{"Accept-Language": "ko"})
	if resp.StatusCode != http.StatusOK || footerNote.ReplaceAllString(body, page.CacheMarker) != seenBody || !strings.Contains(body, "캐시에서") {
		t.Errorf("a page seen before, with the app gone: %d, want 200 with the page kept", resp.StatusCode)
	}
	wantCacheStatus(t, resp, "web-1; fwd=stale; fwd-status=502", "detail=stale-if-error")
	f.checkAll(t) // the pool finds it down: 502 at once from now on
	if ready, _ := get(t, f.URL+"/readyz", nil); ready.StatusCode != http.StatusOK {
		t.Errorf("/readyz with no upstream but pages to serve stale: %d, want 200, or a balancer takes the instance out", ready.StatusCode)
	}
	resp, _ = get(t, f.URL+"/visitor/visitor_list/", map[string]string{"Accept-Language": "ko"})
	wantCacheStatus(t, resp, "fwd=stale")
	if resp.StatusCode != http.StatusOK {
		t.Errorf("with no upstream in the rotation: %d, want the stale page", resp.StatusCode)
	}
	never, _ := get(t, f.URL+"/visitor/visitor_list/", map[string]string{"Accept-Language": "en"})
	if never.StatusCode != http.StatusBadGateway {
		t.Errorf("a page never seen: %d, want 502", never.StatusCode)
	}
	for _, w := range []struct{ method, uri, body string }{
		{"POST", "/visitor/visitor_create/", form("글")},
		{"POST", "/visitor/api/entries", `{"name":"n","email":"e@example.com","content":"c"}`},
		{"DELETE", "/visitor/api/entries/1", ""},
	} {
		r := roundTrip(t, client(t), newRequest(t, w.method, f.URL+w.uri, w.body))
		if r.StatusCode != http.StatusBadGateway && r.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("%s %s with the app gone: %d, want 502 or 503", w.method, w.uri, r.StatusCode)
		}
	}
}

// browserClient keeps its cookies, as a browser does, and does not follow
// redirects.
func browserClient(t *testing.T) *http.Client {
	t.Helper()
	c := client(t)
	c.Jar, _ = cookiejar.New(nil)
	return c
}

func postForm(t *testing.T, c *http.Client, url string, form url.Values) *http.Response {
	t.Helper()
	req := newRequest(t, "POST", url, form.Encode(), "Content-Type", "application/x-www-form-urlencoded")
	return roundTrip(t, c, req).Response
}

func TestAPageFromTheCacheSaysSoInItsFooterAndTheKeptBytesStayTheSame(t *testing.T) {
	app := newCountedApp(t, "app-7")
	f := newCachingFront(t, nil, app)
	ko := map[string]string{"Accept-Language": "ko"}
	_, firstBody := get(t, f.URL+"/visitor/visitor_list/", ko)
	if !strings.Contains(firstBody, page.CacheMarker) || strings.Contains(firstBody, "캐시에서") {
		t.Errorf("a page straight from the app has no empty marker, or a note:\n%s", footerOf(firstBody))
	}
	for _, lang := range []map[string]string{ko, ko} {
		resp, body := get(t, f.URL+"/visitor/visitor_list/", lang)
		wantCacheStatus(t, resp, "hit")
		if !strings.Contains(body, `<span class="cached">web-1의 캐시에서 보냄 · 0.`) || !strings.Contains(body, "초 전 app-7 → primary에서 만듦</span>") {
			t.Errorf("a page from the cache does not say so in its footer:\n%s", footerOf(body))
		}
		if n, _ := strconv.Atoi(resp.Header.Get("Content-Length")); n != len(body) {
			t.Errorf("Content-Length %d for a body of %d", n, len(body))
		}
		if strings.Replace(body, footerNote.FindString(body), page.CacheMarker, 1) != firstBody {
			t.Errorf("the kept page differs from the one the app made beyond its note")
		}
	}
	_, en := get(t, f.URL+"/visitor/visitor_detail/1", map[string]string{"Accept-Language": "en"})
	if strings.Contains(en, "served by") {
		t.Error("a 404 from the app says it came from the cache")
	}
}

var footerNote = regexp.MustCompile(`<span class="cached">[^<]*</span>`)

func footerOf(body string) string {
	if i := strings.Index(body, "<footer"); i >= 0 {
		return body[i:]
	}
	return body
}

func TestTheTopologyShowsThisWebInstancesCache(t *testing.T) {
	app := newCountedApp(t, "app-1")
	f := newCachingFront(t, nil, app)
	for range 4 { // a miss and three hits
		get(t, f.URL+"/visitor/visitor_list/", map[string]string{"Accept-Language": "en"})
	}
	resp, body := get(t, f.URL+"/visitor/api/topology", nil)
	wantCacheStatus(t, resp, "fwd=miss")
	var topo struct {
		WebCache *hops.CacheView `json:"web_cache"`
	}
	if err := json.Unmarshal([]byte(body), &topo); err != nil || topo.WebCache == nil {
		t.Fatalf("the topology has no web_cache (%v): %s", err, body)
	}
	if c := topo.WebCache; c.Entries != 1 || c.Bytes < 1000 || c.MaxBytes != 8<<20 || c.HitRatio != 0.75 {
		// The topology's own miss is counted once answered, as stale or
		// miss: after the view it carries.
		t.Errorf("web_cache %+v, want 1 entry of its page's size in 8 MiB, 3 hits of 4 requests", *c)
	}
	_, html := get(t, f.URL+"/visitor/topology", map[string]string{"Accept-Language": "en"})
	if !strings.Contains(html, "cache: 1 pages") || !strings.Contains(html, "of 8192 KiB") {
		t.Errorf("the topology page does not show the cache")
	}
}

func TestAPageTheAppNoLongerServesIsNotServedStale(t *testing.T) {
	app := newCountedApp(t, "app-1")
	f := newCachingFront(t, nil, app)
	created := roundTrip(t, client(t), newRequest(t, "POST", app.URL+"/visitor/api/entries",
		`{"name":"n","email":"e@example.com","content":"곧 지움"}`, "Content-Type", "application/json"))
	var e struct {
		ID          int64  `json:"id"`
		DeleteToken string `json:"delete_token"`
	}
	if err := json.Unmarshal([]byte(created.body), &e); err != nil {
		t.Fatal(err)
	}
	detail := f.URL + "/visitor/visitor_detail/" + strconv.FormatInt(e.ID, 10)
	get(t, detail, nil)
	roundTrip(t, client(t), newRequest(t, "DELETE", app.URL+"/visitor/api/entries/"+strconv.FormatInt(e.ID, 10), "",
		"Authorization", "Bearer "+e.DeleteToken))
	time.Sleep(1100 * time.Millisecond)
	resp, _ := get(t, detail, nil) // stale while its refresh finds it gone
	wantCacheStatus(t, resp, "revalidating")
	time.Sleep(200 * time.Millisecond)
	if resp, _ := get(t, detail, nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("after the refresh found it gone: %d (%s), want 404", resp.StatusCode, cacheStatus(resp))
	}
}

// A refresh that a HEAD started fetches the whole page: kept from the
// HEAD's answer, the page would be empty for every reader after it.
func TestARefreshAHeadStartedKeepsTheWholePage(t *testing.T) {
	app := newCountedApp(t, "app-1")
	f := newCachingFront(t, nil, app)
	_, first := get(t, f.URL+"/visitor/visitor_list/", nil)
	time.Sleep(1100 * time.Millisecond) // past app.cache_ttl: stale, revalidating
	head, _ := do(t, "HEAD", f.URL+"/visitor/visitor_list/", nil)
	wantCacheStatus(t, head, "fwd=stale")
	resp, body := get(t, f.URL+"/visitor/visitor_list/", nil)
	for deadline := time.Now().Add(3 * time.Second); !strings.Contains(cacheStatus(resp), "hit") && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond) // until the refresh has come back
		resp, body = get(t, f.URL+"/visitor/visitor_list/", nil)
	}
	wantCacheStatus(t, resp, "hit")
	if len(body) < len(first)/2 || !strings.Contains(body, "</html>") {
		t.Fatalf("after a HEAD's refresh the kept page is %d bytes (first %d):\n%s", len(body), len(first), short(body))
	}
	if got := app.count("HEAD /visitor/visitor_list/"); got != 0 {
		t.Errorf("the refresh reached the app as %d HEADs, want a GET", got)
	}
}

// A browser's reload carries If-None-Match: a miss it leads still fills the
// entry for everyone, and the others waiting on it still wait.
func TestAConditionalMissFillsTheEntryForTheOthersWaiting(t *testing.T) {
	app := newCountedApp(t, "app-1")
	f := newCachingFront(t, func(o *web.CacheOptions) { o.StaleWhileRevalidate = 0 }, app)
	resp, _ := get(t, f.URL+"/visitor/visitor_list/", nil)
	etag := resp.Header.Get("Etag")
	if etag == "" {
		t.Fatal("the list page has no ETag")
	}
	time.Sleep(1100 * time.Millisecond) // past app.cache_ttl, with no stale-while-revalidate: a miss
	app.delay.Store(int64(300 * time.Millisecond))
	var wg sync.WaitGroup
	codes := make([]int, 11)
	for i := range 11 {
		wg.Go(func() {
			h := map[string]string{}
			if i == 0 {
				h["If-None-Match"] = etag // the leader
			} else {
				time.Sleep(50 * time.Millisecond)
			}
			r, _ := get(t, f.URL+"/visitor/visitor_list/", h)
			codes[i] = r.StatusCode
		})
	}
	wg.Wait()
	if got := app.count("GET /visitor/visitor_list/"); got != 2 {
		t.Errorf("the app saw the page %d times, want 2: the first fill and one for the 11 misses", got)
	}
	for i, code := range codes {
		if code != http.StatusOK && code != http.StatusNotModified {
			t.Errorf("request %d: %d", i, code)
		}
	}
	if r, _ := get(t, f.URL+"/visitor/visitor_list/", nil); !strings.Contains(cacheStatus(r), "hit") {
		t.Errorf("after the conditional fill: Cache-Status %q, want a hit", cacheStatus(r))
	}
}

// A query parameter the pages do not read is no key of the cache: a
// request with one goes to the app tier and is not kept, so random queries
// neither fill the cache nor push out the pages visitors read.
func TestAQueryThePagesDoNotReadIsNeitherKeptNorAnsweredFromTheCache(t *testing.T) {
	app := newCountedApp(t, "app-1")
	f := newCachingFront(t, nil, app)
	get(t, f.URL+"/visitor/visitor_list/", nil)
	for i := range 3 {
		r, _ := get(t, f.URL+"/visitor/visitor_list/?x="+strconv.Itoa(i), nil)
		wantCacheStatus(t, r, "fwd=bypass")
		r, _ = get(t, f.URL+"/visitor/visitor_list/?x="+strconv.Itoa(i), nil)
		wantCacheStatus(t, r, "fwd=bypass")
	}
	if got := app.count("GET /visitor/visitor_list/?x=0"); got != 2 {
		t.Errorf("?x=0 reached the app %d times, want every time (2)", got)
	}
	r, _ := get(t, f.URL+"/visitor/visitor_list/", nil)
	wantCacheStatus(t, r, "hit")
	// The parameters the pages read are keyed in one order.
	get(t, f.URL+"/visitor/api/entries?limit=5&before=100", nil)
	r, _ = get(t, f.URL+"/visitor/api/entries?before=100&limit=5", nil)
	wantCacheStatus(t, r, "hit")
}

// An instance cut off from the app tier stays ready only while what it
// kept may still stand in: past web.cache_stale_if_error it leaves the
// balancer's rotation, as it would with nothing kept.
func TestAnInstanceWhosePagesAreTooOldToStandInIsNotReady(t *testing.T) {
	app := newCountedApp(t, "app-1")
	f := newCachingFront(t, func(o *web.CacheOptions) { o.StaleWhileRevalidate, o.StaleIfError = 0, 2*time.Second }, app)
	get(t, f.URL+"/visitor/visitor_list/", nil)
	app.Close()
	f.checkAll(t)
	if ready, _ := get(t, f.URL+"/readyz", nil); ready.StatusCode != http.StatusOK {
		t.Fatalf("/readyz with a fresh page kept: %d, want 200", ready.StatusCode)
	}
	time.Sleep(3100 * time.Millisecond) // past app.cache_ttl (1s) and web.cache_stale_if_error (2s)
	if ready, _ := get(t, f.URL+"/readyz", nil); ready.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz with only pages too old to stand in and no upstream: %d, want 503", ready.StatusCode)
	}
}

func TestEachHitSaysTheEntrysAgeAsItIsThen(t *testing.T) {
	// Hits in one tenth of a second share the bytes prepared for it; the
	// next tenth's hits must not be served the last one's note, Age or ttl.
	var clock atomic.Int64 // nanoseconds past start
	start := time.Now()
	app := newCountedApp(t, "app-7")
	f := newCachingFront(t, func(o *web.CacheOptions) {
		o.Now = func() time.Time { return start.Add(time.Duration(clock.Load())) }
	}, app)
	en := map[string]string{"Accept-Language": "en"}
	get(t, f.URL+"/visitor/visitor_list/", en) // the fill, at age 0
	for _, at := range []struct {
		elapsed      time.Duration
		note, status string
	}{
		{50 * time.Millisecond, "made 0.0s ago", "hit; ttl=1.0"},
		{90 * time.Millisecond, "made 0.0s ago", "hit; ttl=1.0"},
		{450 * time.Millisecond, "made 0.4s ago", "hit; ttl=0.6"},
		{990 * time.Millisecond, "made 0.9s ago", "hit; ttl=0.1"},
	} {
		clock.Store(int64(at.elapsed))
		resp, body := get(t, f.URL+"/visitor/visitor_list/", en)
		wantCacheStatus(t, resp, "web-1; "+at.status)
		if !strings.Contains(footerNote.FindString(body), at.note) {
			t.Errorf("at %v the footer says %q, want %q", at.elapsed, footerNote.FindString(body), at.note)
		}
		if n, _ := strconv.Atoi(resp.Header.Get("Content-Length")); n != len(body) {
			t.Errorf("at %v: Content-Length %d for a body of %d", at.elapsed, n, len(body))
		}
		if resp.Header.Get("Age") != "0" {
			t.Errorf("at %v: Age %q, want 0", at.elapsed, resp.Header.Get("Age"))
		}
	}
	if n := app.count("GET /visitor/visitor_list/"); n != 1 {
		t.Errorf("the app was asked %d times for a page that stayed fresh, want 1", n)
	}
}
