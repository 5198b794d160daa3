package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/guestbook/guestbook/store"
	"github.com/guestbook/guestbook/store/storetest"
	"github.com/guestbook/guestbook/tier/app"
	"github.com/guestbook/guestbook/tier/forwarded"
)

func TestHomeShowsTheInstanceThatServedIt(t *testing.T) {
	a := newTestApp(t)
	r := a.get(t, a.browser(t), "/visitor/")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r, "app-1", "ap-northeast-2a", "10.0.2.0/24", "v-test",
		`href="/visitor/visitor_list/"`, `href="/visitor/visitor_create/"`, `href="/"`)
}

func TestEveryPageHasTheNavigationBar(t *testing.T) {
	a := newTestApp(t)
	e := mustCreate(t, a, "이름", "content")
	for _, path := range []string{"/visitor/", "/visitor/visitor_list/", "/visitor/visitor_create/",
		fmt.Sprintf("/visitor/visitor_detail/%d", e.ID), fmt.Sprintf("/visitor/visitor_delete/%d", e.ID), "/visitor/nowhere"} {
		r := a.get(t, a.browser(t), path)
		wantContains(t, r, `<nav class="nav"`, `href="/visitor/visitor_list/"`, `href="/visitor/visitor_create/"`)
		if ct := r.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
			t.Errorf("%s: Content-Type %q", path, ct)
		}
	}
}

func mustCreate(t *testing.T, a *testApp, name, content string) store.Entry {
	t.Helper()
	e, err := a.db.CreateEntry(context.Background(), store.Draft{Name: name, Email: "x@example.com", Content: content}, "someone-else")
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestListShowsEntriesNewestFirstTwentyAPage(t *testing.T) {
	a := newTestApp(t)
	for i := 1; i <= 25; i++ {
		mustCreate(t, a, fmt.Sprintf("작성자%02d", i), fmt.Sprintf("내용%02d", i))
	}
	c := a.browser(t)
	r := a.get(t, c, "/visitor/visitor_list/")
	wantStatus(t, r, http.StatusOK)
	if n := strings.Count(r.body, `class="card entry"`); n != 20 {
		t.Errorf("first page shows %d entries, want 20", n)
	}
	if strings.Index(r.body, "작성자25") > strings.Index(r.body, "작성자24") || strings.Contains(r.body, "작성자05") {
		t.Error("first page is not the 20 newest, newest first")
	}
	older := r.body[strings.Index(r.body, `rel="next" href="`)+len(`rel="next" href="`):]
	older = older[:strings.Index(older, `"`)]
	r = a.get(t, c, older)
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r, "작성자05", "작성자01")
	if strings.Contains(r.body, "작성자06") || strings.Contains(r.body, `rel="next"`) {
		t.Error("the older page repeats entries or links further")
	}
}

func TestListWithoutEntriesInvitesTheFirst(t *testing.T) {
	a := newTestApp(t)
	r := a.get(t, a.browser(t), "/visitor/visitor_list/", "Accept-Language", "en")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r, "No entries yet")
}

func TestListRefusesAMalformedBefore(t *testing.T) {
	a := newTestApp(t)
	for _, before := range []string{"abc", "-1", "0", "1.5", "99999999999999999999"} {
		r := a.get(t, a.browser(t), "/visitor/visitor_list/?before="+url.QueryEscape(before))
		wantStatus(t, r, http.StatusBadRequest)
	}
}

func TestDetailShowsNameDayAndContentButNotTheEmail(t *testing.T) {
	a := newTestApp(t)
	e, err := a.db.CreateEntry(context.Background(), store.Draft{Name: "김영희", Email: "young@example.kr", Day: "화요일", Content: "첫 줄\n둘째 줄"}, "s")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/visitor/visitor_detail/%d", "/visitor/visitor_detail/%d/"} {
		r := a.get(t, a.browser(t), fmt.Sprintf(path, e.ID))
		wantStatus(t, r, http.StatusOK)
		wantContains(t, r, "김영희", "화요일", "첫 줄\n둘째 줄")
		if strings.Contains(r.body, "young@example.kr") {
			t.Errorf("%s shows the email, which is the admin's alone", path)
		}
	}
}

func TestDetailOfAMissingEntryIs404AndOfAMalformedId400(t *testing.T) {
	a := newTestApp(t)
	wantStatus(t, a.get(t, a.browser(t), "/visitor/visitor_detail/424242"), http.StatusNotFound)
	for _, id := range []string{"abc", "-3", "0", "1e3", "99999999999999999999", "%20"} {
		wantStatus(t, a.get(t, a.browser(t), "/visitor/visitor_detail/"+id), http.StatusBadRequest)
	}
}

