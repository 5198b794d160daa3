package web_test

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guestbook/guestbook/internal/httpcheck"
	"github.com/guestbook/guestbook/tier/web"
)

var (
	h1RE     = regexp.MustCompile(`<h1>([^<]*)</h1>`)
	hangulRE = regexp.MustCompile(`\p{Hangul}`)
)

func TestNewPoolRejectsMissingOrBadUpstreams(t *testing.T) {
	tests := []struct {
		name      string
		upstreams []string
	}{
		{"nil", nil},
		{"empty", []string{}},
		{"unparseable", []string{"http://app:8081", "://no-scheme"}},
		{"not http", []string{"ftp://app:8081"}},
		{"no host", []string{"http://"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := web.NewPool(tt.upstreams, time.Second, httpcheck.Logger(t))
			if err == nil || !strings.Contains(err.Error(), "web.upstreams") {
				t.Errorf("NewPool(%q) = %v, %v; want an error naming web.upstreams", tt.upstreams, p, err)
			}
		})
	}
}

// Equal upstreams share the load about evenly: two are taken in turn, as
// refreshing a page shows, and of three each gets about a third, since a
// choice between two equals takes the one chosen less recently. The pool's
// clock stands still, so that every upstream measures as equal whatever
// the machine's own noise.
func TestEqualUpstreamsShareTheLoadAboutEvenly(t *testing.T) {
	for _, n := range []int{2, 3} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			var ups []*echo
			var urls []string
			for i := range n {
				ups = append(ups, newEcho(t, string(rune('a'+i))))
				urls = append(urls, ups[i].URL)
			}
			f := newFront(t, nil, urls...)
			f.pool.SetRand(rand.New(rand.NewPCG(1, 2)).IntN)
			still := time.Now()
			f.pool.SetClock(func() time.Time { return still })
			c := client(t)

			var order []string
			for range 30 * n {
				r := roundTrip(t, c, newRequest(t, "GET", f.URL+"/visitor/", ""))
				if r.StatusCode != http.StatusOK {
					t.Fatalf("status = %d, want 200", r.StatusCode)
				}
				order = append(order, r.body)
			}
			if n == 2 {
				for i := 1; i < len(order); i++ {
					if order[i] == order[i-1] {
						t.Fatalf("two equal upstreams answered %v, want them in turn", order)
					}
				}
			}
			for _, u := range ups {
				if got := len(u.requests()); got < 20 || got > 40 {
					t.Errorf("upstream %s got %d of %d requests, want about 30", u.name, got, 30*n)
				}
			}
		})
	}
}

func TestAnUpstreamFailingItsHealthCheckLeavesTheRotationUntilItPasses(t *testing.T) {
	a, b := newEcho(t, "a"), newEcho(t, "b")
	f := newFront(t, nil, a.URL, b.URL)
	c := client(t)

	b.healthy.Store(false)
	f.checkAll(t)
	if got := f.available(); !slices.Equal(got, []bool{true, false}) {
		t.Fatalf("after b failed a check, available = %v, want [true false]", got)
	}
	for range 4 {
		if r := roundTrip(t, c, newRequest(t, "GET", f.URL+"/visitor/", "")); r.body != "a" {
			t.Fatalf("with b out of the rotation, %q answered (status %d), want a", r.body, r.StatusCode)
		}
	}
	if n := len(b.requests()); n != 0 {
		t.Errorf("b got %d requests while its health check failed, want 0", n)
	}

	b.healthy.Store(true)
	f.checkAll(t)
	if got := f.available(); !slices.Equal(got, []bool{true, true}) {
		t.Fatalf("after b passed a check, available = %v, want [true true]", got)
	}
	for range 4 {
		roundTrip(t, c, newRequest(t, "GET", f.URL+"/visitor/", ""))
	}
	if n := len(b.requests()); n != 2 {
		t.Errorf("b got %d of 4 requests after it came back, want 2", n)
	}
}

