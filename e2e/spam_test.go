package e2e

import (
	"net/http"
	"testing"
	"time"
)

// TestAFormPostedAtOnceIsRefusedAndAPersonsLaterPostIsStored runs the app
// tier with its default app.form_min_age (2s) and an app.form_max_age of
// 5s: a form posted the moment it was served, as bots post, is refused with
// 422 and stores nothing, as are a missing and a forged token, and the
// honeypot filled in; the same form posted a person's while later is stored
// once, by an app instance other than the one that served it, which checks
// the token with the secret that migrate made in the database; and replayed
// past its age it is refused again.
func TestAFormPostedAtOnceIsRefusedAndAPersonsLaterPostIsStored(t *testing.T) {
	tp := startTopology(t, topologyOptions{formMinAge: 2 * time.Second, formMaxAge: 5 * time.Second})
	l := newLedger()
	servedBy := newVisitor("http://"+tp.apps[0].addr, false)
	postedTo := newVisitor("http://"+tp.apps[1].addr, false)
	token := servedBy.signed(t, entryForm("", "", "")).Get("form_token")

	post := func(what string, token string, want int, extra ...string) string {
		t.Helper()
		m := l.next()
		f := entryForm("사람", "person@example.com", m+" 천천히 썼어요")
		f.Set("form_token", token)
		for i := 0; i+1 < len(extra); i += 2 {
			f.Set(extra[i], extra[i+1])
		}
		r, err := postedTo.postForm("/visitor/visitor_create/", f)
		wantStatus(t, what, r, err, want)
		if want == http.StatusSeeOther {
			l.record(m, err == nil && r.status == want)
		} else {
			l.refused(m)
		}
		return r.body
	}
	if body := post("a form posted at once", token, http.StatusUnprocessableEntity); !formTokenRE.MatchString(body) {
		t.Errorf("the form shown again after a refusal carries no fresh form_token:\n%s", excerpt(body))
	}
	post("a form without its token", "", http.StatusUnprocessableEntity)
	post("a form with a forged token", token[:20]+"forged-forged-forged-forged", http.StatusUnprocessableEntity)

	time.Sleep(2100 * time.Millisecond) // a person writing
	post("a form old enough with its honeypot filled in", token, http.StatusUnprocessableEntity, "website", "http://spam.example")
	post("the same form a person's while later, on another app instance", token, http.StatusSeeOther)
	time.Sleep(3 * time.Second) // past app.form_max_age since the form was served
	post("the form's token replayed past its age", token, http.StatusUnprocessableEntity)
	l.check(t, tp.primary, "primary")
}
