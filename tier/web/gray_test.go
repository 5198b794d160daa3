package web_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guestbook/guestbook/tier/hops"
)

// frozenURL is an upstream that accepts connections and never answers, as
// a process stopped with SIGSTOP: the kernel completes each handshake into
// the listen queue and nobody reads.
func frozenURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return "http://" + l.Addr().String()
}

const try = 200 * time.Millisecond

// timed sends req and returns its answer and how long it took.
func timed(t *testing.T, c *http.Client, req *http.Request) (result, time.Duration) {
	t.Helper()
	start := time.Now()
	r := roundTrip(t, c, req)
	return r, time.Since(start)
}

func TestAFrozenUpstreamCostsAGetOneTryAndLeavesTheRotation(t *testing.T) {
	good := newEcho(t, "good")
	f := newFrontTrying(t, try, nil, frozenURL(t), good.URL)
	c := client(t)
	for i := range 4 {
		r, took := timed(t, c, newRequest(t, "GET", f.URL+fmt.Sprintf("/visitor/visitor_detail/%d", i), ""))
		if r.StatusCode != http.StatusOK || r.body != "good" {
			t.Fatalf("GET %d: %d %q, want 200 from the good upstream", i, r.StatusCode, short(r.body))
		}
		if took > try+300*time.Millisecond {
			t.Errorf("GET %d took %v, want at most one try (%v) and a margin", i, took, try)
		}
	}
	if got := f.available(); !slices.Equal(got, []bool{false, true}) {
		t.Errorf("available = %v, want the frozen upstream out of the rotation after its first late answer", got)
	}
	if got := f.pool.Describe()[0]; got.Failures == 0 {
		t.Errorf("the frozen upstream counts no failure: %+v", got)
	}
	// Its health check fails too (it answers nothing), so it stays out.
	f.checkAll(t)
	if got := f.available(); got[0] {
		t.Error("a frozen upstream passed a health check")
	}
}

func TestTheAppTierIsToldTheAttemptsBudget(t *testing.T) {
	up := newEcho(t, "up")
	f := newFrontTrying(t, try, nil, up.URL)
	roundTrip(t, client(t), newRequest(t, "GET", f.URL+"/visitor/", "", hops.HeaderTimeout, "999999"))
	seen := up.requests()
	if got := seen[0].header.Get(hops.HeaderTimeout); got != "200" {
		t.Errorf("%s = %q, want 200 (web.try_timeout in ms; a client's own value replaced)", hops.HeaderTimeout, got)
	}
}

