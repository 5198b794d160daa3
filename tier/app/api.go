package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/guestbook/guestbook/tier/page"

	"github.com/guestbook/guestbook/store"
)

// The JSON API under /visitor/api/. Errors are {"error": "...", "fields":
// {...}} with the status the coded error maps to. Clients that send no Origin
// (curl, scripts) use it freely; browsers only from this origin.

var errUnsupportedMedia = errors.New("content type must be application/json")

// apiPageDefault is the list's page size when ?limit= is absent.
const apiPageDefault = 20

type apiList struct {
	Entries    []apiEntry `json:"entries"`
	NextBefore *int64     `json:"next_before"`
}

// apiEntry is an entry as the API shows it. The email is for the admin
// alone (whoever writes an entry gives it to the guestbook's keeper, not to
// its readers): it is there only for a request that carries the admin token
// as its bearer, and left out of every other answer.
type apiEntry struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Email     string    `json:"email,omitempty"`
	Day       string    `json:"day"`
	Content   string    `json:"content"`
	CreatedAt time.Time `json:"created_at"`
}

func showEntry(e store.Entry, admin bool) apiEntry {
	out := apiEntry{ID: e.ID, Name: e.Name, Day: e.Day, Content: e.Content, CreatedAt: e.CreatedAt}
	if admin {
		out.Email = e.Email
	}
	return out
}

// adminReader says r carries the admin token as its bearer. Any other
// bearer (a delete token, a wrong guess) reads as the public does: it is
// not refused, so an answer says nothing about the token but its result.
// The answer then depends on Authorization, which Vary tells caches.
func (s *Server) adminReader(w http.ResponseWriter, r *http.Request) bool {
	w.Header().Add("Vary", "Authorization")
	return s.isAdmin(bearerToken(r.Header.Get("Authorization")))
}

func (s *Server) handleAPIEntryList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	before, err := optionalID(q.Get("before"), "before")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	limit := apiPageDefault
	if raw := q.Get("limit"); raw != "" {
		if limit, err = strconv.Atoi(raw); err != nil || limit < 1 || limit > store.MaxPage {
			s.fail(w, r, badRequest{fmt.Sprintf("limit must be a whole number from 1 to %d", store.MaxPage)})
			return
		}
	}
	list, err := s.entries.ListEntries(r.Context(), before, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	admin := s.adminReader(w, r)
	out := apiList{Entries: make([]apiEntry, len(list.Entries))}
	for i, e := range list.Entries {
		out.Entries[i] = showEntry(e, admin)
	}
	if list.NextBefore != 0 {
		out.NextBefore = &list.NextBefore
	}
	s.writeSharedJSON(w, r, listAPIPages, out)
}

func (s *Server) handleAPIEntryGet(w http.ResponseWriter, r *http.Request) {
	e, err := s.pathEntry(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeSharedJSON(w, r, forAnyone, showEntry(e, s.adminReader(w, r)))
}

// apiCreated is the entry, as the public sees it, plus the token that may
// delete it. Only the creator ever receives the token: the store keeps its
// hash.
type apiCreated struct {
	apiEntry
	// Pending tells the author the entry waits for the admin's approval
	// (app.moderation: pre): until then no GET finds it.
	Pending     bool   `json:"pending,omitempty"`
	DeleteToken string `json:"delete_token"`
}

func (s *Server) handleAPIEntryCreate(w http.ResponseWriter, r *http.Request) {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		s.fail(w, r, errUnsupportedMedia)
		return
	}
	key, err := keyFromHeader(r.Header)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.fail(w, r, jsonError(err))
		return
	}
	var draft store.Draft
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&draft); err != nil {
		s.fail(w, r, jsonError(err))
		return
	}
	if !validText(body, draft) {
		s.fail(w, r, badRequest{"the body is not valid UTF-8 text"})
		return
	}
	if dec.More() {
		s.fail(w, r, badRequest{"the body must be one JSON object"})
		return
	}
	if rf := s.tooManyLinks(draft.Content); rf != nil {
		s.fail(w, r, rf)
		return
	}
	draft.Sender = s.sender(r)
	e, token, created, err := s.createFromAPI(r.Context(), draft, key)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if created {
		s.opts.Observer.EntryCreated()
	} else {
		w.Header().Set(replayedHeader, "true")
	}
	s.wrote(w, r)
	w.Header().Set("Location", "/visitor/api/entries/"+strconv.FormatInt(e.ID, 10))
	writeJSON(w, http.StatusCreated, apiCreated{apiEntry: showEntry(e, false), Pending: e.Pending, DeleteToken: token})
}

// createFromAPI stores draft with a fresh delete token or, with a key, once:
// the token is then derived from the key, so that a resend gets the first
// answer's token back. created is false for a resend.
func (s *Server) createFromAPI(ctx context.Context, draft store.Draft, key string) (e store.Entry, token string, created bool, err error) {
	draft.Pending = s.opts.PreModeration // the answer's "pending": true tells the author
	if key == "" {
		token = newSecret()
		e, err = s.entries.CreateEntry(ctx, draft, token)
		return e, token, err == nil, err
	}
	k := store.Keyed{Key: key, Scope: scopeAPI, Draft: draft}
	token = derivedSecret(labelDeleteToken, key, k.RequestHash())
	e, created, err = s.createKeyed(ctx, k, token, false)
	return e, token, created, err
}