func TestEntryTextIsShownEscapedNeverRun(t *testing.T) {
	a := newTestApp(t)
	c := a.browser(t)
	evil := `<script>alert("x")</script><img src=x onerror=alert(1)>`
	r := a.postForm(t, c, "/visitor/visitor_create/", entryForm(evil[:30], "x@example.com", `"><u>day`, evil))
	wantStatus(t, r, http.StatusSeeOther)
	p, _ := a.db.ListEntries(context.Background(), 0, 1)
	for _, path := range []string{"/visitor/visitor_list/", fmt.Sprintf("/visitor/visitor_detail/%d", p.Entries[0].ID),
		fmt.Sprintf("/visitor/visitor_delete/%d", p.Entries[0].ID)} {
		r := a.get(t, c, path)
		if strings.Contains(r.body, "<script>") || strings.Contains(r.body, "<img src=x") || strings.Contains(r.body, `<u>day`) {
			t.Errorf("%s renders entry text as HTML", path)
		}
		wantContains(t, r, "&lt;script&gt;")
	}
}

func TestCreateFormDefaultsTheDayToToday(t *testing.T) {
	a := newTestApp(t)
	r := a.get(t, a.browser(t), "/visitor/visitor_create/")
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r, `name="name"`, `name="email"`, `name="day"`, `name="content"`, `value="2026-11-25"`,
		`method="post" action="/visitor/visitor_create/"`)
}

func TestCreateStoresTheEntryAndRedirectsToTheList(t *testing.T) {
	for _, driver := range []string{"sqlite", "mysql"} {
		t.Run(driver, func(t *testing.T) {
			a := newTestAppOn(t, driver)
			c := a.browser(t)
			r := a.postForm(t, c, "/visitor/visitor_create/", entryForm("  홍길동  ", "hong@example.com", "", "안녕하세요\r\n반갑습니다"))
			wantStatus(t, r, http.StatusSeeOther)
			if loc := r.Header.Get("Location"); loc != "/visitor/visitor_list/" {
				t.Errorf("Location = %q", loc)
			}
			p, _ := a.db.ListEntries(context.Background(), 0, 10)
			if len(p.Entries) != 1 {
				t.Fatalf("stored %d entries, want 1", len(p.Entries))
			}
			if e := p.Entries[0]; e.Name != "홍길동" || e.Content != "안녕하세요\n반갑습니다" || e.Day != "2026-11-25" {
				t.Errorf("stored %+v", e)
			}
			wantContains(t, a.get(t, c, "/visitor/visitor_list/"), "홍길동", "안녕하세요")
		})
	}
}

func TestCreateWithBadFieldsShowsTheFormAgainWithMessagesAndValues(t *testing.T) {
	a := newTestApp(t)
	form := entryForm(strings.Repeat("가", 31), "not-an-email", "", "")
	r := a.postForm(t, a.browser(t), "/visitor/visitor_create/", form, "Accept-Language", "ko-KR,ko;q=0.9")
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r,
		`value="`+strings.Repeat("가", 31)+`"`, `value="not-an-email"`, // values kept
		`id="name-error"`, "30자 이하", // a message beside each bad field, in Korean
		`id="email-error"`, "올바른 이메일",
		`id="content-error"`, "필수 항목")
	if strings.Contains(r.body, `id="day-error"`) {
		t.Error("an empty day is not an error (it defaults to today)")
	}
	if n := a.count(t); n != 0 {
		t.Errorf("an invalid form stored %d entries", n)
	}
}

func TestCreateRefusesControlCharactersAndInvalidUTF8(t *testing.T) {
	a := newTestApp(t)
	for _, content := range []string{"a\x00b", "a\x1bb", "a\xffb"} {
		r := a.postForm(t, a.browser(t), "/visitor/visitor_create/", entryForm("이름", "a@example.com", "", content))
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantContains(t, r, `id="content-error"`)
	}
	if n := a.count(t); n != 0 {
		t.Errorf("stored %d entries", n)
	}
}

