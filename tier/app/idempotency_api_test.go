package app_test

import (
	"database/sql"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/guestbook/guestbook/store"
	"github.com/guestbook/guestbook/store/storetest"
)

const apiBody = `{"name":"홍길동","email":"hong@example.com","content":"다시 보내도 한 번"}`

func TestAnAPICreateSentAgainWithItsKeyAnswersTheSameEntryAndATokenThatDeletesIt(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			a := newKeyedApp(t, driver, nil)
			first := do(t, http.DefaultClient, a.apiRequest(t, apiBody, "api-key-1"))
			again := do(t, http.DefaultClient, a.apiRequest(t, apiBody, "api-key-1"))
			wantStatus(t, first, http.StatusCreated)
			wantStatus(t, again, http.StatusCreated)
			if first.body != again.body {
				t.Errorf("the resend answered\n%s\nthe first\n%s", again.body, first.body)
			}
			if first.Header.Get("Idempotent-Replayed") != "" || again.Header.Get("Idempotent-Replayed") != "true" {
				t.Errorf("Idempotent-Replayed: first %q, resend %q; want none, then true",
					first.Header.Get("Idempotent-Replayed"), again.Header.Get("Idempotent-Replayed"))
			}
			if first.Header.Get("Location") != again.Header.Get("Location") {
				t.Errorf("Location %q then %q", first.Header.Get("Location"), again.Header.Get("Location"))
			}
			e := decode[apiEntry](t, again)
			if e.ID != a.onlyEntry(t).ID {
				t.Errorf("the resend answered entry %d", e.ID)
			}
			if n := a.seen.created.Load(); n != 1 {
				t.Errorf("entries created counted %d, want 1", n)
			}
			// Deleting is safe to repeat too: 204, then 404.
			path := fmt.Sprintf("/visitor/api/entries/%d", e.ID)
			wantStatus(t, a.api(t, "DELETE", path, "", "Authorization", "Bearer "+e.DeleteToken), http.StatusNoContent)
			wantStatus(t, a.api(t, "DELETE", path, "", "Authorization", "Bearer "+e.DeleteToken), http.StatusNotFound)
			if n := a.count(t); n != 0 {
				t.Errorf("%d entries after the delete", n)
			}
		})
	}
}

func TestAPIKeysAreTakenQuotedAsTheDraftWritesThem(t *testing.T) {
	a := newKeyedApp(t, "sqlite", nil)
	first := decode[apiEntry](t, do(t, http.DefaultClient, a.apiRequest(t, apiBody, "quoted-1")))
	again := decode[apiEntry](t, do(t, http.DefaultClient, a.apiRequest(t, apiBody, `"quoted-1"`)))
	if first.ID != again.ID || first.DeleteToken != again.DeleteToken {
		t.Errorf("key \"quoted-1\" in quotes made entry %d, unquoted %d", again.ID, first.ID)
	}
}

func TestAnAPIKeyUsedWithAnotherBodyIs422AndStoresNothing(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			a := newKeyedApp(t, driver, nil)
			wantStatus(t, do(t, http.DefaultClient, a.apiRequest(t, apiBody, "api-key-1")), http.StatusCreated)
			other := strings.Replace(apiBody, "다시 보내도 한 번", "다른 글", 1)
			r := do(t, http.DefaultClient, a.apiRequest(t, other, "api-key-1"))
			wantStatus(t, r, http.StatusUnprocessableEntity)
			if e := decode[map[string]any](t, r); !strings.Contains(fmt.Sprint(e["error"]), "Idempotency-Key") {
				t.Errorf("error %q does not say the key was used", e["error"])
			}
			// The form's key space is the API's: the same key from the form
			// is another request too.
			form := entryForm("홍길동", "hong@example.com", "", "다시 보내도 한 번")
			form.Set("idempotency_key", "api-key-1")
			wantStatus(t, do(t, noRedirect, a.formRequest(t, form, "")), http.StatusUnprocessableEntity)
			a.onlyEntry(t)
		})
	}
}

func TestABadAPIKeyIs400NamingTheHeader(t *testing.T) {
	a := newKeyedApp(t, "sqlite", nil)
	for _, key := range []string{"", " ", "has space", "dot.ted", "slash/", strings.Repeat("k", 65), `"unterminated`} {
		req := a.apiRequest(t, apiBody, "")
		req.Header["Idempotency-Key"] = []string{key}
		r := do(t, http.DefaultClient, req)
		wantStatus(t, r, http.StatusBadRequest)
		if e := decode[map[string]any](t, r); !strings.Contains(fmt.Sprint(e["error"]), "Idempotency-Key") {
			t.Errorf("key %q: error %q does not name the header", key, e["error"])
		}
	}
	req := a.apiRequest(t, apiBody, "")
	req.Header["Idempotency-Key"] = []string{"one", "two"}
	wantStatus(t, do(t, http.DefaultClient, req), http.StatusBadRequest)
	if n := a.count(t); n != 0 {
		t.Errorf("%d entries stored from bad keys", n)
	}
}

