package page

import (
	"io/fs"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/guestbook/guestbook/assets"
	"github.com/guestbook/guestbook/config"
)

func TestEveryMessageExistsInBothLanguages(t *testing.T) {
	for key := range messages[Ko] {
		if _, ok := messages[En][key]; !ok {
			t.Errorf("%q has Korean text but no English", key)
		}
	}
	for key := range messages[En] {
		if _, ok := messages[Ko][key]; !ok {
			t.Errorf("%q has English text but no Korean", key)
		}
	}
}

// usedKey finds t "key" in templates and T(lang, "key") in Go code.
var usedKey = regexp.MustCompile(`(?:\bt \$?\.Lang|\bT\([a-zA-Z.]+,) "([a-z0-9_.]*[a-z0-9_])"`)

func TestEveryMessageTheTemplatesAndCodeUseExists(t *testing.T) {
	check := func(where string, text []byte) {
		for _, m := range usedKey.FindAllSubmatch(text, -1) {
			if _, ok := messages[Ko][string(m[1])]; !ok {
				t.Errorf("%s uses %q, which has no text", where, m[1])
			}
		}
	}
	fs.WalkDir(assets.Templates(), ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(assets.Templates(), path)
			check(path, b)
		}
		return nil
	})
	files, _ := filepath.Glob("../*/*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, _ := os.ReadFile(f)
		check(f, b)
	}
}

func TestEveryErrorStatusHasText(t *testing.T) {
	for _, status := range []string{"400", "403", "404", "405", "409", "413", "415", "422", "500", "503"} {
		if _, ok := messages[En]["error."+status]; !ok {
			t.Errorf("no text for status %s", status)
		}
	}
}

func TestFromAcceptLanguage(t *testing.T) {
	tests := map[string]string{
		"":                           En,
		"ko":                         Ko,
		"ko-KR":                      Ko,
		"KO-kr,en;q=0.5":             Ko,
		"ko-KR,ko;q=0.9,en-US;q=0.8": Ko,
		"en-US,en;q=0.9,ko;q=0.8":    En,
		"en;q=0.5,ko;q=0.8":          Ko,
		"ja,ko;q=0.7":                Ko, // the best of the two we have
		"ja,zh":                      En,
		"ko;q=0,en":                  En,
		"ko;q=0":                     En,
		"*":                          En,
		"en-GB;q=0.9, ko-KR;q=0.9":   En, // a tie keeps the browser's order
		"ko-KR;q=0.9, en-GB;q=0.9":   Ko,
		"ko;q=abc,en;q=0.1":          En,
	}
	for header, want := range tests {
		if got := FromAcceptLanguage(header); got != want {
			t.Errorf("FromAcceptLanguage(%q) = %s, want %s", header, got, want)
		}
	}
}

func TestLangPrefersTheQueryThenTheCookieThenTheHeader(t *testing.T) {
	r := httptest.NewRequest("GET", "/visitor/?lang=ko", nil)
	r.Header.Set("Accept-Language", "en")
	r.Header.Set("Cookie", langCookie+"=en")
	if got := Lang(r); got != Ko {
		t.Errorf("with ?lang=ko: %s", got)
	}
	r = httptest.NewRequest("GET", "/visitor/?lang=fr", nil)
	r.Header.Set("Accept-Language", "en")
	r.Header.Set("Cookie", langCookie+"=ko")
	if got := Lang(r); got != Ko {
		t.Errorf("with an unknown ?lang= and a ko cookie: %s", got)
	}
	r = httptest.NewRequest("GET", "/visitor/", nil)
	r.Header.Set("Accept-Language", "ko")
	r.Header.Set("Cookie", langCookie+"=zz")
	if got := Lang(r); got != Ko {
		t.Errorf("with a bad cookie: %s, want the header's choice", got)
	}
}

func TestTheLanguageLinkKeepsOnlyTheQueryOurLinksMake(t *testing.T) {
	for raw, want := range map[string]string{
		"/visitor/visitor_list/":                         "/visitor/visitor_list/?lang=en",
		"/visitor/visitor_list/?before=42":               "/visitor/visitor_list/?before=42&lang=en",
		"/visitor/visitor_list/?before=42&utm=x&lang=ko": "/visitor/visitor_list/?before=42&lang=en",
		"/visitor/visitor_list/?before=<script>":         "/visitor/visitor_list/?lang=en",
	} {
		u, _ := url.Parse(raw)
		if got := NewView(Ko, u, config.Instance{}, "", "", "", nil).SwitchURL; got != want {
			t.Errorf("%s: language link %q, want %q", raw, got, want)
		}
	}
}