func TestCrossOriginPostsAreRefusedAndChangeNothing(t *testing.T) {
	a := newTestApp(t)
	e := mustCreate(t, a, "victim", "keep me")
	for _, header := range [][]string{
		{"Origin", "https://evil.example"},
		{"Sec-Fetch-Site", "cross-site"},
	} {
		r := a.postForm(t, a.browser(t), "/visitor/visitor_create/", entryForm("x", "x@example.com", "", "forged"), header...)
		wantStatus(t, r, http.StatusForbidden)
		r = a.postForm(t, a.browser(t), fmt.Sprintf("/visitor/visitor_delete/%d", e.ID), url.Values{"admin_token": {adminToken}}, header...)
		wantStatus(t, r, http.StatusForbidden)
	}
	if n := a.count(t); n != 1 {
		t.Errorf("entries = %d after forged posts, want 1", n)
	}
	// The same origin, as a browser sends it, is let through.
	r := a.postForm(t, a.browser(t), "/visitor/visitor_create/", entryForm("x", "x@example.com", "", "mine"),
		"Origin", a.URL, "Sec-Fetch-Site", "same-origin")
	wantStatus(t, r, http.StatusSeeOther)
}

func TestABodyOver64KiBIsRefusedWith413(t *testing.T) {
	a := newTestApp(t)
	big := entryForm("이름", "a@example.com", "", strings.Repeat("가", 30000)) // 270 KB encoded
	r := a.postForm(t, a.browser(t), "/visitor/visitor_create/", big)
	wantStatus(t, r, http.StatusRequestEntityTooLarge)
	// Without a Content-Length the limit still holds, while reading.
	req, _ := http.NewRequest("POST", a.URL+"/visitor/visitor_create/", strings.NewReader(big.Encode()))
	req.ContentLength = -1
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	wantStatus(t, do(t, a.browser(t), req), http.StatusRequestEntityTooLarge)
	if n := a.count(t); n != 0 {
		t.Errorf("stored %d entries", n)
	}
	// The longest valid entry fits.
	longest := entryForm(strings.Repeat("가", 30), "a@example.com", "", strings.Repeat("가", 5000))
	wantStatus(t, a.postForm(t, a.browser(t), "/visitor/visitor_create/", longest), http.StatusSeeOther)
}

func TestOnlyTheWritingBrowserMayDelete(t *testing.T) {
	a := newTestApp(t)
	writer, stranger := a.browser(t), a.browser(t)
	wantStatus(t, a.postForm(t, writer, "/visitor/visitor_create/", entryForm("작성자", "w@example.com", "", "지울 글")), http.StatusSeeOther)
	p, _ := a.db.ListEntries(context.Background(), 0, 1)
	path := fmt.Sprintf("/visitor/visitor_delete/%d", p.Entries[0].ID)

	// The list offers the delete link only to the writer.
	if r := a.get(t, writer, "/visitor/visitor_list/"); !strings.Contains(r.body, `href="`+path+`"`) {
		t.Error("the writer's list has no delete link")
	}
	if r := a.get(t, stranger, "/visitor/visitor_list/"); strings.Contains(r.body, `href="`+path+`"`) {
		t.Error("a stranger's list has a delete link")
	}

	wantStatus(t, a.get(t, stranger, path), http.StatusOK) // the confirm page explains who may delete
	wantStatus(t, a.postForm(t, stranger, path, url.Values{}), http.StatusForbidden)
	wantStatus(t, a.postForm(t, stranger, path, url.Values{"admin_token": {"guess"}}), http.StatusForbidden)
	if a.count(t) != 1 {
		t.Fatal("a stranger deleted the entry")
	}

	r := a.postForm(t, writer, path, url.Values{})
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/visitor/visitor_list/" {
		t.Errorf("Location = %q", loc)
	}
	if a.count(t) != 0 {
		t.Error("the writer could not delete the entry")
	}
	wantStatus(t, a.postForm(t, writer, path, url.Values{}), http.StatusNotFound)
}

func TestTheAdminMayDeleteAnyEntry(t *testing.T) {
	a := newTestApp(t)
	e := mustCreate(t, a, "someone", "text")
	r := a.postForm(t, a.browser(t), fmt.Sprintf("/visitor/visitor_delete/%d/", e.ID), url.Values{"admin_token": {adminToken}})
	wantStatus(t, r, http.StatusSeeOther)
	if a.count(t) != 0 {
		t.Error("the admin could not delete")
	}
}

func TestDeleteConfirmOfAMissingOrMalformedId(t *testing.T) {
	a := newTestApp(t)
	wantStatus(t, a.get(t, a.browser(t), "/visitor/visitor_delete/777"), http.StatusNotFound)
	wantStatus(t, a.get(t, a.browser(t), "/visitor/visitor_delete/x"), http.StatusBadRequest)
	wantStatus(t, a.postForm(t, a.browser(t), "/visitor/visitor_delete/x", url.Values{}), http.StatusBadRequest)
}