func TestAnAPIKeyInFlightIs409AndTheFirstCreateStillLands(t *testing.T) {
	a := newKeyedApp(t, "sqlite", hold("held-api"))
	h := heldIn(t, a)
	first := make(chan response, 1)
	req := a.apiRequest(t, apiBody, "held-api")
	go func() { r, _ := send(http.DefaultClient, req); first <- r }()
	<-h.entered
	r := do(t, http.DefaultClient, a.apiRequest(t, apiBody, "held-api"))
	wantStatus(t, r, http.StatusConflict)
	if e := decode[map[string]any](t, r); !strings.Contains(fmt.Sprint(e["error"]), "in progress") {
		t.Errorf("409 error %q does not say the request is in progress", e["error"])
	}
	// Another key is not held up.
	wantStatus(t, do(t, http.DefaultClient, a.apiRequest(t, apiBody, "other-key")), http.StatusCreated)
	h.releaseHeld()
	if r := <-first; r.Response == nil || r.StatusCode != http.StatusCreated {
		t.Fatalf("the held create answered %+v", r)
	}
	// Once it has answered, the key is free for resends again.
	r = do(t, http.DefaultClient, a.apiRequest(t, apiBody, "held-api"))
	wantStatus(t, r, http.StatusCreated)
	if r.Header.Get("Idempotent-Replayed") != "true" {
		t.Error("the resend after the held create was not a replay")
	}
	if n := a.count(t); n != 2 {
		t.Errorf("%d entries, want 2 (one per key)", n)
	}
}

func TestAnAPICreateWithoutAKeyIsStoredEachTime(t *testing.T) {
	a := newKeyedApp(t, "sqlite", nil)
	first := decode[apiEntry](t, do(t, http.DefaultClient, a.apiRequest(t, apiBody, "")))
	again := decode[apiEntry](t, do(t, http.DefaultClient, a.apiRequest(t, apiBody, "")))
	if first.ID == again.ID || first.DeleteToken == again.DeleteToken {
		t.Errorf("two unkeyed creates gave entry %d and %d, tokens equal %v", first.ID, again.ID, first.DeleteToken == again.DeleteToken)
	}
	if n := a.count(t); n != 2 {
		t.Errorf("%d entries, want 2", n)
	}
}

func TestTwoAppInstancesOnOneMySQLDatabaseStoreOneRowForOneKey(t *testing.T) {
	db1, cfg := storetest.OpenAt(t, "mysql", testNow)
	db2, err := store.Open(t.Context(), cfg, store.Options{Log: storetest.Logger(t), Now: testNow})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db2.Close() })
	apps := []*keyedApp{newKeyedAppOver(t, db1, cfg, nil), newKeyedAppOver(t, db2, cfg, nil)}
	const rounds, perApp = 10, 3
	for round := range rounds {
		key := fmt.Sprintf("two-instances-%d", round)
		var (
			wg    sync.WaitGroup
			start = make(chan struct{})
			out   [2 * perApp]response
			errs  [2 * perApp]error
		)
		for i := range out {
			req := apps[i%2].apiRequest(t, apiBody, key)
			wg.Go(func() { <-start; out[i], errs[i] = send(http.DefaultClient, req) })
		}
		close(start)
		wg.Wait()
		var first *apiEntry
		for i := range out {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			// On one instance a create whose key is in flight there is 409;
			// whichever answers 201 answers the same entry and token.
			if out[i].StatusCode == http.StatusConflict {
				continue
			}
			wantStatus(t, out[i], http.StatusCreated)
			e := decode[apiEntry](t, out[i])
			if first == nil {
				first = &e
			} else if e.ID != first.ID || e.DeleteToken != first.DeleteToken {
				t.Errorf("round %d: answers with entries %d and %d (tokens equal %v)", round, first.ID, e.ID, e.DeleteToken == first.DeleteToken)
			}
		}
		if first == nil {
			t.Fatalf("round %d: no create answered 201", round)
		}
	}
	raw, err := sql.Open("mysql", cfg.Primary)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var rows int
	if err := raw.QueryRow("SELECT COUNT(*) FROM entries").Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != rounds {
		t.Errorf("%d rows after %d rounds of concurrent creates with one key each on two instances, want %d", rows, rounds, rounds)
	}
	if created := apps[0].seen.created.Load() + apps[1].seen.created.Load(); created != rounds {
		t.Errorf("entries created counted %d, want %d", created, rounds)
	}
}
