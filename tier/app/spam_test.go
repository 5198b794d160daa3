package app_test

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/guestbook/guestbook/store/storetest"
	"github.com/guestbook/guestbook/tier/app"
)

// newGuardedApp is the app tier over a real store with app.max_links set to
// maxLinks and an observer that counts refusals.
func newGuardedApp(t *testing.T, driver string, maxLinks int) (*testApp, *counted) {
	t.Helper()
	db, cfg := storetest.OpenAt(t, driver, testNow)
	seen := &counted{}
	return serveApp(t, db, cfg, app.Options{MaxLinks: maxLinks, Observer: seen}), seen
}

// hiddenKey is the idempotency key a create page carries.
var hiddenKey = regexp.MustCompile(`name="idempotency_key" value="([^"]*)"`)

func TestTheCreateFormHasAHoneypotHiddenByTheStylesheet(t *testing.T) {
	a := newTestApp(t)
	for lang, label := range map[string]string{"ko": "이 칸은 비워 두세요", "en": "Leave this field empty"} {
		r := a.get(t, a.browser(t), "/visitor/visitor_create/", "Accept-Language", lang)
		wantStatus(t, r, http.StatusOK)
		input := regexp.MustCompile(`<input[^>]* name="website"[^>]*>`).FindString(r.body)
		for _, want := range []string{`type="text"`, `autocomplete="off"`, `tabindex="-1"`, `id="website"`} {
			if !strings.Contains(input, want) {
				t.Errorf("%s: the honeypot %q lacks %s", lang, input, want)
			}
		}
		if strings.Contains(input, "value=") || strings.Contains(input, "required") {
			t.Errorf("%s: the honeypot %q has a value or is required", lang, input)
		}
		wantContains(t, r, `<div class="trap"><label for="website">`+label)
	}
	// The stylesheet the page links takes it off-screen (not display:none,
	// which programs that fill forms know to skip).
	page := a.get(t, a.browser(t), "/visitor/visitor_create/")
	css := regexp.MustCompile(`href="(/static/style[^"]*\.css)"`).FindStringSubmatch(page.body)
	if css == nil {
		t.Fatalf("the create page links no stylesheet")
	}
	rule := regexp.MustCompile(`\.form \.trap \{[^}]*\}`).FindString(a.get(t, http.DefaultClient, css[1]).body)
	for _, want := range []string{"position: absolute", "left: -10000px", "overflow: hidden"} {
		if !strings.Contains(rule, want) {
			t.Errorf("the stylesheet's .trap rule %q lacks %s", rule, want)
		}
	}
}

func TestAFilledHoneypotIsRefusedWith422StoresNothingAndKeepsTheValues(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			a, seen := newGuardedApp(t, driver, 2)
			c := a.browser(t)
			key := hiddenKey.FindStringSubmatch(a.get(t, c, "/visitor/visitor_create/").body)[1]
			form := entryForm("봇일까", "bot@example.com", "화요일", "<광고> 싸게 팝니다")
			form.Set("website", "http://spam.example")
			form.Set("idempotency_key", key)
			r := a.postForm(t, c, "/visitor/visitor_create/", form, "Accept-Language", "ko")
			wantStatus(t, r, http.StatusUnprocessableEntity)
			wantContains(t, r, "등록되지 않았습니다", `role="alert"`,
				`value="봇일까"`, `value="bot@example.com"`, `value="화요일"`, html.EscapeString("<광고> 싸게 팝니다"),
				`name="idempotency_key" value="`+key+`"`)
			if strings.Contains(r.body, "spam.example") {
				t.Errorf("the honeypot's value is shown again: a person whose browser filled it could never send the form")
			}
			wantCount(t, a, 0, "after the refusal")
			if n := seen.refusals("honeypot"); n != 1 {
				t.Errorf("refusals counted for honeypot: %d, want 1", n)
			}
			if r.Header.Get("Set-Cookie") != "" {
				t.Errorf("a refusal set a cookie: %s", r.Header.Get("Set-Cookie"))
			}

			// In English too; and sent again as shown (the trap empty), it
			// is stored.
			r = a.postForm(t, c, "/visitor/visitor_create/", form, "Accept-Language", "en")
			wantStatus(t, r, http.StatusUnprocessableEntity)
			wantContains(t, r, "Not posted: a field that must stay empty")
			form.Del("website")
			wantStatus(t, a.postForm(t, c, "/visitor/visitor_create/", form), http.StatusSeeOther)
			wantCount(t, a, 1, "after the form was sent as shown")
		})
	}
}

