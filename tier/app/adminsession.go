package app

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/guestbook/guestbook/internal/clientlimit"
	"github.com/guestbook/guestbook/tier/forwarded"
)

// The admin's session: after signing in with app.admin_token at
// /visitor/admin/, the browser holds a cookie whose value is its expiry and
// a MAC of it. The MAC's key is derived from the shared secret (every app
// instance has the same) and the admin token, so any instance accepts a
// session another issued, nothing is kept on the server, and changing
// app.admin_token ends every session at once. The cookie holds no secret of
// its own: stolen, it is a session until its expiry, as any session cookie.

const (
	// adminCookie is the session's cookie, sent only to the admin's pages.
	adminCookie     = "gb_admin"
	adminCookiePath = "/visitor/admin/"
	// adminSession is how long a session lasts: a working day, after which
	// the admin signs in again.
	adminSession = 12 * time.Hour
	// labelAdminSession is the label of the session's key.
	labelAdminSession = "guestbook admin session v1"
)

// Sign-in attempts are limited per client, in this instance: adminTries at
// once, then one each adminTryEvery. Every attempt counts, right or wrong,
// and a refused one is not compared at all, so the guesses past the limit
// tell nothing. The write limit's count does not fit: it counts entries on
// the primary, and a failed sign-in stores nothing (counting them there
// would make each guess a write to the database). Per instance, so N
// instances allow N times the tries: with a token of 128 bits or more that
// is still no way to guess it, and the refusals show in
// guestbook_admin_actions_total{action="sign_in_limited"}.
const (
	adminTries    = 5
	adminTryEvery = time.Minute
)

func newSignInLimit(now func() time.Time) *clientlimit.Table {
	t := clientlimit.New(1/adminTryEvery.Seconds(), adminTries, 0)
	t.SetClock(now)
	return t
}

// adminKey is the MAC key of sessions: HMAC-SHA256 of the shared secret
// over the label and the admin token.
func (s *Server) adminKey() []byte {
	m := hmac.New(sha256.New, s.opts.Secret)
	m.Write([]byte(labelAdminSession))
	m.Write([]byte{0})
	m.Write([]byte(s.opts.AdminToken))
	return m.Sum(nil)
}

// sessionValue is the cookie's value for a session that ends at expiry:
// "v1.<unix seconds>.<MAC>".
func (s *Server) sessionValue(expiry time.Time) string {
	payload := "v1." + strconv.FormatInt(expiry.Unix(), 10)
	return payload + "." + base64.RawURLEncoding.EncodeToString(s.sessionMAC(payload))
}

func (s *Server) sessionMAC(payload string) []byte {
	m := hmac.New(sha256.New, s.adminKey())
	m.Write([]byte(payload))
	return m.Sum(nil)
}

// signedIn reports whether r carries a session that this guestbook signed
// and that has not expired. With no admin token configured, never.
func (s *Server) signedIn(r *http.Request) bool {
	if s.opts.AdminToken == "" {
		return false
	}
	c, err := r.Cookie(adminCookie)
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(c.Value, '.')
	if i < 0 || !strings.HasPrefix(c.Value, "v1.") {
		return false
	}
	payload := c.Value[:i]
	mac, err := base64.RawURLEncoding.DecodeString(c.Value[i+1:])
	if err != nil || !hmac.Equal(mac, s.sessionMAC(payload)) {
		return false
	}
	expiry, err := strconv.ParseInt(strings.TrimPrefix(payload, "v1."), 10, 64)
	return err == nil && s.opts.Now().Unix() < expiry
}

// startSession sets the session's cookie: HttpOnly (no script reads it),
// SameSite=Strict (no other site's page sends it), Secure when the request
// came over HTTPS, and with both Max-Age and Expires.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request) {
	expiry := s.opts.Now().Add(adminSession)
	http.SetCookie(w, &http.Cookie{
		Name: adminCookie, Value: s.sessionValue(expiry), Path: adminCookiePath,
		MaxAge: int(adminSession / time.Second), Expires: expiry, HttpOnly: true,
		Secure: forwarded.HTTPS(r), SameSite: http.SameSiteStrictMode,
	})
}

// endSession removes the session's cookie.
func (s *Server) endSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{
		Name: adminCookie, Value: "", Path: adminCookiePath, MaxAge: -1, HttpOnly: true,
		Secure: forwarded.HTTPS(r), SameSite: http.SameSiteStrictMode,
	})
}