func (s *Server) handleAPIEntryDelete(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	token := bearerToken(r.Header.Get("Authorization"))
	switch {
	case token == "":
		err = fmt.Errorf("delete entry %d without a token: %w", id, store.ErrForbidden)
	case s.isAdmin(token):
		err = s.entries.DeleteEntryAsAdmin(r.Context(), id)
	default:
		err = s.entries.DeleteEntry(r.Context(), id, token)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.opts.Observer.EntryDeleted()
	s.wrote(w, r)
	w.WriteHeader(http.StatusNoContent)
}

// validText refuses what encoding/json quietly repairs: invalid UTF-8 bytes
// and lone \uD800-\uDFFF escapes both decode to U+FFFD. A U+FFFD in a field
// is taken as written only when the body itself has one, literally or as
// \ufffd.
func validText(body []byte, d store.Draft) bool {
	if !utf8.Valid(body) {
		return false
	}
	replaced := strings.ContainsRune(d.Name+d.Email+d.Day+d.Content, utf8.RuneError)
	written := bytes.ContainsRune(body, utf8.RuneError) || bytes.Contains(bytes.ToLower(body), []byte(`\ufffd`))
	return !replaced || written
}

// bearerToken reads "Bearer <token>"; the scheme's case does not matter
// (RFC 7235).
func bearerToken(header string) string {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// jsonError names what was wrong with a JSON body: 413 when too large,
// otherwise 400.
func jsonError(err error) error {
	var (
		mbe *http.MaxBytesError
		se  *json.SyntaxError
		te  *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return fmt.Errorf("read body: %w", err)
	case errors.Is(err, io.EOF):
		return badRequest{"the body is empty; send a JSON object"}
	case errors.As(err, &se):
		return badRequest{fmt.Sprintf("malformed JSON at byte %d", se.Offset)}
	case errors.As(err, &te):
		return badRequest{fmt.Sprintf("field %q must be a %s", te.Field, te.Type)}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return badRequest{strings.TrimPrefix(err.Error(), "json: ")}
	}
	return badRequest{"malformed JSON"}
}

type apiError struct {
	Error  string            `json:"error"`
	Fields map[string]string `json:"fields,omitempty"`
}

// writeJSONError writes err as the API's error object. Validation errors name
// each field's problem in English; other messages never carry internals.
func (s *Server) writeJSONError(w http.ResponseWriter, status int, err error) {
	out := apiError{Error: page.T(page.En, "error."+strconv.Itoa(status))}
	var (
		ve *store.ValidationError
		rf *refused
		br badRequest
	)
	switch {
	case errors.As(err, &ve):
		out.Error = "invalid entry"
		out.Fields = map[string]string{}
		for field, p := range ve.Fields {
			out.Fields[field] = problemText(page.En, field, p)
		}
	case errors.As(err, &rf):
		out.Error = rf.apiText()
	case errors.As(err, &br):
		out.Error = br.msg
	case errors.Is(err, store.ErrKeyReused):
		out.Error = "this " + keyHeaderName + " was already used by a request with a different body"
	case errors.Is(err, errKeyInFlight):
		out.Error = "a request with this " + keyHeaderName + " is still in progress; send it again once it has been answered"
	case errors.Is(err, store.ErrWriteLimited):
		out.Error = s.writeLimitMessage(w.Header())
	case status == http.StatusUnsupportedMediaType:
		out.Error = errUnsupportedMedia.Error()
	}
	writeJSON(w, status, out)
}

// writeJSON answers v as JSON with status, kept by no cache. What it is
// given (entries, the error object, the topology) is made of strings and
// numbers and always encodes; should that ever change, the answer is still
// a JSON 500.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, ok := encodeJSON(w, v)
	if !ok {
		return
	}
	w.Header().Set("Cache-Control", cacheNoStore)
	writeJSONBody(w, status, body)
}

// writeSharedJSON answers v with 200, as an answer the same for every
// reader (of the parameters sh names): shared caches may keep it unless r
// is personal (the admin's bearer, whose answer has emails) (cacheHeaders).
func (s *Server) writeSharedJSON(w http.ResponseWriter, r *http.Request, sh shared, v any) {
	body, ok := encodeJSON(w, v)
	if !ok {
		return
	}
	if s.cacheHeaders(w.Header(), r, http.StatusOK, body, sh) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	writeJSONBody(w, http.StatusOK, body)
}

// encodeJSON is v encoded and a newline, or false once the last resort
// has answered.
func encodeJSON(w http.ResponseWriter, v any) ([]byte, bool) {
	body, err := json.Marshal(v)
	if err != nil {
		lastResort(w, "application/json; charset=utf-8", `{"error":"internal error"}`+"\n")
		return nil, false
	}
	return append(body, '\n'), true
}

func writeJSONBody(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}
