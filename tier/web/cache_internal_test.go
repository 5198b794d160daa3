package web

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestLifetimeKeepsWhatASharedCacheMayStoreByRFC9111(t *testing.T) {
	tests := []struct {
		name   string
		status int
		header []string
		want   time.Duration
		ok     bool
	}{
		{"public with s-maxage", 200, []string{"Cache-Control", "public, s-maxage=1"}, time.Second, true},
		{"s-maxage over max-age", 200, []string{"Cache-Control", "max-age=60, s-maxage=2"}, 2 * time.Second, true},
		{"max-age alone", 200, []string{"Cache-Control", "max-age=3"}, 3 * time.Second, true},
		{"a 404 that says so", 404, []string{"Cache-Control", "s-maxage=1"}, time.Second, true},
		{"nothing said", 200, nil, 0, false},
		{"no-store", 200, []string{"Cache-Control", "no-store"}, 0, false},
		{"private", 200, []string{"Cache-Control", "private, s-maxage=5"}, 0, false},
		{"no-cache", 200, []string{"Cache-Control", "no-cache, s-maxage=5"}, 0, false},
		{"s-maxage=0", 200, []string{"Cache-Control", "public, s-maxage=0"}, 0, false},
		{"a bad age", 200, []string{"Cache-Control", "s-maxage=soon"}, 0, false},
		{"a cookie", 200, []string{"Cache-Control", "public, s-maxage=1", "Set-Cookie", "a=b"}, 0, false},
		{"Vary: *", 200, []string{"Cache-Control", "s-maxage=1", "Vary", "*"}, 0, false},
		{"Vary on a header the key lacks", 200, []string{"Cache-Control", "s-maxage=1", "Vary", "Accept-Encoding"}, 0, false},
		{"Vary the key covers", 200, []string{"Cache-Control", "s-maxage=1", "Vary", "Accept-Language, Cookie", "Vary", "Authorization"}, time.Second, true},
		{"a 500", 500, []string{"Cache-Control", "s-maxage=1"}, 0, false},
		{"a 206", 206, []string{"Cache-Control", "s-maxage=1"}, 0, false},
	}
	for _, tt := range tests {
		h := http.Header{}
		for i := 0; i+1 < len(tt.header); i += 2 {
			h.Add(tt.header[i], tt.header[i+1])
		}
		got, ok := lifetime(tt.status, h)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: lifetime = %s, %v; want %s, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestMustRevalidateForbidsServingStale(t *testing.T) {
	if allowsStale(http.Header{"Cache-Control": {"s-maxage=1, must-revalidate"}}) {
		t.Error("must-revalidate allows stale")
	}
	if !allowsStale(http.Header{"Cache-Control": {"public, s-maxage=1"}}) {
		t.Error("a plain public answer does not allow stale")
	}
}

func entryOf(path string, bodySize int) *cacheEntry {
	c := newCaptured(1 << 20)
	c.status = 200
	c.header.Set("Cache-Control", "public, s-maxage=1")
	c.body.WriteString(strings.Repeat("x", bodySize))
	return newCacheEntry(cacheKey{path: path, lang: "ko"}, c, time.Now(), time.Second, nil)
}

func TestTheStoreStaysWithinItsSizeDroppingTheLeastRecentlyUsed(t *testing.T) {
	s := newCacheStore(256 << 10)
	a, b := entryOf("/a", 20<<10), entryOf("/b", 20<<10)
	if !s.put(a) || !s.put(b) {
		t.Fatal("entries under an eighth of the cache were not kept")
	}
	s.get(a.key)       // a used since b
	for i := range 7 { // one more than the room left: b must go, and only b
		s.put(entryOf("/n"+strings.Repeat("x", i), 31<<10))
	}
	entries, used, evictions := s.stats()
	if used > 256<<10 || evictions == 0 {
		t.Fatalf("%d entries hold %d bytes with %d evictions: want at most %d, some evicted", entries, used, evictions, 256<<10)
	}
	if s.get(b.key) != nil {
		t.Error("the entry used least recently is still there")
	}
	if s.get(a.key) == nil {
		t.Error("an entry used since was dropped before the least recently used")
	}
}

func TestAnEntryCountsItsKeyAndHeadersAndABigOneIsNotKept(t *testing.T) {
	e := entryOf("/visitor/visitor_list/", 100)
	if min := int64(100 + len("/visitor/visitor_list/") + len("Cache-Control") + len("public, s-maxage=1")); e.size <= min {
		t.Errorf("an entry of %d body bytes costs %d, want more than its bytes, key and headers (%d)", 100, e.size, min)
	}
	s := newCacheStore(64 << 10)
	if s.put(entryOf("/big", 9<<10)) {
		t.Error("an entry over an eighth of the cache was kept")
	}
}

// A miss says "stored" by storable, before the body has come; the store
// then keeps it by the entry's size. The two must agree, or a page is
// said to be stored on every request and never kept.
func TestWhatAMissSaysItStoredIsWhatTheStoreKeeps(t *testing.T) {
	c := newMicroCache(CacheOptions{Size: 64 << 10}, nil, "web-1", time.Second, nil) // an entry at most 8 KiB
	for _, tt := range []struct {
		contentType string
		size        int
	}{
		{"text/html; charset=utf-8", 2 << 10},
		{"text/html; charset=utf-8", 5 << 10}, // twice over (its rendition) is past 8 KiB
		{"application/json", 5 << 10},
		{"application/json", 9 << 10},
	} {
		a := newCaptured(1 << 20)
		a.status = 200
		a.header.Set("Cache-Control", "public, s-maxage=1")
		a.header.Set("Content-Type", tt.contentType)
		a.header.Set("Content-Length", strconv.Itoa(tt.size))
		a.body.WriteString(strings.Repeat("x", tt.size))
		key := cacheKey{path: "/visitor/visitor_list/", lang: "en"}
		said := c.storable(key, a.status, a.header)
		kept := c.store.put(newCacheEntry(key, a, time.Now(), time.Second, nil))
		if said != kept {
			t.Errorf("%s of %d bytes: the miss says stored %v, the store kept it %v", tt.contentType, tt.size, said, kept)
		}
	}
}
