package web_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guestbook/guestbook/internal/admission"
	"github.com/guestbook/guestbook/internal/httpcheck"
	"github.com/guestbook/guestbook/tier/hops"
	"github.com/guestbook/guestbook/tier/web"
)

// Past its own limit the web tier refuses /visitor/ at once with 503 and
// Retry-After, before the upstream sees the request; its home page, static
// files and health checks are never refused; afterwards it serves again.
func TestPastItsLimitTheWebTierRefusesAtOnceButNeverItsOwnPagesOrHealth(t *testing.T) {
	var delay atomic.Int64
	delay.Store(int64(time.Second))
	up := slowEcho(t, "up", &delay)
	pool, err := web.NewPool([]string{up.URL}, time.Second, httpcheck.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	s, err := web.New(web.Options{Instance: testInstance, Version: "test", Log: httpcheck.Logger(t),
		Upstreams: pool, Admission: admission.New(2, 2, 2), TryTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)

	var wg sync.WaitGroup
	statuses := make([]int, 6)
	for i := range statuses {
		wg.Go(func() {
			path := "/visitor/"
			if i%2 == 1 {
				path = "/visitor/api/entries"
			}
			resp, body := httpcheck.Do(t, http.DefaultClient, httpcheck.NewRequest(t, "GET", srv.URL+path, nil))
			statuses[i] = resp.StatusCode
			if resp.StatusCode == http.StatusServiceUnavailable {
				if resp.Header.Get("Retry-After") != "1" {
					t.Errorf("a refusal without Retry-After: 1: %v", resp.Header)
				}
				if strings.HasPrefix(path, "/visitor/api/") != strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
					t.Errorf("GET %s refused as %s", path, resp.Header.Get("Content-Type"))
				}
				if !strings.Contains(body, "Too many requests") && !strings.Contains(body, "요청이 너무 많") {
					t.Errorf("a refusal that does not say why: %q", short(body))
				}
			}
		})
	}
	time.Sleep(100 * time.Millisecond)
	for _, path := range []string{"/", "/favicon.ico", "/healthz", "/readyz"} {
		start := time.Now()
		resp, _ := httpcheck.Do(t, http.DefaultClient, httpcheck.NewRequest(t, "GET", srv.URL+path, nil))
		if resp.StatusCode != http.StatusOK || time.Since(start) > 500*time.Millisecond {
			t.Errorf("GET %s during the burst: %d in %v, want 200 at once", path, resp.StatusCode, time.Since(start))
		}
	}
	wg.Wait()
	refused := 0
	for _, st := range statuses {
		switch st {
		case http.StatusOK:
		case http.StatusServiceUnavailable:
			refused++
		default:
			t.Errorf("status %d, want 200 or 503", st)
		}
	}
	if refused == 0 || refused == len(statuses) {
		t.Errorf("%d of %d refused, want those past the limit of 2", refused, len(statuses))
	}
	delay.Store(0)
	if resp, _ := httpcheck.Do(t, http.DefaultClient, httpcheck.NewRequest(t, "GET", srv.URL+"/visitor/", nil)); resp.StatusCode != http.StatusOK {
		t.Errorf("after the burst: %d, want 200", resp.StatusCode)
	}
}

// shedding is an upstream over its limit: every request but its health
// check is refused with the app tier's Guestbook-Shed mark.
func shedding(t *testing.T, seen *atomic.Int32) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			io.WriteString(w, "ok\n")
			return
		}
		seen.Add(1)
		w.Header().Set(hops.HeaderShed, "concurrency")
		w.Header().Set("Retry-After", "1")
		http.Error(w, `{"error":"too many"}`, http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// An upstream's refusal for want of capacity did nothing, so the request,
// even a write without a key, goes to another upstream; the refusing one is
// not taken out of the rotation; when every upstream refuses, the client
// gets the refusal and its Retry-After.
func TestARequestAnUpstreamShedIsSentToAnotherAndOnlyEveryRefusalReachesTheClient(t *testing.T) {
	var shedSeen atomic.Int32
	busy, good := shedding(t, &shedSeen), newEcho(t, "good")
	f := newFront(t, nil, busy.URL, good.URL)
	c := client(t)
	for i := range 4 {
		body := form(fmt.Sprintf("w%d", i))
		r := roundTrip(t, c, newRequest(t, "POST", f.URL+"/visitor/visitor_create/", body, "Content-Type", "application/x-www-form-urlencoded"))
		if r.StatusCode != http.StatusOK || r.body != "good" {
			t.Errorf("write %d: %d %q, want it answered by the upstream that had room", i, r.StatusCode, short(r.body))
		}
	}
	if shedSeen.Load() == 0 {
		t.Fatal("no write went to the shedding upstream first: the test proved nothing")
	}
	if got := f.available(); !got[0] {
		t.Error("an upstream that refused for want of capacity left the rotation")
	}

	var seen2 atomic.Int32
	allBusy := newFront(t, nil, shedding(t, &seen2).URL, shedding(t, &seen2).URL)
	r := roundTrip(t, c, newRequest(t, "GET", allBusy.URL+"/visitor/api/entries", ""))
	if r.StatusCode != http.StatusServiceUnavailable || r.Header.Get("Retry-After") != "1" {
		t.Errorf("every upstream shedding: %d, Retry-After %q; want 503 and 1", r.StatusCode, r.Header.Get("Retry-After"))
	}
	if seen2.Load() != 2 {
		t.Errorf("the two shedding upstreams saw %d attempts, want one each", seen2.Load())
	}
}

// A keyed write whose first attempt was too late may have been stored by
// then: if the upstream it is sent to next refuses it, the client must hear
// that its write's fate is unknown (504), not the refusal's "nothing was
// done".
func TestARefusalAfterALateAttemptIsNotPassedOnAsNothingDone(t *testing.T) {
	var seen atomic.Int32
	f := newFrontTrying(t, try, nil, frozenURL(t), shedding(t, &seen).URL)
	c := client(t)
	for i := range 2 { // equal upstreams alternate: one of the two goes to the frozen one first
		body := form(fmt.Sprint(i)) + fmt.Sprintf("&idempotency_key=k%d", i)
		r := roundTrip(t, c, newRequest(t, "POST", f.URL+"/visitor/api/entries", body, "Content-Type", "application/x-www-form-urlencoded"))
		if f.available()[0] {
			if r.StatusCode != http.StatusServiceUnavailable {
				t.Errorf("write %d, refused by the only upstream tried: %d, want its 503", i, r.StatusCode)
			}
			continue
		}
		if r.StatusCode != http.StatusGatewayTimeout {
			t.Errorf("write %d, late at the first upstream and refused at the second: %d, want 504", i, r.StatusCode)
		}
		return
	}
	t.Fatal("no write went to the frozen upstream first: the test proved nothing")
}
