package app_test

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guestbook/guestbook/store"
	"github.com/guestbook/guestbook/store/storetest"
	"github.com/guestbook/guestbook/tier/app"
)

// stepClock is a clock a test moves by hand.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *stepClock) Step(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newTokenApp is an app instance with app.form_min_age 2s and
// app.form_max_age 24h on a clock of the test's, signing with secret.
func newTokenApp(t *testing.T, db *store.DB, clock *stepClock, secret string) (*testApp, *counted) {
	t.Helper()
	seen := &counted{}
	srv := httptest.NewServer(app.New(db, app.Options{
		Log: storetest.Logger(t), Now: clock.Now, Observer: seen,
		Secret: []byte(secret), FormMinAge: 2 * time.Second, FormMaxAge: 24 * time.Hour,
	}))
	t.Cleanup(srv.Close)
	return &testApp{Server: srv, db: db}, seen
}

const testSecret = "a secret every app instance of this test shares, 32+ bytes"

func signedForm(token string) url.Values {
	f := entryForm("사람", "person@example.com", "", "천천히 쓴 글입니다.")
	f.Set("form_token", token)
	return f
}

func TestCreateFormPostedAtOnceIsRefusedAndKeepsWhatWasTyped(t *testing.T) {
	db, _ := storetest.OpenAt(t, "sqlite", testNow)
	clock := &stepClock{t: testNow()}
	a, seen := newTokenApp(t, db, clock, testSecret)
	c := a.browser(t)

	token := a.formToken(t, c)
	clock.Step(500 * time.Millisecond) // a bot: half a second after the page
	r := a.postForm(t, c, "/visitor/visitor_create/", signedForm(token), "Accept-Language", "en")
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r, "wait a moment and post again", "사람", "person@example.com", "천천히 쓴 글입니다.")
	if n := a.count(t); n != 0 {
		t.Fatalf("%d entries stored by a refused post", n)
	}
	if got := seen.refusals("too_soon"); got != 1 {
		t.Errorf("too_soon refusals counted: %d, want 1", got)
	}
	fresh := regexp.MustCompile(`name="form_token" value="([^"]*)"`).FindStringSubmatch(r.body)
	if fresh == nil || fresh[1] == token || fresh[1] == "" {
		t.Fatalf("the form shown again must carry a fresh token; got %v (was %q)", fresh, token)
	}

	// The person waits, as people do, and posts the form shown again.
	clock.Step(2 * time.Second)
	r = a.postForm(t, c, "/visitor/visitor_create/", signedForm(fresh[1]))
	wantStatus(t, r, http.StatusSeeOther)
	if n := a.count(t); n != 1 {
		t.Fatalf("%d entries after the person's post, want 1", n)
	}
}

func TestCreateFormTokenMustBeOneThisGuestbookIssuedAndNotTooOld(t *testing.T) {
	db, _ := storetest.OpenAt(t, "sqlite", testNow)
	clock := &stepClock{t: testNow()}
	a, seen := newTokenApp(t, db, clock, testSecret)
	c := a.browser(t)
	good := a.formToken(t, c)
	clock.Step(3 * time.Second)

	// One bit of the signature flipped.
	raw, err := base64.RawURLEncoding.DecodeString(good)
	if err != nil {
		t.Fatal(err)
	}
	raw[len(raw)-1] ^= 1
	forged := base64.RawURLEncoding.EncodeToString(raw)
	// A token another guestbook (another secret) issued, as old as good.
	other, _ := newTokenApp(t, db, clock, "another guestbook's secret, also 32 bytes long")
	clock.Step(-3 * time.Second)
	foreign := other.formToken(t, other.browser(t))
	clock.Step(3 * time.Second)

	for _, tc := range []struct {
		name, token, reason, says string
	}{
		{"missing", "", "token_missing", "could not be verified"},
		{"garbage", "not-a-token", "token_forged", "could not be verified"},
		{"forged", forged, "token_forged", "could not be verified"},
		{"from another secret", foreign, "token_forged", "could not be verified"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := seen.refusals(tc.reason)
			r := a.postForm(t, c, "/visitor/visitor_create/", signedForm(tc.token), "Accept-Language", "en")
			wantStatus(t, r, http.StatusUnprocessableEntity)
			wantContains(t, r, tc.says, "천천히 쓴 글입니다.")
			if got := seen.refusals(tc.reason) - before; got != 1 {
				t.Errorf("%s refusals counted: %d, want 1", tc.reason, got)
			}
		})
	}
	if n := a.count(t); n != 0 {
		t.Fatalf("%d entries stored by refused posts", n)
	}

	// Replayed a day and a bit later: too old, whoever kept it.
	clock.Step(24 * time.Hour)
	r := a.postForm(t, c, "/visitor/visitor_create/", signedForm(good), "Accept-Language", "ko")
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r, "너무 오래되었습니다")
	if n := a.count(t); n != 0 {
		t.Fatalf("%d entries stored by an expired token", n)
	}
}

// The web tier sends each post to any app instance: a form one instance
// served is posted to another, which shares the secret.
func TestCreateFormTokenIssuedByOneInstanceIsAcceptedByAnother(t *testing.T) {
	db, _ := storetest.OpenAt(t, "sqlite", testNow)
	clock := &stepClock{t: testNow()}
	one, _ := newTokenApp(t, db, clock, testSecret)
	two, _ := newTokenApp(t, db, clock, testSecret)
	token := one.formToken(t, one.browser(t))
	clock.Step(5 * time.Second)
	r := two.postForm(t, two.browser(t), "/visitor/visitor_create/", signedForm(token))
	wantStatus(t, r, http.StatusSeeOther)
	if !strings.HasPrefix(r.Header.Get("Location"), "/visitor/") {
		t.Errorf("redirected to %q", r.Header.Get("Location"))
	}
}
