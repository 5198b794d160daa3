package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/guestbook/guestbook/tier/hops"
)

// wantWebHop is testInstance's Guestbook-Web value.
const wantWebHop = "web-i-0abc123; zone=ap-northeast-2a; subnet=subnet-10-0-1-0"

func TestTheAppTierHearsThisWebInstanceAndNoPathAClientClaims(t *testing.T) {
	up := newEcho(t, "a")
	// Even a trusted load balancer only passes on what the client sent:
	// the web tier starts the path and believes nobody's path headers.
	f := newFront(t, mustTrust(t, "127.0.0.0/8"), up.URL)
	r := roundTrip(t, client(t), newRequest(t, "GET", f.URL+"/visitor/", "",
		"Guestbook-Web", "evil-web; zone=evil",
		"Guestbook-App", "evil-app",
		"Guestbook-Db", "evil-db; role=primary; lag=0",
		"Guestbook-Upstreams", `[{"name":"evil-upstream","healthy":true}]`))
	if r.StatusCode != http.StatusOK {
		t.Fatalf("status %d", r.StatusCode)
	}
	got := up.requests()[0].header
	if web := got.Values(hops.HeaderWeb); !reflect.DeepEqual(web, []string{wantWebHop}) {
		t.Errorf("the app tier heard Guestbook-Web %q, want only this instance's %q", web, wantWebHop)
	}
	for _, name := range []string{hops.HeaderApp, hops.HeaderDB, hops.HeaderUpstreams} {
		if v := got.Values(name); v != nil {
			t.Errorf("the app tier heard the client's %s %q", name, v)
		}
	}
	if web := r.Header.Values(hops.HeaderWeb); !reflect.DeepEqual(web, []string{wantWebHop}) {
		t.Errorf("the client got Guestbook-Web %q, want this instance's once", web)
	}
}

func TestTheWebTierAnswersWithItsOwnHopWhateverTheUpstreamSays(t *testing.T) {
	liar := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(hops.HeaderWeb, "not-the-web-tier")
		w.Header().Set(hops.HeaderApp, "app-1")
		io.WriteString(w, "ok\n")
	}))
	t.Cleanup(liar.Close)
	f := newFront(t, nil, liar.URL)
	r := roundTrip(t, client(t), newRequest(t, "GET", f.URL+"/visitor/", ""))
	if web := r.Header.Values(hops.HeaderWeb); !reflect.DeepEqual(web, []string{wantWebHop}) {
		t.Errorf("Guestbook-Web %q, want %q once", web, wantWebHop)
	}
	if app := r.Header.Get(hops.HeaderApp); app != "app-1" {
		t.Errorf("Guestbook-App %q, want the app tier's app-1 passed through", app)
	}
	home := roundTrip(t, client(t), newRequest(t, "GET", f.URL+"/", ""))
	if web := home.Header.Get(hops.HeaderWeb); web != wantWebHop {
		t.Errorf("the home page's Guestbook-Web %q, want %q", web, wantWebHop)
	}
	if !strings.Contains(home.body, `data-hop="static"`) || !strings.Contains(home.body, "web-i-0abc123") {
		t.Error("the home page's footer does not show this web instance as the whole path of a static page")
	}
}

func TestTheWebTierHandsItsUpstreamsToTheAppTierOnTopologyRequestsOnly(t *testing.T) {
	up := newEcho(t, "a")
	f := newFront(t, nil, up.URL)
	c := client(t)
	roundTrip(t, c, newRequest(t, "GET", f.URL+"/visitor/visitor_list/", ""))
	roundTrip(t, c, newRequest(t, "GET", f.URL+hops.TopologyAPI, ""))
	roundTrip(t, c, newRequest(t, "GET", f.URL+hops.TopologyPage, ""))
	seen := up.requests()
	if v := seen[0].header.Get(hops.HeaderUpstreams); v != "" {
		t.Errorf("the list page carried Guestbook-Upstreams %q: only topology requests should pay for it", v)
	}
	for _, s := range seen[1:] {
		list, ok := hops.ParseUpstreams(s.header.Get(hops.HeaderUpstreams))
		if !ok || len(list) != 1 || list[0].Name != "upstream-1" || !list[0].Healthy {
			t.Errorf("%s carried upstreams %+v (%v), want upstream-1, healthy", s.uri, list, ok)
		}
		if strings.Contains(s.header.Get(hops.HeaderUpstreams), strings.TrimPrefix(up.URL, "http://")) {
			t.Errorf("%s: the upstream view names an upstream by its address", s.uri)
		}
	}
}

func TestUpstreamsAreNamedByTheirInstanceAndCountedAndADeadOneIsDown(t *testing.T) {
	a1, a2 := newAppServer(t, "app-1"), newAppServer(t, "app-2")
	f := newFront(t, nil, a1.URL, a2.URL, closedURL(t))
	f.checkAll(t)
	c := client(t)
	for range 6 {
		roundTrip(t, c, newRequest(t, "GET", f.URL+"/visitor/", ""))
	}
	got := f.pool.Describe()
	names := []string{got[0].Name, got[1].Name, got[2].Name}
	if !reflect.DeepEqual(names, []string{"app-1", "app-2", "upstream-3"}) {
		t.Errorf("upstreams named %q, want the instance ids their health checks report, and upstream-3 for the dead one", names)
	}
	if !got[0].Healthy || !got[1].Healthy || got[2].Healthy {
		t.Errorf("health %v %v %v, want up, up, down", got[0].Healthy, got[1].Healthy, got[2].Healthy)
	}
	if got[0].Requests+got[1].Requests != 6 || got[0].Requests == 0 || got[1].Requests == 0 {
		t.Errorf("requests %d and %d, want the 6 spread over both", got[0].Requests, got[1].Requests)
	}
	if got[0].Failures+got[1].Failures+got[2].Failures != 0 {
		t.Errorf("failures counted where every request was answered: %+v", got)
	}

	a2.Close() // the instance stops: its next check fails
	f.checkAll(t)
	if got := f.pool.Describe()[1]; got.Healthy || got.Name != "app-2" {
		t.Errorf("after app-2 stopped: %+v, want app-2 still named and down", got)
	}
}

// Behind a load balancer (deploy/terraform's internal ALB) one upstream
// address answers as several instances in turn: it keeps its place's name
// instead of taking whichever instance answered the last check.
func TestAnUpstreamThatIsALoadBalancerIsNamedByItsPlace(t *testing.T) {
	var turn atomic.Int32
	balancer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set(hops.HeaderApp, []string{"app-1", "app-2"}[turn.Add(1)%2])
	}))
	t.Cleanup(balancer.Close)
	f := newFront(t, nil, balancer.URL)
	f.checkAll(t)
	f.checkAll(t)
	if got := f.pool.Describe()[0].Name; got != "upstream-1" {
		t.Errorf("a load balancer's upstream is named %q, want upstream-1", got)
	}
}
