package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The web tier's cache on the topology: each web instance keeps its own,
// behind the balancer. appCacheTTL is app.cache_ttl (its default), and
// visibleWithin the bound a reader waits for what another wrote: the TTL,
// the replica's lag (milliseconds here) and a refresh's round trip.
const (
	appCacheTTL   = time.Second
	visibleWithin = appCacheTTL + 2*time.Second
)

// reader is a visitor without cookies, as most readers are: its pages may
// come from the cache. Every request opens a connection of its own, so
// that the balancer in front spreads it over both web instances.
func reader(tp *topology) *visitor {
	v := newVisitor(tp.base, true)
	v.hc.Jar = nil
	return v
}

// warm reads path until both web instances have kept it.
func warm(t *testing.T, v *visitor, path string) {
	t.Helper()
	kept := map[string]bool{}
	deadline := time.Now().Add(10 * time.Second)
	for len(kept) < 2 {
		r := v.mustGet(t, path, http.StatusOK)
		if cs := r.header.Get("Cache-Status"); strings.Contains(cs, "stored") || strings.Contains(cs, "; hit") {
			kept[hopName(r.header, "Guestbook-Web")] = true
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is kept by %v after 10s, want both web instances", path, kept)
		}
	}
}

// within polls path for v until ok says yes, and fails past the bound.
func within(t *testing.T, v *visitor, path, what string, ok func(response) bool) {
	t.Helper()
	start := time.Now()
	for {
		r, err := v.get(path)
		if err == nil && ok(r) {
			t.Logf("%s after %s", what, time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Since(start) > visibleWithin {
			t.Fatalf("%s: not after %s (last %d, Cache-Status %q)", what, visibleWithin, r.status, r.header.Get("Cache-Status"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestANewOrDeletedEntryReachesItsAuthorAtOnceAndOthersWithinTheTTL(t *testing.T) {
	tp := startTopology(t, topologyOptions{})
	others, author := reader(tp), newVisitor(tp.base, false)
	const list = "/visitor/visitor_list/"
	warm(t, others, list)

	l := newLedger()
	marker, r, err := author.write(l, "캐시를 지나")
	if err != nil || r.status != http.StatusSeeOther {
		t.Fatalf("write: %d %v", r.status, err)
	}
	mine := author.mustGet(t, list, http.StatusOK)
	if !strings.Contains(mine.body, marker) {
		t.Fatalf("the author's list lacks the entry just written (Cache-Status %q)", mine.header.Get("Cache-Status"))
	}
	within(t, others, list, "the new entry on another reader's list", func(r response) bool { return strings.Contains(r.body, marker) })

	id := strconv.FormatInt(entryWith(t, mine.body, marker), 10)
	detail := "/visitor/visitor_detail/" + id
	warm(t, others, detail)
	r, err = author.postForm("/visitor/visitor_delete/"+id, url.Values{})
	if err != nil || r.status != http.StatusSeeOther {
		t.Fatalf("delete: %d %v", r.status, err)
	}
	author.mustGet(t, detail, http.StatusNotFound)
	if strings.Contains(author.mustGet(t, list, http.StatusOK).body, marker) {
		t.Error("the author's list still has the entry just deleted")
	}
	within(t, others, detail, "the deleted entry's detail 404 for another reader", func(r response) bool { return r.status == http.StatusNotFound })
	within(t, others, list, "the deleted entry gone from another reader's list", func(r response) bool {
		return r.status == http.StatusOK && !strings.Contains(r.body, marker)
	})
}

func TestWithTheAppTierKilledThePagesVisitorsSawStayReadable(t *testing.T) {
	tp := startTopology(t, topologyOptions{})
	v := reader(tp)
	pages := []string{"/visitor/visitor_list/", fmt.Sprintf("/visitor/visitor_detail/%d", tp.first), "/visitor/api/entries?limit=5"}
	for _, p := range pages {
		warm(t, v, p)
	}
	writer := newVisitor(tp.base, false)
	form := writer.signed(t, entryForm("방문객", "visitor@example.com", "앱 티어 없이"))

	for _, app := range tp.apps {
		app.signal(t, syscall.SIGKILL)
	}
	time.Sleep(appCacheTTL + 500*time.Millisecond) // every kept page is stale now
	for i := range 12 {
		p := pages[i%len(pages)]
		r := v.mustGet(t, p, http.StatusOK)
		// Within web.cache_stale_while_revalidate it is served while its
		// refresh fails (detail=revalidating), after it in place of the
		// failure (detail=stale-if-error): stale, and 200, either way.
		if cs := r.header.Get("Cache-Status"); !strings.Contains(cs, "fwd=stale") {
			t.Errorf("GET %s with the app tier killed: Cache-Status %q, want a stale serve", p, cs)
		}
		if !strings.HasPrefix(p, "/visitor/api/") && !strings.Contains(r.body, "from its cache") {
			t.Errorf("GET %s: the stale page's footer does not say it came from the cache", p)
		}
	}
	if r, _ := v.get("/visitor/visitor_list/?before=1"); r.status != http.StatusBadGateway {
		t.Errorf("a page never seen with the app tier killed: %d, want 502", r.status)
	}
	if r, err := writer.postForm("/visitor/visitor_create/", form); err != nil || (r.status != http.StatusBadGateway && r.status != http.StatusServiceUnavailable) {
		t.Errorf("a write with the app tier killed: %d %v, want 502 or 503", r.status, err)
	}
	r, err := writer.do("POST", "/visitor/api/entries", strings.NewReader(`{"name":"n","email":"e@example.com","content":"c"}`),
		http.Header{"Content-Type": {"application/json"}})
	if err != nil || (r.status != http.StatusBadGateway && r.status != http.StatusServiceUnavailable) || r.header.Get("Cache-Status") == "" {
		t.Errorf("an API write with the app tier killed: %d %v (Cache-Status %q), want 502 or 503", r.status, err, r.header.Get("Cache-Status"))
	}
}

// TestWithTheReplicaCutEveryAcknowledgedWriteUnderLoadReachesOtherReaders
// cuts the replica off (reads move to the primary), then writes while
// readers load the list through both web instances and their caches: every
// write acknowledged is on another reader's list within the bound, and
// stored exactly once.
func TestWithTheReplicaCutEveryAcknowledgedWriteUnderLoadReachesOtherReaders(t *testing.T) {
	tp := startTopology(t, topologyOptions{})
	const list = "/visitor/visitor_list/"
	others := reader(tp)
	warm(t, others, list)
	tp.cutOff(t, "db-2")
	time.Sleep(5 * dbHealthInterval) // the app tier has found it gone

	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 4 { // the load: readers of the list, through the caches
		readers.Go(func() {
			v := reader(tp)
			for {
				select {
				case <-stop:
					return
				default:
					v.get(list)
				}
			}
		})
	}
	l := newLedger()
	acked := 0
	writer := newVisitor(tp.base, false)
	for i := range 6 { // fewer than a list page holds
		marker, r, err := writer.write(l, fmt.Sprintf("복제본 없이 %d", i))
		if err != nil || r.status != http.StatusSeeOther {
			continue
		}
		acked++
		// From the moment it is acknowledged: the bound runs from here.
		within(t, others, list, "acknowledged write "+marker+" on another reader's list", func(r response) bool {
			return r.status == http.StatusOK && strings.Contains(r.body, marker)
		})
	}
	close(stop)
	readers.Wait()
	if acked < 5 {
		t.Errorf("%d of 6 writes acknowledged with the replica cut, want nearly all: the primary is up", acked)
	}
	l.check(t, tp.primary, "primary")
}
