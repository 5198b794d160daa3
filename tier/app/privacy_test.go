package app_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/guestbook/guestbook/store/storetest"
	"github.com/guestbook/guestbook/tier/app"
)

// privateEmail is an address no page or public answer may ever contain.
func privateEmail(i int) string { return fmt.Sprintf("private-%d-q7x@secret.example", i) }

// anyPrivateEmail finds any of them, however a page escapes the @.
var anyPrivateEmail = regexp.MustCompile(`private-\d+-q7x`)

func TestNoPageOrPublicAPIAnswerShowsAnEntrysEmail(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			a := newTestAppOn(t, driver)
			writer, stranger := a.browser(t), a.browser(t)
			// Written through the form (the writer's browser may delete it,
			// so its rows differ) and through the API.
			var ids []int64
			for i := range 2 {
				r := a.postForm(t, writer, "/visitor/visitor_create/", entryForm(fmt.Sprintf("폼 %d", i), privateEmail(i), "", "폼으로 쓴 글"))
				wantStatus(t, r, http.StatusSeeOther)
			}
			for i := 2; i < 4; i++ {
				body := fmt.Sprintf(`{"name":"API %d","email":%q,"content":"API로 쓴 글"}`, i, privateEmail(i))
				r := a.api(t, "POST", "/visitor/api/entries", body)
				wantStatus(t, r, http.StatusCreated)
				if anyPrivateEmail.MatchString(r.body) {
					t.Errorf("the API's 201 shows the email: %s", r.body)
				}
			}
			p, err := a.db.ListEntries(t.Context(), 0, 10)
			if err != nil || len(p.Entries) != 4 {
				t.Fatalf("stored %d entries (%v), want 4", len(p.Entries), err)
			}
			for _, e := range p.Entries {
				if !anyPrivateEmail.MatchString(e.Email) {
					t.Errorf("entry %d stored email %q, want the one written", e.ID, e.Email)
				}
				ids = append(ids, e.ID)
			}

			paths := []string{"/visitor/", "/visitor/visitor_list/", "/visitor/visitor_create/", "/visitor/topology",
				fmt.Sprintf("/visitor/visitor_list/?before=%d", ids[0]),
				"/visitor/api/entries", "/visitor/api/entries?limit=100", "/visitor/api/topology"}
			for _, id := range ids {
				paths = append(paths, fmt.Sprintf("/visitor/visitor_detail/%d", id), fmt.Sprintf("/visitor/visitor_detail/%d/", id),
					fmt.Sprintf("/visitor/visitor_delete/%d", id), fmt.Sprintf("/visitor/api/entries/%d", id))
			}
			// Twice each, so that the second is served from the kept rows
			// and headers; in both languages; to the writer and to anyone.
			for range 2 {
				for _, c := range []*http.Client{writer, stranger} {
					for _, lang := range []string{"ko", "en"} {
						for _, path := range paths {
							r := a.get(t, c, path, "Accept-Language", lang)
							wantStatus(t, r, http.StatusOK)
							if m := anyPrivateEmail.FindString(r.body); m != "" {
								t.Errorf("GET %s (%s) shows the email %s…", path, lang, m)
							}
						}
					}
				}
			}
		})
	}
}

func TestTheAdminBearerAloneSeesEmailsInTheAPI(t *testing.T) {
	a := newTestApp(t)
	e := a.apiCreate(t, "관리자만")
	one := fmt.Sprintf("/visitor/api/entries/%d", e.ID)
	for _, path := range []string{one, "/visitor/api/entries"} {
		admin := a.api(t, "GET", path, "", "Authorization", "Bearer "+adminToken)
		wantStatus(t, admin, http.StatusOK)
		wantContains(t, admin, `"email":"api@example.com"`)
		if v := admin.Header.Values("Vary"); !strings.Contains(strings.Join(v, ","), "Authorization") {
			t.Errorf("GET %s: Vary %q lacks Authorization, though the answer depends on it", path, v)
		}
		public := a.api(t, "GET", path, "")
		wantStatus(t, public, http.StatusOK)
		// Any other bearer reads as the public: no email, and nothing
		// in the answer to tell a near miss from a wild guess.
		for _, bearer := range []string{"wrong", adminToken[:len(adminToken)-1], adminToken + "x",
			strings.ToUpper(adminToken), e.DeleteToken, ""} {
			r := a.api(t, "GET", path, "", "Authorization", "Bearer "+bearer)
			wantStatus(t, r, http.StatusOK)
			if r.body != public.body {
				t.Errorf("GET %s with bearer %q answered\n%s\nwhere the public gets\n%s", path, bearer, r.body, public.body)
			}
		}
		for _, header := range []string{adminToken, "Basic " + adminToken, "Bearer"} {
			if r := a.api(t, "GET", path, "", "Authorization", header); r.body != public.body {
				t.Errorf("GET %s with Authorization %q is not the public answer: %s", path, header, r.body)
			}
		}
	}
}

func TestWithNoAdminTokenConfiguredNoBearerSeesEmails(t *testing.T) {
	a := newTestApp(t)
	// The helper's app has an admin token; this one has none, over the
	// same store.
	plain := serveApp(t, a.db, a.cfg, app.Options{})
	e := a.apiCreate(t, "관리자 없음")
	for _, bearer := range []string{"", adminToken, "anything"} {
		r := plain.api(t, "GET", fmt.Sprintf("/visitor/api/entries/%d", e.ID), "", "Authorization", "Bearer "+bearer)
		wantStatus(t, r, http.StatusOK)
		if strings.Contains(r.body, "api@example.com") {
			t.Errorf("with no admin token, bearer %q sees the email: %s", bearer, r.body)
		}
	}
}