// links makes content with n links of every kind the count knows.
func links(n int) string {
	kinds := []string{"http://a.example/x", "HTTPS://WWW.B.EXAMPLE", "www.c.example", "https://d.example"}
	var parts []string
	for i := range n {
		parts = append(parts, kinds[i%len(kinds)])
	}
	return "보세요 " + strings.Join(parts, " 그리고 ")
}

func TestContentWithMoreLinksThanAllowedIsRefusedOnTheForm(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			a, seen := newGuardedApp(t, driver, 2)
			c := a.browser(t)
			form := entryForm("링크", "link@example.com", "", links(3))
			r := a.postForm(t, c, "/visitor/visitor_create/", form, "Accept-Language", "ko")
			wantStatus(t, r, http.StatusUnprocessableEntity)
			wantContains(t, r, `id="content-error"`, "링크는 2개까지 쓸 수 있습니다 (지금 3개)",
				`value="링크"`, `value="link@example.com"`, ">"+html.EscapeString(links(3))+"</textarea>")
			en := a.postForm(t, c, "/visitor/visitor_create/", form, "Accept-Language", "en")
			wantStatus(t, en, http.StatusUnprocessableEntity)
			wantContains(t, en, "At most 2 links are allowed (this has 3).")
			wantCount(t, a, 0, "after the refusal")
			if n := seen.refusals("links"); n != 2 {
				t.Errorf("refusals counted for links: %d, want 2", n)
			}
			if n := seen.validation.Load(); n != 0 {
				t.Errorf("a refusal for links counted as %d validation failures", n)
			}

			form.Set("content", links(2)) // exactly at the limit
			wantStatus(t, a.postForm(t, c, "/visitor/visitor_create/", form), http.StatusSeeOther)
			wantCount(t, a, 1, "with links at the limit")
		})
	}
}

func TestContentWithMoreLinksThanAllowedIsRefusedByTheAPI(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			a, seen := newGuardedApp(t, driver, 2)
			body := func(content string) string {
				return fmt.Sprintf(`{"name":"API","email":"api@example.com","content":%q}`, content)
			}
			r := a.api(t, "POST", "/visitor/api/entries", body(links(3)), "Idempotency-Key", "links-1")
			wantStatus(t, r, http.StatusUnprocessableEntity)
			if e := decode[map[string]any](t, r); e["error"] != "At most 2 links are allowed (this has 3)." {
				t.Errorf("the refusal says %v", e)
			}
			wantCount(t, a, 0, "after the refusal")
			if n := seen.refusals("links"); n != 1 {
				t.Errorf("refusals counted for links: %d, want 1", n)
			}
			// The refused key stored nothing: the same key with content
			// within the limit is a first create.
			r = a.api(t, "POST", "/visitor/api/entries", body(links(2)), "Idempotency-Key", "links-1")
			wantStatus(t, r, http.StatusCreated)
			if r.Header.Get("Idempotent-Replayed") != "" {
				t.Errorf("the create after a refusal was answered as a replay")
			}
			wantCount(t, a, 1, "with links at the limit")
		})
	}
}

func TestMaxLinksZeroAllowsNoLink(t *testing.T) {
	a, _ := newGuardedApp(t, "sqlite", 0)
	r := a.postForm(t, a.browser(t), "/visitor/visitor_create/", entryForm("링크", "l@example.com", "", links(1)), "Accept-Language", "ko")
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r, "링크는 쓸 수 없습니다 (지금 1개).")
	r = a.api(t, "POST", "/visitor/api/entries", `{"name":"a","email":"a@example.com","content":"www.x.example"}`)
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r, `"error":"Links are not allowed (this has 1)."`)
	wantStatus(t, a.postForm(t, a.browser(t), "/visitor/visitor_create/", entryForm("링크 없이", "l@example.com", "", "링크 없는 글")), http.StatusSeeOther)
}
