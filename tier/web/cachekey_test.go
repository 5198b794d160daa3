package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/guestbook/guestbook/tier/hops"
	"github.com/guestbook/guestbook/tier/web"
)

// The app tier names on each answer a cache may keep the query parameters
// it reads, and nothing on the pages that read none: the web tier's cache
// keys by what the answer names, not by a list of its own.
func TestTheAppTierNamesTheParametersEachPublicAnswerIsKeyedBy(t *testing.T) {
	app := newCountedApp(t, "app-1")
	for _, tt := range []struct{ uri, want string }{
		{"/visitor/visitor_list/", "before"},
		{"/visitor/visitor_list/?before=100", "before"},
		{"/visitor/api/entries?limit=5", "before, limit"},
		{"/visitor/", ""},
	} {
		resp, _ := get(t, app.URL+tt.uri, nil)
		if got := resp.Header.Get(hops.HeaderCacheKey); got != tt.want || !strings.Contains(resp.Header.Get("Cache-Control"), "public") {
			t.Errorf("GET %s: %s %q (Cache-Control %q), want %q on a public answer", tt.uri, hops.HeaderCacheKey, got,
				resp.Header.Get("Cache-Control"), tt.want)
		}
	}
	// The note that an entry waits for approval is its author's: not kept,
	// and waiting no parameter to key by.
	resp, _ := get(t, app.URL+"/visitor/visitor_list/?waiting=1", nil)
	if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get(hops.HeaderCacheKey) != "" {
		t.Errorf("the list with the author's note: Cache-Control %q, %s %q; want no-store and none",
			resp.Header.Get("Cache-Control"), hops.HeaderCacheKey, resp.Header.Get(hops.HeaderCacheKey))
	}
}

// Through the web tier a request is keyed by the parameters its page
// names, in one order; any other parameter sends it past the cache; and a
// path the cache has not seen goes upstream to learn them.
func TestARequestIsKeyedByTheParametersItsPageNamesAndByNoOther(t *testing.T) {
	app := newCountedApp(t, "app-1")
	f := newCachingFront(t, nil, app)
	steps := []struct{ uri, want string }{
		// Not seen yet: the API's list goes upstream, learns, and keeps.
		{"/visitor/api/entries?limit=5&before=100", "fwd=miss; fwd-status=200; stored"},
		{"/visitor/api/entries?before=100&limit=5", "hit"}, // one order
		{"/visitor/api/entries?limit=5&x=1", "fwd=bypass; detail=query"},
		{"/visitor/api/entries?limit=5&limit=6", "fwd=bypass; detail=query"},
		// Not seen yet, with a parameter it does not read: not kept, but
		// the page read without it is, and from then on ?x= goes past.
		{"/visitor/?x=1", "fwd=miss; fwd-status=200"},
		{"/visitor/?x=1", "fwd=miss; fwd-status=200"},
		{"/visitor/", "fwd=miss; fwd-status=200; stored"},
		{"/visitor/?x=1", "fwd=bypass; detail=query"},
		{"/visitor/?before=1", "fwd=bypass; detail=query"}, // the home reads none
		{"/visitor/", "hit"},
		// The list reads before, not limit, nor the author's waiting.
		{"/visitor/visitor_list/", "fwd=miss; fwd-status=200; stored"},
		{"/visitor/visitor_list/?before=100", "fwd=miss; fwd-status=200; stored"},
		{"/visitor/visitor_list/?before=100", "hit"},
		{"/visitor/visitor_list/?limit=5", "fwd=bypass; detail=query"},
		{"/visitor/visitor_list/?waiting=1", "fwd=bypass; detail=query"},
	}
	for _, s := range steps {
		resp, _ := get(t, f.URL+s.uri, nil)
		if got := cacheStatus(resp); got != "web-1; "+s.want && !strings.HasPrefix(got, "web-1; "+s.want+"; ttl=") {
			t.Errorf("GET %s: Cache-Status %q, want %q", s.uri, got, "web-1; "+s.want)
		}
	}
	if got := app.count("GET /visitor/?x=1"); got != 3 {
		t.Errorf("/visitor/?x=1 reached the app %d times, want every time (3)", got)
	}
}

// An app tier upgraded to read other parameters names them, and the new
// list wins: what the old one keyed by goes past the cache once the page
// is refilled, and what the new one reads is keyed. (What the cache knows
// of a path lives with its entries: the page without a query keeps it.)
func TestWhenTheAppNamesOtherParametersTheNewListWins(t *testing.T) {
	app := newCountedApp(t, "app-1")
	f := newCachingFront(t, func(o *web.CacheOptions) { o.StaleWhileRevalidate = 0 }, app)
	get(t, f.URL+"/visitor/api/entries", nil)
	get(t, f.URL+"/visitor/api/entries?limit=5", nil)
	if resp, _ := get(t, f.URL+"/visitor/api/entries?limit=5", nil); !strings.Contains(cacheStatus(resp), "hit") {
		t.Fatalf("?limit=5 before the upgrade: Cache-Status %q, want a hit", cacheStatus(resp))
	}
	upgraded := "before, sort"
	app.keyedBy.Store(&upgraded)
	time.Sleep(1100 * time.Millisecond) // past app.cache_ttl: the next ?limit=5 refills
	resp, _ := get(t, f.URL+"/visitor/api/entries?limit=5", nil)
	if got := cacheStatus(resp); strings.Contains(got, "stored") || !strings.Contains(got, "fwd=miss") {
		t.Errorf("the refill after the upgrade: Cache-Status %q, want a miss not kept (limit is no longer named)", got)
	}
	for _, s := range []struct{ uri, want string }{
		{"/visitor/api/entries?limit=5", "fwd=bypass; detail=query"},
		{"/visitor/api/entries?sort=new", "fwd=miss; fwd-status=200; stored"},
		{"/visitor/api/entries?sort=new", "; hit"},
	} {
		resp, _ := get(t, f.URL+s.uri, nil)
		if !strings.Contains(cacheStatus(resp), s.want) {
			t.Errorf("GET %s after the upgrade: Cache-Status %q, want %q in it", s.uri, cacheStatus(resp), s.want)
		}
	}
	if resp.StatusCode != http.StatusOK {
		t.Errorf("the refill after the upgrade: %d, want 200", resp.StatusCode)
	}
}
