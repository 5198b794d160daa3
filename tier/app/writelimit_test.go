package app_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/guestbook/guestbook/store/storetest"
	"github.com/guestbook/guestbook/tier/app"
	"github.com/guestbook/guestbook/tier/forwarded"
)

// newLimitedApp is the test app with a write limit of limit a minute. Its
// clock stands still (testNow), so every entry it makes is in the window,
// and a refusal's Retry-After is the whole window.
func newLimitedApp(t *testing.T, driver string, limit int, seen *counted, trusted ...string) *testApp {
	t.Helper()
	nets, err := forwarded.ParseTrusted(trusted)
	if err != nil {
		t.Fatal(err)
	}
	return newTestAppWith(t, driver, func(o *app.Options) {
		o.WriteLimit, o.WriteWindow, o.TrustedProxies = limit, time.Minute, nets
		o.Secret = []byte("a secret for the write limit's tests, 32+ bytes")
		if seen != nil {
			o.Observer = seen
		}
	})
}

func TestAFormPastTheWriteLimitIs429WithItsTextKeptAndWhenToPostAgain(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			seen := &counted{}
			a := newLimitedApp(t, driver, 2, seen)
			c := a.browser(t)
			for i := range 2 {
				r := a.postForm(t, c, "/visitor/visitor_create/", entryForm("홍길동", "hong@example.com", "", "안녕하세요 "+string(rune('A'+i))))
				wantStatus(t, r, http.StatusSeeOther)
			}
			for lang, message := range map[string]string{"ko": "60초 뒤에 다시 등록을 누르세요", "en": "post again in 60 seconds"} {
				form := entryForm("홍길동", "hong@example.com", "2026-11-24", "세 번째 <글>")
				form.Set("idempotency_key", "form-key-"+lang)
				r := a.postForm(t, c, "/visitor/visitor_create/", form, "Accept-Language", lang)
				wantStatus(t, r, http.StatusTooManyRequests)
				if got := r.Header.Get("Retry-After"); got != "60" {
					t.Errorf("Retry-After %q, want 60 (the window, since the clock stands still)", got)
				}
				wantContains(t, r, message, `value="홍길동"`, `value="hong@example.com"`, `value="2026-11-24"`,
					"세 번째 &lt;글&gt;", `name="idempotency_key" value="form-key-`+lang+`"`)
			}
			if n := a.count(t); n != 2 {
				t.Errorf("%d entries, want the 2 the limit allows", n)
			}
			if seen.refusals("write_limit") != 2 || seen.created.Load() != 2 {
				t.Errorf("observer heard %d refused and %d created, want 2 and 2", seen.refusals("write_limit"), seen.created.Load())
			}
		})
	}
}

func TestTheAPIIsGuardedByTheWriteLimitToo(t *testing.T) {
	for _, driver := range storetest.Drivers {
		t.Run(driver, func(t *testing.T) {
			a := newLimitedApp(t, driver, 3, nil)
			// The form's entries and the API's count alike.
			wantStatus(t, a.postForm(t, a.browser(t), "/visitor/visitor_create/", entryForm("폼", "f@example.com", "", "폼 글")), http.StatusSeeOther)
			a.apiCreate(t, "api-1")
			a.apiCreate(t, "api-2")
			r := a.api(t, "POST", "/visitor/api/entries", `{"name":"api-3","email":"api@example.com","content":"넷째"}`, "Idempotency-Key", "over-the-limit")
			wantStatus(t, r, http.StatusTooManyRequests)
			if got := r.Header.Get("Retry-After"); got != "60" {
				t.Errorf("Retry-After %q, want 60", got)
			}
			if e := decode[struct{ Error string }](t, r); !strings.Contains(e.Error, "at most 3 in 1m;") || !strings.Contains(e.Error, "60 seconds") {
				t.Errorf("error %q, want it to say the limit and when to try again", e.Error)
			}
			if n := a.count(t); n != 3 {
				t.Errorf("%d entries, want 3", n)
			}
		})
	}
}

func TestASpoofedForwardedForFromAnUntrustedPeerDoesNotEscapeTheLimit(t *testing.T) {
	a := newLimitedApp(t, "sqlite", 1, nil) // trusts nobody
	a.apiCreate(t, "first")
	for _, spoof := range []string{"203.0.113.7", "198.51.100.1, 203.0.113.8"} {
		r := a.api(t, "POST", "/visitor/api/entries", `{"name":"spoof","email":"s@example.com","content":"x"}`,
			forwarded.HeaderFor, spoof, forwarded.HeaderRealIP, spoof)
		wantStatus(t, r, http.StatusTooManyRequests)
	}
}

func TestBehindATrustedProxyEachRealClientHasItsOwnLimitAndAnIPv6ClientIsItsSlash64(t *testing.T) {
	a := newLimitedApp(t, "sqlite", 1, nil, "127.0.0.0/8", "::1")
	post := func(client string) response {
		return a.api(t, "POST", "/visitor/api/entries", `{"name":"via proxy","email":"p@example.com","content":"x"}`,
			forwarded.HeaderFor, client)
	}
	for _, tc := range []struct {
		client string
		want   int
	}{
		{"203.0.113.7", http.StatusCreated},
		{"203.0.113.8", http.StatusCreated},
		{"203.0.113.7", http.StatusTooManyRequests},
		{"2001:db8:1:2::1", http.StatusCreated},
		{"2001:db8:1:2:ffff:ffff:ffff:fffe", http.StatusTooManyRequests}, // the same /64
		{"2001:db8:1:3::1", http.StatusCreated},                          // the next one
		{"::ffff:203.0.113.8", http.StatusTooManyRequests},               // 203.0.113.8, mapped
	} {
		if r := post(tc.client); r.StatusCode != tc.want {
			t.Errorf("a create from %s: %d, want %d; body %s", tc.client, r.StatusCode, tc.want, r.body)
		}
	}
}

func TestWithTheLimitOffAClientMayWriteAsOftenAsItLikes(t *testing.T) {
	a := newLimitedApp(t, "sqlite", 0, nil)
	for i := range 8 {
		a.apiCreate(t, "unlimited-"+string(rune('a'+i)))
	}
}
