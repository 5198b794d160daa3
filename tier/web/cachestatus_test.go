package web_test

import (
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guestbook/guestbook/internal/admission"
	"github.com/guestbook/guestbook/internal/clientlimit"
	"github.com/guestbook/guestbook/tier/hops"
	"github.com/guestbook/guestbook/tier/web"
)

// outcomeOf is the count a Cache-Status says its answer is in.
func outcomeOf(t *testing.T, resp *http.Response) string {
	t.Helper()
	cs := cacheStatus(resp)
	for _, o := range []string{"; hit", "; fwd=miss", "; fwd=stale", "; fwd=bypass"} {
		if strings.Contains(cs, o) {
			return o
		}
	}
	t.Fatalf("%s %s: Cache-Status %q is none of hit, miss, stale, bypass", resp.Request.Method, resp.Request.URL, cs)
	return ""
}

// Every answer the cache gives counts once, in the count its Cache-Status
// names: a stale page served after a refill failed is a stale serve, not a
// miss as well; and the topology's hit ratio is those counts'.
func TestEachAnswerCountsOnceInTheOutcomeItsCacheStatusNames(t *testing.T) {
	app := newCountedApp(t, "app-1")
	var ahead atomic.Int64 // the cache's clock, moved by the test instead of sleeping
	f := newCachingFront(t, func(o *web.CacheOptions) {
		o.Now = func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	}, app)
	told := map[string]uint64{}
	ask := func(method, uri string, header ...string) {
		t.Helper()
		told[outcomeOf(t, roundTrip(t, client(t), newRequest(t, method, f.URL+uri, "", header...)).Response)]++
	}
	ask("GET", "/visitor/visitor_list/")                                 // miss
	ask("GET", "/visitor/visitor_list/")                                 // hit
	ask("HEAD", "/visitor/visitor_list/")                                // hit
	ask("HEAD", "/visitor/")                                             // miss, not kept
	ask("GET", "/visitor/visitor_list/?x=1")                             // bypass: a parameter it does not name
	ask("GET", "/visitor/visitor_list/", "Authorization", "Bearer nope") // bypass: personal
	ask("GET", "/visitor/api/entries")                                   // miss
	ahead.Add(int64(1100 * time.Millisecond))                            // past app.cache_ttl
	ask("GET", "/visitor/api/entries")                                   // stale, revalidating
	// The topology shows the share of the answers so far that came from
	// the cache; its own request is a miss, counted once answered.
	served, asked := told["; hit"]+told["; fwd=stale"], told["; hit"]+told["; fwd=stale"]+told["; fwd=miss"]+told["; fwd=bypass"]
	resp, body := get(t, f.URL+"/visitor/api/topology", nil)
	told[outcomeOf(t, resp)]++
	var topo struct {
		WebCache *hops.CacheView `json:"web_cache"`
	}
	if err := json.Unmarshal([]byte(body), &topo); err != nil || topo.WebCache == nil {
		t.Fatalf("the topology has no web_cache (%v): %s", err, body)
	}
	if want := math.Round(float64(served)/float64(asked)*100) / 100; topo.WebCache.HitRatio != want {
		t.Errorf("hit ratio %v, want %v: %d of %d answers from the cache", topo.WebCache.HitRatio, want, served, asked)
	}
	app.Close()
	ahead.Add(int64(time.Minute)) // past web.cache_stale_while_revalidate
	for range 3 {                 // failed refills, each answered from the stale page
		resp, _ := get(t, f.URL+"/visitor/visitor_list/", nil)
		wantCacheStatus(t, resp, "fwd=stale", "detail=stale-if-error")
		told[outcomeOf(t, resp)]++
	}
	stats, ok := f.web.CacheStats()
	if !ok {
		t.Fatal("no cache stats with the cache on")
	}
	got := map[string]uint64{"; hit": stats.Hits, "; fwd=miss": stats.Misses, "; fwd=stale": stats.Stale, "; fwd=bypass": stats.Bypass}
	for o, n := range told {
		if got[o] != n {
			t.Errorf("%d answers said %q, counted %d (counts %+v)", n, o, got[o], stats)
		}
	}
}

// The answers the web tier makes itself under /visitor/ (past a client's
// rate, past its concurrency limit, with no upstream) carry Age and a
// Cache-Status that claims neither a hit nor a forward, and says why.
func TestTheRefusalsTheWebTierMakesItselfSayHowInCacheStatus(t *testing.T) {
	app := newCountedApp(t, "app-1")
	limiter := admission.New(1, 1, 1)
	rate := clientlimit.New(0.001, 4, 0)
	f := newCachingFrontWith(t, func(o *web.Options) { o.Admission, o.RateLimit = limiter, rate }, app)
	want := func(resp *http.Response, status int, cs string) {
		t.Helper()
		if resp.StatusCode != status || cacheStatus(resp) != cs || resp.Header.Get("Age") != "0" {
			t.Errorf("GET %s: %d, Age %q, Cache-Status %q; want %d, Age 0, %q", resp.Request.URL, resp.StatusCode,
				resp.Header.Get("Age"), cacheStatus(resp), status, cs)
		}
	}
	// Shed: one request held at the app takes the one slot.
	app.delay.Store(int64(3 * time.Second))
	var held sync.WaitGroup
	held.Go(func() { get(t, f.URL+"/visitor/", nil) })
	deadline := time.Now().Add(5 * time.Second)
	for limiter.InFlight() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	resp, _ := get(t, f.URL+"/visitor/api/entries", nil) // a miss
	want(resp, http.StatusServiceUnavailable, "web-1; detail=shed")
	resp, _ = get(t, f.URL+"/visitor/visitor_list/", map[string]string{"Authorization": "Bearer x"}) // a bypass
	want(resp, http.StatusServiceUnavailable, "web-1; detail=shed")
	held.Wait()
	// No upstream: the app gone, and the pool knows it.
	app.Close()
	f.checkAll(t)
	resp, _ = get(t, f.URL+"/visitor/visitor_detail/1", nil) // never seen: nothing stands in
	want(resp, http.StatusBadGateway, "web-1; detail=no-upstream")
	// Rate-limited: the burst of 4 is spent (the held request and the three
	// above), and the bucket refills once in 1000 s.
	resp, _ = get(t, f.URL+"/visitor/", nil)
	want(resp, http.StatusTooManyRequests, "web-1; detail=rate-limited")
}
