package app

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"

	"github.com/guestbook/guestbook/store"
	"github.com/guestbook/guestbook/tier/forwarded"
	"github.com/guestbook/guestbook/tier/page"
)

// The admin's pages under /visitor/admin/: sign in with app.admin_token, see
// the newest entries with their emails and sources, delete selected entries
// or every entry of one source, and approve the entries that wait
// (app.moderation: pre). Every action is a POST, refused cross-origin like
// every other write (protect), logged with what it did (never the token),
// and counted (Observer.AdminAction). No admin page may be kept by a cache:
// each says Cache-Control: no-store.

// The actions of guestbook_admin_actions_total.
const (
	AdminSignIn        = "sign_in"
	AdminSignInRefused = "sign_in_refused" // a wrong token
	AdminSignInLimited = "sign_in_limited" // too many attempts
	AdminSignOut       = "sign_out"
	AdminDelete        = "delete"
	AdminDeleteSource  = "delete_source"
	AdminApprove       = "approve"
)

// adminPageSize is how many entries a page of the admin's list shows;
// sourceShown is how many of a source's entries its confirmation shows.
const (
	adminPageSize = 50
	sourceShown   = 20
)

// errNotSignedIn is an admin page asked for without a valid session.
var errNotSignedIn = errors.New("not signed in as the admin")

type adminPage struct {
	Entries            []adminRow
	Before, NextBefore int64
	PendingOnly        bool
	Moderated          bool   // app.moderation is pre
	Done               string // what the last action did, in the reader's language
}

// adminRow is an entry with its source: the client hash shortened for
// reading (Source), and in full for the link that deletes it (Hash).
type adminRow struct {
	store.AdminEntry
	Hash, Source string
}

func rowsOf(entries []store.AdminEntry) []adminRow {
	rows := make([]adminRow, len(entries))
	for i, e := range entries {
		rows[i] = adminRow{AdminEntry: e, Hash: e.ClientHash.String}
		if len(rows[i].Hash) >= 10 {
			rows[i].Source = rows[i].Hash[:10]
		}
	}
	return rows
}

type adminSignInPage struct {
	Problem string // why the last attempt was refused, in the reader's language
}

type adminSourcePage struct {
	Hash, Source string
	Count        int
	Entries      []adminRow
}

func (s *Server) handleAdmin(w http.ResponseWriter, r *http.Request) {
	if !s.requireAdmin(w, r, http.StatusOK) {
		return
	}
	q := r.URL.Query()
	before, err := optionalID(q.Get("before"), "before")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := adminPage{Before: before, PendingOnly: q.Get("show") == "pending", Moderated: s.opts.PreModeration}
	list, err := s.entries.AdminEntries(r.Context(), before, adminPageSize, data.PendingOnly)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data.Entries, data.NextBefore = rowsOf(list.Entries), list.NextBefore
	lang := page.Lang(r)
	if done := q.Get("done"); done == AdminDelete || done == AdminApprove {
		n, _ := strconv.Atoi(q.Get("n"))
		data.Done = fmt.Sprintf(page.T(lang, "admin.done."+done), n)
	}
	s.render(w, r, http.StatusOK, "admin", page.T(lang, "admin.title"), "", data)
}

func (s *Server) handleAdminSignIn(w http.ResponseWriter, r *http.Request) {
	if !s.adminExists(w, r) {
		return
	}
	lang := page.Lang(r)
	if ok, wait := s.signIns.Allow(forwarded.ClientKey(s.clientAddr(r))); !ok {
		retryIn := max(1, int(math.Ceil(wait.Seconds())))
		s.adminDid(r, AdminSignInLimited, "retry_after_s", retryIn)
		w.Header().Set("Retry-After", strconv.Itoa(retryIn))
		s.render(w, r, http.StatusTooManyRequests, "admin_signin", page.T(lang, "admin.signin.title"), "",
			adminSignInPage{Problem: fmt.Sprintf(page.T(lang, "admin.signin.limited"), retryIn)})
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, formError(err))
		return
	}
	if !s.isAdmin(r.PostForm.Get("admin_token")) {
		s.adminDid(r, AdminSignInRefused)
		s.render(w, r, http.StatusForbidden, "admin_signin", page.T(lang, "admin.signin.title"), "",
			adminSignInPage{Problem: page.T(lang, "admin.signin.wrong")})
		return
	}
	s.adminDid(r, AdminSignIn)
	s.startSession(w, r)
	http.Redirect(w, r, adminCookiePath, http.StatusSeeOther)
}

// handleAdminSignOut ends the session, also one that has expired.
func (s *Server) handleAdminSignOut(w http.ResponseWriter, r *http.Request) {
	if !s.adminExists(w, r) {
		return
	}
	s.adminDid(r, AdminSignOut)
	s.endSession(w, r)
	http.Redirect(w, r, adminCookiePath, http.StatusSeeOther)
}