func TestUnknownPagesAre404AndWrongMethods405(t *testing.T) {
	a := newTestApp(t)
	r := a.get(t, a.browser(t), "/visitor/no/such/page")
	wantStatus(t, r, http.StatusNotFound)
	wantContains(t, r, `<nav class="nav"`)
	req, _ := http.NewRequest("DELETE", a.URL+"/visitor/visitor_list/", nil)
	wantStatus(t, do(t, a.browser(t), req), http.StatusMethodNotAllowed)
}

func TestPagesCarrySecurityHeaders(t *testing.T) {
	a := newTestApp(t)
	r := a.get(t, a.browser(t), "/visitor/visitor_list/")
	for name, want := range map[string]string{
		"X-Content-Type-Options": "nosniff",
		"X-Frame-Options":        "DENY",
	} {
		if got := r.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("Content-Security-Policy = %q", csp)
	}
}

func TestTheAuthorCookieIsHttpOnly(t *testing.T) {
	a := newTestApp(t)
	r := a.postForm(t, a.browser(t), "/visitor/visitor_create/", entryForm("a", "a@example.com", "", "b"))
	for _, c := range r.Cookies() {
		if c.Name == "gb_author" {
			if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || len(c.Value) < 40 {
				t.Errorf("author cookie %+v must be HttpOnly, SameSite=Lax and long", c)
			}
			return
		}
	}
	t.Error("no author cookie set")
}

func TestCookiesAreSecureWhenATrustedProxyTerminatedTLS(t *testing.T) {
	db, _ := storetest.Open(t, "sqlite")
	trusted, _ := forwarded.ParseTrusted([]string{"127.0.0.1"})
	handler := trusted.Middleware(app.New(db, app.Options{Log: storetest.Logger(t)}))
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	a := &testApp{Server: srv, db: db}
	for proto, wantSecure := range map[string]bool{"https": true, "http": false} {
		created := a.postForm(t, a.browser(t), "/visitor/visitor_create/", entryForm("a", "a@example.com", "", "b"), "X-Forwarded-Proto", proto)
		wantStatus(t, created, http.StatusSeeOther)
		switched := a.get(t, a.browser(t), "/visitor/?lang=ko", "X-Forwarded-Proto", proto)
		cookies := append(created.Cookies(), switched.Cookies()...)
		if len(cookies) != 2 {
			t.Fatalf("want the author and language cookies, got %v", cookies)
		}
		for _, c := range cookies {
			if c.Secure != wantSecure {
				t.Errorf("X-Forwarded-Proto %s: cookie %s Secure=%v", proto, c.Name, c.Secure)
			}
		}
	}
}

func TestTheLanguageSwitchKeepsThePage(t *testing.T) {
	a := newTestApp(t)
	r := a.get(t, a.browser(t), "/visitor/visitor_list/?before=42", "Accept-Language", "en")
	wantContains(t, r, `href="/visitor/visitor_list/?before=42&amp;lang=ko"`)
}

// The part of a page before <main> is rendered once and kept: each page,
// language, title and language link must still get its own.
func TestKeptPageHeadersStayTheirOwnPagesAndLanguages(t *testing.T) {
	a := newTestApp(t)
	c := a.browser(t)
	for range 2 { // the second time from what was kept
		for _, tc := range []struct{ path, lang, want, wantNot string }{
			{"/visitor/visitor_list/?before=42", "en", `href="/visitor/visitor_list/?before=42&amp;lang=ko"`, "?before=7"},
			{"/visitor/visitor_list/?before=7", "en", `href="/visitor/visitor_list/?before=7&amp;lang=ko"`, "?before=42"},
			{"/visitor/visitor_list/", "ko", `<html lang="ko">`, `<html lang="en">`},
			{"/visitor/visitor_list/", "en", `<html lang="en">`, `<html lang="ko">`},
			{"/visitor/visitor_list/", "en", `<a href="/visitor/visitor_list/" aria-current="page">`, `<a href="/visitor/visitor_create/" aria-current="page">`},
			{"/visitor/visitor_create/", "en", `<a href="/visitor/visitor_create/" aria-current="page">`, `<a href="/visitor/visitor_list/" aria-current="page">`},
		} {
			r := a.get(t, c, tc.path, "Accept-Language", tc.lang)
			if !strings.Contains(r.body, tc.want) || strings.Contains(r.body, tc.wantNot) {
				t.Errorf("GET %s (%s): want %q and not %q in the page", tc.path, tc.lang, tc.want, tc.wantNot)
			}
		}
	}
}
