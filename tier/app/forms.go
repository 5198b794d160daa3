package app

import (
	"crypto/rand"
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
	form := createForm{Draft: store.Draft{Day: s.opts.Now().Format(time.DateOnly)}}
	s.render(w, r, http.StatusOK, "create", page.T(page.Lang(r), "create.title"), "write", form)
}

func (s *Server) handleEntryCreate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, formError(err))
		return
	}
	draft := store.Draft{
		Name:    r.PostForm.Get("name"),
		Email:   r.PostForm.Get("email"),
		Day:     r.PostForm.Get("day"),
		Content: r.PostForm.Get("content"),
	}
	secret, isNew := authorSecret(r), false
	if secret == "" {
		secret, isNew = newSecret(), true
	}
	_, err := s.entries.CreateEntry(r.Context(), draft, secret)
	var invalid *store.ValidationError
	if errors.As(err, &invalid) {
		s.opts.Observer.ValidationFailed()
		lang := page.Lang(r)
		problems := map[string]string{}
		for field, p := range invalid.Fields {
			problems[field] = problemText(lang, field, p)
		}
		s.render(w, r, http.StatusUnprocessableEntity, "create", page.T(lang, "create.title"), "write",
			createForm{Draft: draft, Problems: problems})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.opts.Observer.EntryCreated()
	s.wrote(w, r)
	if isNew {
		http.SetCookie(w, &http.Cookie{
			Name: authorCookie, Value: secret, Path: "/visitor/",
			MaxAge: 10 * 365 * 24 * 3600, HttpOnly: true, Secure: forwarded.HTTPS(r),
			SameSite: http.SameSiteLaxMode,
		})
	}
	http.Redirect(w, r, "/visitor/visitor_list/", http.StatusSeeOther)
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

// isAdmin checks a token against app.admin_token in constant time; with no
// admin token configured, nobody is admin.
func (s *Server) isAdmin(token string) bool {
	admin := s.opts.AdminToken
	return admin != "" && token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(admin)) == 1
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
