package app_test

import (
	"net/http"
	"testing"

	"github.com/guestbook/guestbook/store"
	"github.com/guestbook/guestbook/store/storetest"
)

func TestHealthzAndReadyzAnswerWhileTheDatabaseDoes(t *testing.T) {
	a := newTestApp(t)
	wantStatus(t, a.get(t, a.browser(t), "/healthz"), http.StatusOK)
	wantStatus(t, a.get(t, a.browser(t), "/readyz"), http.StatusOK)
}

func TestReadyzFailsAndPagesAnswer503WhenTheDatabaseIsGone(t *testing.T) {
	a := newTestApp(t)
	a.db.Close()
	wantStatus(t, a.get(t, a.browser(t), "/healthz"), http.StatusOK) // the process is still up
	r := a.get(t, a.browser(t), "/readyz")
	wantStatus(t, r, http.StatusServiceUnavailable)
	for _, path := range []string{"/visitor/visitor_list/", "/visitor/api/entries"} {
		r := a.get(t, a.browser(t), path)
		wantStatus(t, r, http.StatusServiceUnavailable)
		if r.Header.Get("Retry-After") == "" {
			t.Errorf("%s: 503 without Retry-After", path)
		}
	}
	r = a.postForm(t, a.browser(t), "/visitor/visitor_create/", entryForm("a", "a@example.com", "", "b"))
	wantStatus(t, r, http.StatusServiceUnavailable) // never a 303 for a write that did not happen
}

func TestReadyzFailsWhileTheSchemaIsBehind(t *testing.T) {
	a := newTestApp(t)
	mg, err := store.OpenMigrator(t.Context(), a.cfg, storetest.Logger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer mg.Close()
	if err := mg.Down(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	r := a.get(t, a.browser(t), "/readyz")
	wantStatus(t, r, http.StatusServiceUnavailable)
	wantContains(t, r, "schema")
}