// A write may go to another upstream after its first was too late only
// when its idempotency key makes the repeat harmless; one without a key
// answers 504 and is never sent again.
func TestAKeyedWriteToAFrozenUpstreamIsSentToAnotherAndAnUnkeyedOneIsNot(t *testing.T) {
	const formPath, apiPath = "/visitor/visitor_create/", "/visitor/api/entries"
	tests := []struct {
		name   string
		path   string
		body   func(i int) string
		header []string
		keyed  bool
	}{
		{"form with idempotency_key", formPath, func(i int) string { return form(fmt.Sprint(i)) + fmt.Sprintf("&idempotency_key=k%d", i) },
			[]string{"Content-Type", "application/x-www-form-urlencoded"}, true},
		{"API with Idempotency-Key", apiPath, func(i int) string { return fmt.Sprintf(`{"content":"%d"}`, i) },
			[]string{"Content-Type", "application/json", "Idempotency-Key", "k"}, true},
		{"form without a key", formPath, func(i int) string { return form(fmt.Sprint(i)) },
			[]string{"Content-Type", "application/x-www-form-urlencoded"}, false},
		{"API without a key", apiPath, func(i int) string { return fmt.Sprintf(`{"content":"%d"}`, i) },
			[]string{"Content-Type", "application/json"}, false},
		// The form's route honours only its field: a header there is no
		// key, and the app tier would store each copy.
		{"form with only an Idempotency-Key header", formPath, func(i int) string { return form(fmt.Sprint(i)) },
			[]string{"Content-Type", "application/x-www-form-urlencoded", "Idempotency-Key", "k"}, false},
		// The API's create honours only its header.
		{"API with only an idempotency_key in its body", apiPath, func(i int) string { return fmt.Sprintf("idempotency_key=k%d", i) },
			[]string{"Content-Type", "application/x-www-form-urlencoded"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			good := newEcho(t, "good")
			f := newFrontTrying(t, try, nil, frozenURL(t), good.URL)
			c := client(t)
			// Equal upstreams alternate: one of the first two writes
			// goes to the frozen one first.
			for i := range 2 {
				body := tt.body(i)
				r, took := timed(t, c, newRequest(t, "POST", f.URL+tt.path, body, tt.header...))
				sentToGood := slices.ContainsFunc(good.requests(), func(s seenRequest) bool { return s.body == body })
				switch {
				case r.StatusCode == http.StatusOK && sentToGood:
					// answered by the good upstream: first, or after the frozen one was too late
				case r.StatusCode == http.StatusGatewayTimeout && !tt.keyed && !sentToGood:
					if took > try+300*time.Millisecond {
						t.Errorf("the 504 took %v, want one try (%v) and a margin", took, try)
					}
				default:
					t.Errorf("write %d (keyed %v): status %d, sent to the good upstream %v", i, tt.keyed, r.StatusCode, sentToGood)
				}
				if tt.keyed && r.StatusCode != http.StatusOK {
					t.Errorf("keyed write %d answered %d, want 200 from the good upstream", i, r.StatusCode)
				}
			}
			if got := f.available(); got[0] {
				t.Fatal("no write went to the frozen upstream first: the test proved nothing")
			}
		})
	}
}

// slowEcho is an echo whose answers take delay while it is set.
func slowEcho(t *testing.T, name string, delay *atomic.Int64) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			time.Sleep(time.Duration(delay.Load()))
		}
		io.WriteString(w, name)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// An upstream that turns slow but still answers stays in the rotation and
// gets little of the traffic; once fast again, and once its estimate has
// decayed (the pool's clock is moved on rather than waited for), it gets
// its share back.
func TestASlowUpstreamGetsLittleTrafficAndItsShareBackWhenFast(t *testing.T) {
	var delay atomic.Int64
	slow := slowEcho(t, "slow", &delay)
	fast := slowEcho(t, "fast", new(atomic.Int64))
	f := newFrontTrying(t, time.Second, nil, slow.URL, fast.URL)
	f.pool.SetRand(rand.New(rand.NewPCG(1, 2)).IntN)
	var skew atomic.Int64
	f.pool.SetClock(func() time.Time { return time.Now().Add(time.Duration(skew.Load())) })
	c := client(t)
	share := func(n int) float64 {
		slowCount := 0
		for range n {
			r := roundTrip(t, c, newRequest(t, "GET", f.URL+"/visitor/", ""))
			if r.StatusCode != http.StatusOK {
				t.Fatalf("status %d", r.StatusCode)
			}
			if r.body == "slow" {
				slowCount++
			}
		}
		return float64(slowCount) / float64(n)
	}

	delay.Store(int64(150 * time.Millisecond))
	if got := share(40); got > 0.10 {
		t.Errorf("while slow by 150ms, the upstream got %.0f%% of requests, want under 10%%", 100*got)
	}
	if got := f.available(); !got[0] {
		t.Error("a slow upstream that answers left the rotation")
	}
	delay.Store(0)
	skew.Add(int64(30 * time.Second)) // as if half a minute had passed
	if got := share(40); got < 0.35 {
		t.Errorf("once fast again, the upstream got %.0f%% of requests, want about half", 100*got)
	}
}

