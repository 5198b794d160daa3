package e2e

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guestbook/guestbook/tier/hops"
)

// TestTheWriteLimitIsExactAcrossInstancesAndEndsWithItsWindow: one client
// writes through two web instances and two app instances at once, and
// exactly app.write_limit of its entries are stored in the window; a
// spoofed X-Forwarded-For through the web instance that trusts nobody does
// not make it someone else, while behind the one that trusts it as a proxy
// each real client it names has a limit of its own; once the window has
// passed the client writes again.
func TestTheWriteLimitIsExactAcrossInstancesAndEndsWithItsWindow(t *testing.T) {
	const limit, window = 3, 3 * time.Second
	tp := startTopology(t, topologyOptions{writeLimit: limit, writeWindow: window, web1TrustsClient: true})
	webs := []*visitor{newVisitor("http://"+tp.webs[0].addr, true), newVisitor("http://"+tp.webs[1].addr, true)}
	time.Sleep(window) // the topology's first entry, from this client too, leaves the window

	create := func(v *visitor, content string, header ...string) response {
		t.Helper()
		h := http.Header{"Content-Type": {"application/json"}}
		for i := 0; i+1 < len(header); i += 2 {
			h.Set(header[i], header[i+1])
		}
		r, err := v.do("POST", "/visitor/api/entries",
			strings.NewReader(fmt.Sprintf(`{"name":"한도","email":"limit@example.com","content":%q}`, content)), h)
		if err != nil {
			t.Fatalf("create %q: %v", content, err)
		}
		return r
	}
	stored := func(prefix string) int {
		t.Helper()
		n, err := strconv.Atoi(tp.primary.QueryString(t, "SELECT COUNT(*) FROM "+dbName+".entries WHERE content LIKE '"+prefix+"%'"))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	wantRefused := func(r response, what string) {
		t.Helper()
		secs, err := strconv.Atoi(r.header.Get("Retry-After"))
		if r.status != http.StatusTooManyRequests || err != nil || secs < 1 || secs > int(window/time.Second) {
			t.Errorf("%s: %d with Retry-After %q, want 429 and 1 to %d seconds; body %s",
				what, r.status, r.header.Get("Retry-After"), int(window/time.Second), excerpt(r.body))
		}
	}

	// A burst of twelve creates at once, half through each web instance.
	const burst = 12
	results := make([]response, burst)
	var wg sync.WaitGroup
	for i := range burst {
		wg.Go(func() { results[i] = create(webs[i%2], fmt.Sprintf("wl-burst-%d", i)) })
	}
	wg.Wait()
	created, apps := 0, map[string]bool{}
	for i, r := range results {
		apps[strings.SplitN(r.header.Get(hops.HeaderApp), ";", 2)[0]] = true
		if r.status == http.StatusCreated {
			created++
			continue
		}
		wantRefused(r, fmt.Sprintf("burst create %d", i))
	}
	if created != limit || stored("wl-burst-") != limit {
		t.Fatalf("%d of %d creates at once answered 201 and %d stored, want exactly %d", created, burst, stored("wl-burst-"), limit)
	}
	t.Logf("the burst was answered by app instances %v", apps)

	// A client's own X-Forwarded-For at the web instance that trusts nobody
	// is replaced: it is still this client, over its limit.
	wantRefused(create(webs[1], "wl-spoof-1", "X-Forwarded-For", "203.0.113.50"), "a spoofed X-Forwarded-For at web-2")
	wantRefused(create(webs[1], "wl-spoof-2", "X-Forwarded-For", "203.0.113.51", "X-Real-Ip", "203.0.113.51"), "a spoofed X-Real-Ip at web-2")

	// Behind web-1, which trusts this client as its load balancer, each
	// client it names is counted for itself.
	for i := range limit {
		if r := create(webs[0], fmt.Sprintf("wl-proxied-a-%d", i), "X-Forwarded-For", "203.0.113.7"); r.status != http.StatusCreated {
			t.Errorf("create %d of client 203.0.113.7 behind a trusted proxy: %d, want 201; body %s", i, r.status, excerpt(r.body))
		}
	}
	wantRefused(create(webs[0], "wl-proxied-a-over", "X-Forwarded-For", "203.0.113.7"), "client 203.0.113.7 past its limit")
	if r := create(webs[0], "wl-proxied-b-0", "X-Forwarded-For", "203.0.113.8"); r.status != http.StatusCreated {
		t.Errorf("client 203.0.113.8 behind a trusted proxy: %d, want 201; body %s", r.status, excerpt(r.body))
	}
	if n := stored("wl-spoof-") + stored("wl-proxied-a-over"); n != 0 {
		t.Errorf("%d refused creates were stored", n)
	}

	// Once the window has passed, the client writes again.
	r := create(webs[1], "wl-again-refused")
	wantRefused(r, "the client still in its window")
	wait, _ := strconv.Atoi(r.header.Get("Retry-After"))
	time.Sleep(time.Duration(wait) * time.Second)
	for i := range 2 {
		if r := create(webs[i], fmt.Sprintf("wl-again-%d", i)); r.status != http.StatusCreated {
			t.Errorf("create after Retry-After through web-%d: %d, want 201; body %s", i+1, r.status, excerpt(r.body))
		}
	}
}