// handleAdminEntries deletes or approves the entries selected on the list.
func (s *Server) handleAdminEntries(w http.ResponseWriter, r *http.Request) {
	if !s.requireAdmin(w, r, http.StatusForbidden) {
		return
	}
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, formError(err))
		return
	}
	action := r.PostForm.Get("action")
	ids, err := selectedIDs(r.PostForm["id"])
	if err == nil && action != AdminDelete && action != AdminApprove {
		err = badRequest{"action must be delete or approve"}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var n int64
	if action == AdminDelete {
		n, err = s.entries.DeleteEntries(r.Context(), ids)
	} else {
		n, err = s.entries.ApproveEntries(r.Context(), ids)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.adminDid(r, action, "entries", ids, "affected", n)
	if action == AdminDelete {
		s.countDeleted(n)
	}
	s.adminDone(w, r, action, n)
}

func (s *Server) handleAdminSourceConfirm(w http.ResponseWriter, r *http.Request) {
	if !s.requireAdmin(w, r, http.StatusOK) {
		return
	}
	hash, err := pathSource(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	count, newest, err := s.entries.SourceEntries(r.Context(), hash, sourceShown)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows := rowsOf(newest)
	s.render(w, r, http.StatusOK, "admin_source", page.T(page.Lang(r), "admin.source.title"), "",
		adminSourcePage{Hash: hash, Source: hash[:10], Count: count, Entries: rows})
}

func (s *Server) handleAdminSourceDelete(w http.ResponseWriter, r *http.Request) {
	if !s.requireAdmin(w, r, http.StatusForbidden) {
		return
	}
	hash, err := pathSource(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	n, err := s.entries.DeleteSource(r.Context(), hash)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.adminDid(r, AdminDeleteSource, "source", hash[:10], "affected", n)
	s.countDeleted(n)
	s.adminDone(w, r, AdminDelete, n)
}

// adminExists marks the response uncacheable and answers 404 when there is
// no admin (app.admin_token is empty); it reports whether to go on.
func (s *Server) adminExists(w http.ResponseWriter, r *http.Request) bool {
	w.Header().Set("Cache-Control", "no-store")
	if s.opts.AdminToken == "" {
		s.fail(w, r, fmt.Errorf("%s with no app.admin_token: %w", r.URL.Path, errNoRoute))
		return false
	}
	return true
}

// requireAdmin is adminExists, and the sign-in page with status (and, for
// anything but the list, a word on why) when r has no valid session.
func (s *Server) requireAdmin(w http.ResponseWriter, r *http.Request, status int) bool {
	if !s.adminExists(w, r) {
		return false
	}
	if s.signedIn(r) {
		return true
	}
	lang := page.Lang(r)
	var data adminSignInPage
	if status != http.StatusOK {
		s.opts.Log.Info("admin page refused", "method", r.Method, "path", r.URL.Path,
			"request_id", forwarded.From(r.Context()).ID, "err", errNotSignedIn)
		data.Problem = page.T(lang, "admin.signin.required")
	}
	s.render(w, r, status, "admin_signin", page.T(lang, "admin.signin.title"), "", data)
	return false
}

// adminDid logs and counts an admin action, with what it affected; a
// refused sign-in is a warning. Nothing of the form is logged: it may hold
// the token.
func (s *Server) adminDid(r *http.Request, action string, attrs ...any) {
	s.opts.Observer.AdminAction(action)
	attrs = append([]any{"action", action, "request_id", forwarded.From(r.Context()).ID}, attrs...)
	if action == AdminSignInRefused || action == AdminSignInLimited {
		s.opts.Log.Warn("admin sign-in refused", attrs...)
		return
	}
	s.opts.Log.Info("admin action", attrs...)
}

// countDeleted counts n entries deleted, as each delete of one counts.
func (s *Server) countDeleted(n int64) {
	for range n {
		s.opts.Observer.EntryDeleted()
	}
}

// adminDone sends the admin back to the list, which says what was done.
func (s *Server) adminDone(w http.ResponseWriter, r *http.Request, done string, n int64) {
	s.wrote(w, r)
	http.Redirect(w, r, adminCookiePath+"?done="+done+"&n="+strconv.FormatInt(n, 10), http.StatusSeeOther)
}

// selectedIDs are the entries ticked on the list: 1 to store.MaxPage ids.
func selectedIDs(values []string) ([]int64, error) {
	if len(values) == 0 || len(values) > store.MaxPage {
		return nil, badRequest{fmt.Sprintf("select 1 to %d entries", store.MaxPage)}
	}
	ids := make([]int64, len(values))
	for i, v := range values {
		id, err := optionalID(v, "id")
		if err != nil || id == 0 {
			return nil, badRequest{"id must be a positive whole number"}
		}
		ids[i] = id
	}
	return ids, nil
}

// pathSource is the route's {hash}: a client hash, 64 lowercase hex digits.
func pathSource(r *http.Request) (string, error) {
	h := r.PathValue("hash")
	if len(h) != 64 {
		return "", badRequest{"the source must be 64 hex digits"}
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return "", badRequest{"the source must be 64 hex digits"}
		}
	}
	return h, nil
}

// afterCreate is where a form's create sends its author: the list, which
// says so when the entry waits for approval.
func afterCreate(e store.Entry) string {
	if e.Pending {
		return "/visitor/visitor_list/?waiting=1"
	}
	return "/visitor/visitor_list/"
}
