package app

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/guestbook/guestbook/tier/forwarded"

	"github.com/guestbook/guestbook/tier/page"

	"github.com/guestbook/guestbook/store"
)

// authorCookie holds the browser's author secret: entries written from this
// browser store its hash, and it alone (or the admin token) may delete them.
const authorCookie = "gb_author"

func (s *Server) handleEntryCreateForm(w http.ResponseWriter, r *http.Request) {
	form := createForm{Draft: store.Draft{Day: s.opts.Now().Format(time.DateOnly)}, Key: newKey(), Token: s.tokens.issue()}
	s.render(w, r, http.StatusOK, "create", page.T(page.Lang(r), "create.title"), "write", form)
}

// refuseForm answers a create form refused for its token, before any field
// was looked at, with 422 and the form again saying why.
func (s *Server) refuseForm(w http.ResponseWriter, r *http.Request, draft store.Draft, key string, why formRefusal) {
	s.opts.Observer.WriteRefused(string(why))
	s.formAgain(w, r, http.StatusUnprocessableEntity,
		createForm{Draft: draft, Key: key, Refusal: page.T(page.Lang(r), "create.refused."+string(why))})
}

func (s *Server) handleEntryCreate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, formError(err))
		return
	}
	key, err := keyFromForm(r.PostForm)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	draft := store.Draft{
		Name:    r.PostForm.Get("name"),
		Email:   r.PostForm.Get("email"),
		Day:     r.PostForm.Get("day"),
		Content: r.PostForm.Get("content"),
		Sender:  s.sender(r),
	}
	var why formRefusal
	if errors.As(s.tokens.check(r.PostForm.Get("form_token")), &why) {
		s.refuseForm(w, r, draft, key, why)
		return
	}
	if r.PostForm.Get(honeypotField) != "" {
		// Shown again with the trap empty: a person whose browser filled
		// it in can send the form as it is.
		s.opts.Observer.WriteRefused(reasonHoneypot)
		s.formAgain(w, r, http.StatusUnprocessableEntity, createForm{Draft: draft, Trapped: true, Key: key})
		return
	}
	if rf := s.tooManyLinks(draft.Content); rf != nil {
		s.opts.Observer.WriteRefused(rf.reason)
		problems := map[string]string{"content": linksText(page.Lang(r), rf.links, rf.max)}
		s.formAgain(w, r, statusOf(rf), createForm{Draft: draft, Problems: problems, Key: key})
		return
	}
	cookie := authorSecret(r)
	e, secret, created, err := s.createFromForm(r.Context(), draft, key, cookie)
	var invalid *store.ValidationError
	switch {
	case errors.As(err, &invalid):
		s.opts.Observer.ValidationFailed()
		lang := page.Lang(r)
		problems := map[string]string{}
		for field, p := range invalid.Fields {
			problems[field] = problemText(lang, field, p)
		}
		s.formAgain(w, r, statusOf(err), createForm{Draft: draft, Problems: problems, Key: key})
		return
	case errors.Is(err, store.ErrWriteLimited):
		// Nothing was stored: the form goes back with its text and key,
		// saying when it may be posted again.
		retryIn, _ := s.writeLimited(w, err)
		s.formAgain(w, r, statusOf(err), createForm{Draft: draft, Key: key, RetryIn: retryIn})
		return
	case errors.Is(err, store.ErrKeyReused):
		// A page sent before and then changed (the back button): the text
		// is kept, and a new key makes sending it again a new entry.
		s.formAgain(w, r, statusOf(err), createForm{Draft: draft, Resent: true, Key: newKey()})
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	if created {
		s.opts.Observer.EntryCreated()
	}
	s.wrote(w, r)
	if cookie == "" {
		http.SetCookie(w, &http.Cookie{
			Name: authorCookie, Value: secret, Path: "/visitor/",
			MaxAge: 10 * 365 * 24 * 3600, HttpOnly: true, Secure: forwarded.HTTPS(r),
			SameSite: http.SameSiteLaxMode,
		})
	}
	http.Redirect(w, r, afterCreate(e), http.StatusSeeOther)
}