func TestAStoppedUpstreamLeavesTheRotationAtOnceAndReturnsWhenItsCheckPasses(t *testing.T) {
	a := newEcho(t, "a")
	stopped := closedURL(t)
	f := newFront(t, nil, a.URL, stopped)
	c := client(t)

	// No health round has run: the first request that is sent to the
	// stopped upstream finds out, goes to a instead, and takes it out.
	for range 2 {
		r := roundTrip(t, c, newRequest(t, "GET", f.URL+"/visitor/", ""))
		if r.StatusCode != http.StatusOK || r.body != "a" {
			t.Fatalf("got %d %q, want 200 from a", r.StatusCode, short(r.body))
		}
	}
	if got := f.available(); !slices.Equal(got, []bool{true, false}) {
		t.Fatalf("after a refused connection, available = %v, want [true false] without waiting for a check", got)
	}

	back := newEcho(t, "back")
	restart(t, stopped, back.Config.Handler)
	f.checkAll(t)
	if got := f.available(); !slices.Equal(got, []bool{true, true}) {
		t.Fatalf("after the upstream came back and passed a check, available = %v, want [true true]", got)
	}
	var bodies []string
	for range 2 {
		bodies = append(bodies, roundTrip(t, c, newRequest(t, "GET", f.URL+"/visitor/", "")).body)
	}
	if !slices.Contains(bodies, "back") {
		t.Errorf("answers %v after the upstream came back, want one from it", bodies)
	}
}

func TestAHealthRoundTakesOutAStoppedUpstreamBeforeAnyRequest(t *testing.T) {
	a := newEcho(t, "a")
	f := newFront(t, nil, closedURL(t), a.URL)
	f.checkAll(t)
	if got := f.available(); !slices.Equal(got, []bool{false, true}) {
		t.Fatalf("after one health round, available = %v, want [false true]", got)
	}
}

func TestWithEveryUpstreamStoppedTheProxyAnswers502WithinASecond(t *testing.T) {
	stopped := []string{closedURL(t), closedURL(t)}
	f := newFront(t, nil, stopped...)
	c := client(t)

	check502 := func(t *testing.T) {
		t.Helper()
		began := time.Now()
		page := roundTrip(t, c, newRequest(t, "GET", f.URL+"/visitor/visitor_list/", "", "Accept-Language", "ko-KR,ko;q=0.9"))
		api := roundTrip(t, c, newRequest(t, "POST", f.URL+"/visitor/api/entries", `{"name":"n"}`, "Content-Type", "application/json"))
		if took := time.Since(began); took > time.Second {
			t.Errorf("two requests took %s to fail, want under a second", took)
		}
		if page.StatusCode != http.StatusBadGateway || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
			t.Errorf("page: %d %q, want 502 text/html", page.StatusCode, page.Header.Get("Content-Type"))
		}
		heading := h1RE.FindStringSubmatch(page.body)
		if htmlLang(t, page.body) != "ko" || heading == nil || !strings.Contains(heading[1], "502") ||
			!hangulRE.MatchString(heading[1]) || strings.Contains(page.body, "web.unavailable") {
			t.Errorf("page is not the 502 page in Korean; its heading is %q", heading)
		}
		var problem struct{ Error string }
		if api.StatusCode != http.StatusBadGateway || !strings.HasPrefix(api.Header.Get("Content-Type"), "application/json") ||
			json.Unmarshal([]byte(api.body), &problem) != nil || problem.Error == "" {
			t.Errorf("api: %d %q %q, want 502 with a JSON error", api.StatusCode, api.Header.Get("Content-Type"), short(api.body))
		}
	}

	t.Run("before any health round", check502)
	f.checkAll(t)
	t.Run("after a health round", check502)
	if r := roundTrip(t, c, newRequest(t, "GET", f.URL+"/readyz", "")); r.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("/readyz with every upstream down = %d, want 503", r.StatusCode)
	}

	back := newEcho(t, "back")
	restart(t, stopped[1], back.Config.Handler)
	f.checkAll(t)
	if r := roundTrip(t, c, newRequest(t, "GET", f.URL+"/readyz", "")); r.StatusCode != http.StatusOK {
		t.Errorf("/readyz with one upstream back = %d, want 200", r.StatusCode)
	}
	if r := roundTrip(t, c, newRequest(t, "GET", f.URL+"/visitor/", "")); r.StatusCode != http.StatusOK || r.body != "back" {
		t.Errorf("with one upstream back, got %d %q, want 200 from it", r.StatusCode, short(r.body))
	}
}

func TestTheProxyKeepsConnectionsToAnUpstreamAlive(t *testing.T) {
	var conns atomic.Int32
	up := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	up.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			conns.Add(1)
		}
	}
	up.Start()
	t.Cleanup(up.Close)
	f := newFront(t, nil, up.URL)
	c := client(t)

	for range 20 {
		if r := roundTrip(t, c, newRequest(t, "GET", f.URL+"/visitor/", "")); r.StatusCode != http.StatusOK {
			t.Fatalf("status = %d, want 200", r.StatusCode)
		}
	}
	if n := conns.Load(); n != 1 {
		t.Errorf("20 requests one after another opened %d connections to the upstream, want 1 kept alive", n)
	}
}
