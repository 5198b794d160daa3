package app_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/store/storetest"
	"github.com/guestbook/guestbook/tier/app"
	"github.com/guestbook/guestbook/tier/forwarded"
	"github.com/guestbook/guestbook/tier/hops"
)

// newPathApp is the app tier on SQLite as instance inst, believing path
// headers from the networks in trust.
func newPathApp(t *testing.T, inst config.Instance, trust ...string) *testApp {
	t.Helper()
	trusted, err := forwarded.ParseTrusted(trust)
	if err != nil {
		t.Fatal(err)
	}
	db, cfg := storetest.Open(t, "sqlite")
	srv := httptest.NewServer(app.New(db, app.Options{
		Instance: inst, Version: "v-test", Log: storetest.Logger(t), TrustedProxies: trusted,
	}))
	t.Cleanup(srv.Close)
	return &testApp{Server: srv, db: db, cfg: cfg}
}

// hop is the footer's item for one hop (web, app, db or static), or "".
func hop(body, name string) string {
	m := regexp.MustCompile(`<li class="hop" data-hop="` + name + `">(.*?)</li>`).FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return m[1]
}

// spoofed are the path headers a client might send to put its own words on
// a page.
var spoofed = []string{
	"Guestbook-Web", "evil-web; zone=evil-zone",
	"Guestbook-App", "evil-app",
	"Guestbook-Db", "evil-db; role=primary; lag=0",
	"Guestbook-Upstreams", `[{"name":"evil-upstream","healthy":true}]`,
}

func TestEveryResponseSaysWhichAppInstanceAndDatabaseServerMadeIt(t *testing.T) {
	a := newTestApp(t)
	c := a.browser(t)
	for _, path := range []string{"/visitor/visitor_list/", "/visitor/api/entries", "/visitor/visitor_detail/404"} {
		r := a.get(t, c, path)
		if got := r.Header.Get(hops.HeaderApp); got != "app-1; zone=ap-northeast-2a; subnet=10.0.2.0/24" {
			t.Errorf("%s: Guestbook-App %q", path, got)
		}
		if got := r.Header.Get(hops.HeaderDB); got != "primary; role=primary; lag=0" {
			t.Errorf("%s (status %d): Guestbook-Db %q, want the SQLite file as the primary", path, r.StatusCode, got)
		}
	}
	list := a.get(t, c, "/visitor/visitor_list/")
	if h := hop(list.body, "app"); !strings.Contains(h, "app-1") || !strings.Contains(h, "ap-northeast-2a") {
		t.Errorf("the list's footer shows the app hop %q, want app-1 in ap-northeast-2a", h)
	}
	if h := hop(list.body, "db"); !strings.Contains(h, "primary") || !strings.Contains(h, "lag 0s") {
		t.Errorf("the list's footer shows the database hop %q, want primary with its lag", h)
	}
	if h := hop(list.body, "web"); h != "" {
		t.Errorf("the footer shows a web hop %q for a request that came through none", h)
	}

	home := a.get(t, c, "/visitor/") // runs no query
	if got := home.Header.Get(hops.HeaderDB); got != "" {
		t.Errorf("the home page ran no query but says Guestbook-Db %q", got)
	}
	if h := hop(home.body, "db"); !strings.Contains(h, "no database query") {
		t.Errorf("the home page's footer shows the database hop %q, want none", h)
	}
}

func TestAClientsOwnPathHeadersAreIgnoredWhenItIsNotATrustedProxy(t *testing.T) {
	a := newPathApp(t, config.Instance{ID: "app-1"}) // trusts nobody
	c := a.browser(t)
	for _, path := range []string{"/visitor/visitor_list/", hops.TopologyPage, hops.TopologyAPI} {
		r := a.get(t, c, path, spoofed...)
		if strings.Contains(r.body, "evil") {
			t.Errorf("%s shows a path the client made up", path)
		}
		if got := r.Header.Values(hops.HeaderApp); len(got) != 1 || got[0] != "app-1" {
			t.Errorf("%s: Guestbook-App %q, want only app-1", path, got)
		}
		for name, values := range r.Header {
			if strings.Contains(strings.Join(values, ","), "evil") {
				t.Errorf("%s: the answer's %s %q repeats the client", path, name, values)
			}
		}
	}
	if got := a.get(t, c, "/visitor/visitor_list/", spoofed...).Header.Values(hops.HeaderDB); len(got) != 1 || got[0] != "primary; role=primary; lag=0" {
		t.Errorf("the list's Guestbook-Db %q, want only the server that answered", got)
	}
	var topo struct {
		Web       []any `json:"web"`
		Upstreams []any `json:"upstreams"`
	}
	if err := json.Unmarshal([]byte(a.get(t, c, hops.TopologyAPI, spoofed...).body), &topo); err != nil {
		t.Fatal(err)
	}
	if len(topo.Web) != 0 || len(topo.Upstreams) != 0 {
		t.Errorf("the topology believed a client: web %v, upstreams %v", topo.Web, topo.Upstreams)
	}
}

