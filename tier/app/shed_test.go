package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/internal/admission"
	"github.com/guestbook/guestbook/internal/httpcheck"
	"github.com/guestbook/guestbook/store"
	"github.com/guestbook/guestbook/store/storetest"
	"github.com/guestbook/guestbook/tier/app"
	"github.com/guestbook/guestbook/tier/hops"
)

// slowList is the store with lists that take delay: a slow handler that
// holds the tier's limit long enough for a test to go past it.
type slowList struct {
	app.Entries
	delay time.Duration
}

func (s slowList) ListEntries(ctx context.Context, before int64, limit int) (store.Page, error) {
	time.Sleep(s.delay)
	return s.Entries.ListEntries(ctx, before, limit)
}

// Past its concurrency limit the app tier refuses at once, with 503,
// Retry-After and Guestbook-Shed, JSON under the API; what it admitted is
// answered, its health checks answer all along, a refused write stores
// nothing, and once the burst is over it serves again.
func TestPastItsLimitTheAppTierRefusesAtOnceAndStoresNothingOfARefusal(t *testing.T) {
	db, _ := storetest.OpenAt(t, "sqlite", testNow)
	limit := admission.New(2, 2, 2)
	srv := httptest.NewServer(app.New(slowList{Entries: db, delay: time.Second}, app.Options{
		Instance: config.Instance{ID: "app-1"}, Version: "test", Log: storetest.Logger(t), Now: testNow, Admission: limit,
	}))
	t.Cleanup(srv.Close)

	type answer struct {
		status     int
		retryAfter string
		shed       string
		body       string
		took       time.Duration
	}
	send := func(method, path, body string) answer {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		start := time.Now()
		resp, text := httpcheck.Do(t, http.DefaultClient, req)
		return answer{resp.StatusCode, resp.Header.Get("Retry-After"), resp.Header.Get(hops.HeaderShed), text, time.Since(start)}
	}

	var wg sync.WaitGroup
	lists := make([]answer, 6)
	for i := range lists {
		wg.Go(func() { lists[i] = send("GET", "/visitor/api/entries", "") })
	}
	time.Sleep(100 * time.Millisecond) // the first two hold the limit now
	writes := make([]answer, 4)
	for i := range writes {
		wg.Go(func() {
			writes[i] = send("POST", "/visitor/api/entries", `{"name":"a","email":"a@example.com","content":"shed?"}`)
		})
	}
	if h := send("GET", "/healthz", ""); h.status != http.StatusOK || h.took > 500*time.Millisecond {
		t.Errorf("/healthz during the burst: %d in %v, want 200 at once", h.status, h.took)
	}
	wg.Wait()

	served, stored := 0, 0
	for _, a := range append(lists, writes...) {
		switch a.status {
		case http.StatusOK:
			served++
		case http.StatusCreated:
			stored++
		case http.StatusServiceUnavailable:
			var e struct {
				Error string `json:"error"`
			}
			if a.retryAfter != "1" || a.shed == "" || json.Unmarshal([]byte(a.body), &e) != nil || e.Error == "" {
				t.Errorf("a refusal: Retry-After %q, %s %q, body %q; want 1, the mark and JSON", a.retryAfter, hops.HeaderShed, a.shed, a.body)
			}
			if a.took > 500*time.Millisecond { // the admitted ones hold their slots for 1s
				t.Errorf("a refusal took %v, want it at once", a.took)
			}
		default:
			t.Errorf("status %d %q, want 200, 201 or 503", a.status, a.body)
		}
	}
	if served < 2 {
		t.Errorf("%d lists served, want at least the 2 the limit admits", served)
	}
	if served+stored == len(lists)+len(writes) {
		t.Fatal("nothing was refused: the burst never went past the limit")
	}
	p, err := db.ListEntries(t.Context(), 0, store.MaxPage)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Entries) != stored {
		t.Errorf("%d entries stored, want the %d acknowledged: a refused write was applied", len(p.Entries), stored)
	}
	if a := send("GET", "/visitor/api/entries", ""); a.status != http.StatusOK {
		t.Errorf("after the burst: %d, want 200", a.status)
	}
	if limit.InFlight() != 0 {
		t.Errorf("%d still in flight after every answer", limit.InFlight())
	}
}