// An app instance that answers 503 because its database is unavailable is
// answering: it stays in the rotation, and a write it refused is not sent
// to another instance.
func TestAnUpstreamThatAnswers503StaysInTheRotationAndIsNotRetried(t *testing.T) {
	var posts atomic.Int32
	busy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			io.WriteString(w, "ok\n")
			return
		}
		posts.Add(1)
		w.Header().Set("Retry-After", "5")
		http.Error(w, `{"error":"database unavailable"}`, http.StatusServiceUnavailable)
	}))
	t.Cleanup(busy.Close)
	f := newFrontTrying(t, try, nil, busy.URL)
	c := client(t)
	for range 3 {
		r := roundTrip(t, c, newRequest(t, "POST", f.URL+"/visitor/api/entries", `{}`, "Content-Type", "application/json"))
		if r.StatusCode != http.StatusServiceUnavailable || !strings.Contains(r.body, "database unavailable") {
			t.Errorf("got %d %q, want the upstream's own 503", r.StatusCode, short(r.body))
		}
	}
	if got := f.available(); !got[0] {
		t.Error("an upstream that answered 503 left the rotation")
	}
	if posts.Load() != 3 {
		t.Errorf("the upstream saw %d posts, want each of the 3 once", posts.Load())
	}
}

func TestTheTopologyShowsEachUpstreamsLatencyEstimateAndInFlight(t *testing.T) {
	var delay atomic.Int64
	delay.Store(int64(30 * time.Millisecond))
	up := slowEcho(t, "up", &delay)
	f := newFrontTrying(t, time.Second, nil, up.URL)
	roundTrip(t, client(t), newRequest(t, "GET", f.URL+"/visitor/", ""))
	got := f.pool.Describe()[0]
	if got.LatencyMs < 25 || got.LatencyMs > 1000 || got.InFlight != 0 {
		t.Errorf("after one 30ms answer the topology shows %+v, want a latency estimate near 30ms and none in flight", got)
	}
}

// Go's transport resends a request with an idempotency header by itself
// when a reused connection breaks: such a header reaches the app tier only
// where the app tier honours it, the API's create.
func TestIdempotencyHeadersReachTheAppTierOnlyWhereTheyAreHonoured(t *testing.T) {
	up := newEcho(t, "up")
	f := newFront(t, nil, up.URL)
	c := client(t)
	h := []string{"Idempotency-Key", "k1", "X-Idempotency-Key", "k2"}
	roundTrip(t, c, newRequest(t, "POST", f.URL+"/visitor/visitor_create/", form("a"), append([]string{"Content-Type", "application/x-www-form-urlencoded"}, h...)...))
	roundTrip(t, c, newRequest(t, "POST", f.URL+"/visitor/api/entries", `{}`, append([]string{"Content-Type", "application/json"}, h...)...))
	seen := up.requests()
	if got := seen[0].header; got.Get("Idempotency-Key") != "" || got.Get("X-Idempotency-Key") != "" {
		t.Errorf("the form's create reached the app tier with %q and %q, want neither", got.Get("Idempotency-Key"), got.Get("X-Idempotency-Key"))
	}
	if got := seen[1].header; got.Get("Idempotency-Key") != "k1" || got.Get("X-Idempotency-Key") != "" {
		t.Errorf("the API's create reached the app tier with %q and %q, want k1 and nothing", got.Get("Idempotency-Key"), got.Get("X-Idempotency-Key"))
	}
}

// A client that gives up says nothing of the upstream: no failure counted,
// no slow sample to keep it avoided.
func TestAClientThatGivesUpCountsNothingAgainstTheUpstream(t *testing.T) {
	var delay atomic.Int64
	delay.Store(int64(300 * time.Millisecond))
	up := slowEcho(t, "up", &delay)
	f := newFront(t, nil, up.URL)
	impatient := &http.Client{Timeout: 50 * time.Millisecond}
	if resp, err := impatient.Get(f.URL + "/visitor/"); err == nil {
		resp.Body.Close()
		t.Fatal("the impatient client got an answer")
	}
	time.Sleep(400 * time.Millisecond) // the upstream's answer, abandoned
	got := f.pool.Describe()[0]
	if got.Failures != 0 || got.LatencyMs > 50 || got.InFlight != 0 || !got.Healthy {
		t.Errorf("after a client gave up: %+v, want no failure, no slow sample, nothing in flight", got)
	}
}
