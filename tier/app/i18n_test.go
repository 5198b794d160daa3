package app_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestPagesSpeakKoreanWhenTheBrowserPrefersIt(t *testing.T) {
	a := newTestApp(t)
	tests := []struct {
		acceptLanguage, wantLang, wantText string
	}{
		{"ko-KR,ko;q=0.9,en-US;q=0.8", "ko", "방명록 목록"},
		{"ko", "ko", "방명록 목록"},
		{"en-US,en;q=0.9,ko;q=0.8", "en", "Guestbook entries"},
		{"fr-FR,ko;q=0.5,en;q=0.3", "ko", "방명록 목록"},
		{"de", "en", "Guestbook entries"},
		{"", "en", "Guestbook entries"},
	}
	for _, tt := range tests {
		r := a.get(t, a.browser(t), "/visitor/visitor_list/", "Accept-Language", tt.acceptLanguage)
		if !strings.Contains(r.body, `<html lang="`+tt.wantLang+`">`) || !strings.Contains(r.body, tt.wantText) {
			t.Errorf("Accept-Language %q: want %s page with %q", tt.acceptLanguage, tt.wantLang, tt.wantText)
		}
	}
}

func TestTheLanguageSwitchIsRemembered(t *testing.T) {
	a := newTestApp(t)
	c := a.browser(t)
	r := a.get(t, c, "/visitor/", "Accept-Language", "en")
	wantContains(t, r, `href="/visitor/?lang=ko"`) // the switch
	r = a.get(t, c, "/visitor/?lang=ko", "Accept-Language", "en")
	wantContains(t, r, `<html lang="ko">`)
	r = a.get(t, c, "/visitor/visitor_list/", "Accept-Language", "en")
	wantContains(t, r, `<html lang="ko">`, `href="/visitor/visitor_list/?lang=en"`)
	if vary := strings.Join(r.Header.Values("Vary"), ","); !strings.Contains(vary, "Accept-Language") || !strings.Contains(vary, "Cookie") {
		t.Errorf("Vary = %q: caches must not mix languages", vary)
	}
}

func TestErrorPagesSpeakTheReadersLanguage(t *testing.T) {
	a := newTestApp(t)
	r := a.get(t, a.browser(t), "/visitor/visitor_detail/999", "Accept-Language", "ko")
	wantStatus(t, r, http.StatusNotFound)
	wantContains(t, r, "찾는 페이지나 글이 없습니다")
}