func TestATrustedWebTierIsShownOnThePath(t *testing.T) {
	a := newPathApp(t, config.Instance{ID: "app-1"}, "127.0.0.0/8")
	r := a.get(t, a.browser(t), "/visitor/visitor_list/", "Guestbook-Web", "web-2; zone=ap-northeast-2c")
	if h := hop(r.body, "web"); !strings.Contains(h, "web-2") || !strings.Contains(h, "ap-northeast-2c") {
		t.Errorf("the footer shows the web hop %q, want web-2 in ap-northeast-2c", h)
	}
	topo := a.get(t, a.browser(t), hops.TopologyAPI, "Guestbook-Web", "web-2",
		"Guestbook-Upstreams", `[{"name":"app-1","healthy":true,"requests":3},{"name":"app-2","healthy":false}]`)
	for _, want := range []string{`"web":[{"name":"web-2"`, `{"name":"app-1","zone":"","healthy":true,"requests":3,`, `"answered":true}`, `{"name":"app-2","zone":"","healthy":false,`} {
		if !strings.Contains(topo.body, want) {
			t.Errorf("the topology lacks %s:\n%s", want, topo.body)
		}
	}
}

func TestThePathAndTopologyShowWordsNeverMarkup(t *testing.T) {
	a := newPathApp(t, config.Instance{ID: `<script>alert("id")</script>`, Zone: `"><img src=x>`}, "127.0.0.0/8")
	c := a.browser(t)
	markup := []string{
		"Guestbook-Web", `<script>alert("web")</script>`,
		"Guestbook-Upstreams", `[{"name":"<img src=x onerror=alert(1)>","healthy":true}]`,
	}
	for _, path := range []string{"/visitor/", "/visitor/visitor_list/", hops.TopologyPage, hops.TopologyAPI} {
		r := a.get(t, c, path, markup...)
		for _, bad := range []string{"<script>alert", "<img src=x", `alert("web")`, "onerror="} {
			if strings.Contains(r.body, bad) {
				t.Errorf("%s contains %q", path, bad)
			}
		}
		if got := r.Header.Get(hops.HeaderApp); strings.ContainsAny(got, `<>"`) {
			t.Errorf("%s: Guestbook-App %q carries markup", path, got)
		}
	}
	// The instance's own id, odd as it is, still shows, as text.
	if r := a.get(t, c, "/visitor/"); !strings.Contains(r.body, "&lt;script&gt;alert(&#34;id&#34;)&lt;/script&gt;") {
		t.Error("the home page's instance block does not show the id escaped")
	}
}

func TestTheTopologyPageIsAPictureInBothLanguagesThatRefreshesWithoutInlineScript(t *testing.T) {
	a := newTestApp(t)
	c := a.browser(t)
	en := a.get(t, c, hops.TopologyPage, "Accept-Language", "en")
	wantStatus(t, en, http.StatusOK)
	wantContains(t, en, `<svg viewBox="0 0 400 `, `role="img"`, `id="topology"`, "Live topology",
		`<noscript><meta http-equiv="refresh" content="5"></noscript>`, `<script src="/static/topology.`)
	if inline := regexp.MustCompile(`<script>|<script [^>]*>[^<]`).FindString(en.body); inline != "" {
		t.Errorf("the page has an inline script %q, which the CSP forbids", inline)
	}
	if csp := en.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") {
		t.Errorf("CSP %q", csp)
	}
	ko := a.get(t, c, hops.TopologyPage, "Accept-Language", "ko")
	wantContains(t, ko, `<html lang="ko">`, "실시간 구성도", "데이터베이스")

	src := regexp.MustCompile(`<script src="(/static/topology\.[0-9a-f]+\.js)"`).FindStringSubmatch(en.body)
	if src == nil {
		t.Fatal("no topology script")
	}
	js := a.get(t, c, src[1])
	wantStatus(t, js, http.StatusOK)
	if ct := js.Header.Get("Content-Type"); !strings.Contains(ct, "javascript") {
		t.Errorf("the script is served as %q", ct)
	}
	wantContains(t, js, `getElementById("topology")`)
}