// formAgain shows the create form again after a refusal, with what was
// typed. Nothing was stored, so it carries the key it came with, or a first
// one if it had none, and a fresh form token, so that a person can post it
// again once it is old enough.
func (s *Server) formAgain(w http.ResponseWriter, r *http.Request, status int, form createForm) {
	if form.Key == "" {
		form.Key = newKey()
	}
	form.Token = s.tokens.issue()
	s.render(w, r, status, "create", page.T(page.Lang(r), "create.title"), "write", form)
}

// createFromForm stores draft with the browser's author secret (cookie) or,
// when it has none yet, a new one; with a key, once. A keyed create from a
// browser with no cookie derives the new secret from the key, so that a
// resend of the same POST (a double click, or the web tier trying another
// instance) computes the same secret and its cookie may delete the entry.
// created is false for a resend.
func (s *Server) createFromForm(ctx context.Context, draft store.Draft, key, cookie string) (e store.Entry, secret string, created bool, err error) {
	draft.Pending = s.opts.PreModeration
	secret = cookie
	if key == "" {
		if secret == "" {
			secret = newSecret()
		}
		e, err = s.entries.CreateEntry(ctx, draft, secret)
		return e, secret, err == nil, err
	}
	k := store.Keyed{Key: key, Scope: scopeForm, Draft: draft}
	if secret == "" {
		secret = derivedSecret(labelAuthorSecret, key, k.RequestHash())
	}
	e, created, err = s.createKeyed(ctx, k, secret, true)
	return e, secret, created, err
}

type deletePage struct {
	Entry store.Entry
	Mine  bool
}

func (s *Server) handleEntryDeleteConfirm(w http.ResponseWriter, r *http.Request) {
	e, err := s.pathEntry(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "delete", page.T(page.Lang(r), "delete.title"), "list",
		deletePage{Entry: e, Mine: e.CanDelete(authorSecret(r))})
}

func (s *Server) handleEntryDelete(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, formError(err))
		return
	}
	if s.isAdmin(r.PostForm.Get("admin_token")) {
		err = s.entries.DeleteEntryAsAdmin(r.Context(), id)
	} else {
		err = s.entries.DeleteEntry(r.Context(), id, authorSecret(r))
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.opts.Observer.EntryDeleted()
	s.wrote(w, r)
	http.Redirect(w, r, "/visitor/visitor_list/", http.StatusSeeOther)
}

// isAdmin checks a token against app.admin_token in constant time: both are
// hashed first, so that not even the token's length shows in how long the
// answer takes. With no admin token configured, nobody is admin.
func (s *Server) isAdmin(token string) bool {
	admin := s.opts.AdminToken
	if admin == "" || token == "" {
		return false
	}
	got, want := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(admin))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

func authorSecret(r *http.Request) string {
	c, err := r.Cookie(authorCookie)
	if err != nil {
		return ""
	}
	return c.Value
}

// newSecret is 256 random bits, URL-safe: an author secret or a delete token.
func newSecret() string {
	return base64.RawURLEncoding.EncodeToString(randomBytes(32))
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return b
}

// formError turns a form that could not be read into 413 or 400.
func formError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return fmt.Errorf("read form: %w", err)
	}
	return badRequest{"the form could not be read"}
}

// problemText says what is wrong with a field, in lang.
func problemText(lang, field string, p store.Problem) string {
	switch p {
	case store.ProblemTooLong:
		return fmt.Sprintf(page.T(lang, "problem.too_long"), store.Limit(field))
	case store.ProblemRequired, store.ProblemInvalidUTF8, store.ProblemControlChar, store.ProblemInvalidEmail:
		return page.T(lang, "problem."+string(p))
	}
	return string(p)
}
