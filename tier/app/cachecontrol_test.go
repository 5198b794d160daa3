package app_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/guestbook/guestbook/tier/app"
)

const publicOneSecond = "public, s-maxage=1"

func newCachingApp(t *testing.T, ttl time.Duration) *testApp {
	t.Helper()
	return newTestAppWith(t, "sqlite", func(o *app.Options) { o.CacheTTL = ttl })
}

func wantCacheControl(t *testing.T, r response, want string) {
	t.Helper()
	if got := r.Header.Get("Cache-Control"); got != want {
		t.Errorf("%s %s (%d): Cache-Control %q, want %q", r.Request.Method, r.Request.URL, r.StatusCode, got, want)
	}
}

func TestPagesTheSameForEveryReaderArePublicForAppCacheTTL(t *testing.T) {
	a := newCachingApp(t, time.Second)
	e := a.apiCreate(t, "공개")
	for _, path := range []string{
		"/visitor/", "/visitor/visitor_list/", "/visitor/visitor_list/?before=999",
		fmt.Sprintf("/visitor/visitor_detail/%d", e.ID), fmt.Sprintf("/visitor/visitor_detail/%d/", e.ID),
		"/visitor/api/entries", fmt.Sprintf("/visitor/api/entries/%d", e.ID),
	} {
		r := a.get(t, http.DefaultClient, path)
		wantStatus(t, r, http.StatusOK)
		wantCacheControl(t, r, publicOneSecond)
		if r.Header.Get("ETag") == "" {
			t.Errorf("GET %s: a public answer without an ETag", path)
		}
	}
	r := a.get(t, http.DefaultClient, "/visitor/visitor_list/", "Accept-Language", "en")
	if got := r.Header.Get("Content-Language"); got != "en" {
		t.Errorf("Content-Language %q, want the language the page was rendered in, en", got)
	}
}

func TestEverythingThatDependsOnWhoAsksIsNoStore(t *testing.T) {
	a := newCachingApp(t, 3*time.Second)
	e := a.apiCreate(t, "사적")
	list, detail := "/visitor/visitor_list/", fmt.Sprintf("/visitor/visitor_detail/%d", e.ID)
	tests := []struct {
		name, path string
		header     []string
	}{
		{"the create form (a signed token and an idempotency key)", "/visitor/visitor_create/", nil},
		{"the delete confirm", fmt.Sprintf("/visitor/visitor_delete/%d", e.ID), nil},
		{"the topology", "/visitor/topology", nil},
		{"the topology's JSON", "/visitor/api/topology", nil},
		{"a page that 404s", "/visitor/visitor_detail/99999", nil},
		{"an API entry that 404s", "/visitor/api/entries/99999", nil},
		{"a bad request", "/visitor/visitor_list/?before=x", nil},
		{"no such page", "/visitor/nothing", nil},
		{"the list to an author (delete links)", list, []string{"Cookie", "gb_author=s3cret"}},
		{"the list in a read-your-writes window", list, []string{"Cookie", "gb_lang=ko; gb_ryw=99999999999999"}},
		{"the list to the admin's session", list, []string{"Cookie", "gb_admin=x"}},
		{"a page that sets the language cookie", list + "?lang=en", nil},
		{"the API list to a bearer", "/visitor/api/entries", []string{"Authorization", "Bearer " + adminToken}},
		{"the API entry to any bearer", fmt.Sprintf("/visitor/api/entries/%d", e.ID), []string{"Authorization", "Bearer wrong"}},
		{"a detail page with Authorization", detail, []string{"Authorization", "Basic eDp5"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := a.get(t, http.DefaultClient, tt.path, tt.header...)
			wantCacheControl(t, r, "no-store")
			if r.Header.Get("ETag") != "" {
				t.Errorf("a private answer with an ETag")
			}
		})
	}
	c := a.browser(t)
	writes := []response{
		a.postForm(t, c, "/visitor/visitor_create/", entryForm("쓰기", "w@example.com", "", "글")),
		a.postForm(t, c, "/visitor/visitor_create/", entryForm("", "", "", "")),
		a.api(t, "POST", "/visitor/api/entries", `{"name":"api","email":"a@example.com","content":"x"}`),
		a.api(t, "DELETE", fmt.Sprintf("/visitor/api/entries/%d", e.ID), "", "Authorization", "Bearer "+e.DeleteToken),
		a.postForm(t, c, fmt.Sprintf("/visitor/visitor_delete/%d", e.ID), url.Values{}),
	}
	for _, r := range writes {
		wantCacheControl(t, r, "no-store")
	}
	// A page that is public to others is not to whoever holds a cookie of ours.
	wantCacheControl(t, a.get(t, c, list), "no-store")
	wantCacheControl(t, a.get(t, http.DefaultClient, list, "Cookie", "gb_lang=ko; _ga=GA1.1"), "public, s-maxage=3")
}

func TestAppCacheTTLZeroSendsNoStoreEverywhere(t *testing.T) {
	a := newCachingApp(t, 0)
	for _, path := range []string{"/visitor/", "/visitor/visitor_list/", "/visitor/api/entries"} {
		wantCacheControl(t, a.get(t, http.DefaultClient, path), "no-store")
	}
}

func TestAPublicPageAnswersItsETagWith304(t *testing.T) {
	a := newCachingApp(t, time.Second)
	a.apiCreate(t, "검증")
	for _, path := range []string{"/visitor/visitor_list/", "/visitor/api/entries"} {
		first := a.get(t, http.DefaultClient, path)
		tag := first.Header.Get("ETag")
		again := a.get(t, http.DefaultClient, path, "If-None-Match", tag)
		wantStatus(t, again, http.StatusNotModified)
		if again.body != "" {
			t.Errorf("GET %s: a 304 with a body", path)
		}
		other := a.get(t, http.DefaultClient, path, "If-None-Match", `"other"`)
		wantStatus(t, other, http.StatusOK)
	}
}
