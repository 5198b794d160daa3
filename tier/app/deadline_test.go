package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/store"
	"github.com/guestbook/guestbook/store/storetest"
	"github.com/guestbook/guestbook/tier/app"
	"github.com/guestbook/guestbook/tier/hops"
)

// A frozen database must not make a healthy app instance look frozen: given
// the web tier's budget, it answers 503 within it, reads and writes alike,
// though database.query_timeout alone would let each query wait far longer.
func TestAFrozenDatabaseIsA503WithinTheWebTiersBudget(t *testing.T) {
	cfg, primary, replica := storetest.PairConfig(t)
	cfg.QueryTimeout = 5 * time.Second
	db, err := store.Open(context.Background(), cfg, store.Options{Log: storetest.Logger(t), Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	srv := httptest.NewServer(app.New(db, app.Options{
		Instance: config.Instance{ID: "app-1"}, Log: storetest.Logger(t), Now: testNow,
	}))
	t.Cleanup(srv.Close)

	primary.Freeze(t)
	replica.Freeze(t)
	const budget = 600 * time.Millisecond
	for _, tt := range []struct{ method, path, body string }{ // the write first, while the writer is still known
		{"POST", "/visitor/api/entries", `{"name":"a","email":"a@example.com","content":"b"}`},
		{"GET", "/visitor/api/entries", ""},
		{"GET", "/visitor/visitor_list/", ""},
		{"GET", "/visitor/api/entries/1", ""},
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			req.Header.Set(hops.HeaderTimeout, "600")
			start := time.Now()
			r := do(t, http.DefaultClient, req)
			took := time.Since(start)
			wantStatus(t, r, http.StatusServiceUnavailable)
			if r.Header.Get("Retry-After") == "" {
				t.Error("503 without Retry-After")
			}
			if took >= budget {
				t.Errorf("answered in %s, want within the %s budget the web tier gave", took, budget)
			}
		})
	}
}
