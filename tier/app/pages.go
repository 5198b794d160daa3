package app

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"strconv"

	"github.com/guestbook/guestbook/tier/page"

	"github.com/guestbook/guestbook/store"
)

// pageSize is how many entries the list page shows.
const pageSize = 20

func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) {
	s.renderShared(w, r, forAnyone, "home", page.T(page.Lang(r), "home.title"), "guestbook", nil)
}

type listPage struct {
	Entries    []store.Entry
	Rows       template.HTML // the entries' rows, from the row cache
	Before     int64
	NextBefore int64
	// Waiting says the reader's entry was posted and waits for the admin's
	// approval (the create's redirect says so: afterCreate).
	Waiting bool
}

func (s *Server) handleEntryList(w http.ResponseWriter, r *http.Request) {
	before, err := optionalID(r.URL.Query().Get("before"), "before")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list, err := s.entries.ListEntries(r.Context(), before, pageSize)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	secret := authorSecret(r)
	lang := page.Lang(r)
	var hash string // hashed once for the page, not once per entry
	if secret != "" {
		hash = store.HashSecret(secret)
	}
	rows, err := s.rows.render(lang, list.Entries, func(e store.Entry) bool { return hash != "" && e.HasDeleteHash(hash) })
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The note that the reader's entry waits for approval is for its
	// author, whose redirect after the create asks for it: that page is
	// theirs alone, and waiting is no parameter a cache keys by (each
	// ?waiting=<anything> would be a page of its own).
	waiting, sh := r.URL.Query().Get("waiting") == "1", listPages
	if waiting {
		sh = forThisOne
	}
	s.renderShared(w, r, sh, "list", page.T(lang, "list.title"), "list",
		listPage{Entries: list.Entries, Rows: rows, Before: before, NextBefore: list.NextBefore, Waiting: waiting})
}

type detailPage struct {
	Entry store.Entry
}

func (s *Server) handleEntryDetail(w http.ResponseWriter, r *http.Request) {
	e, err := s.pathEntry(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderShared(w, r, forAnyone, "detail", e.Name, "list", detailPage{Entry: e})
}

// handleStatic serves an embedded file (so the app role alone still shows
// styled pages), or the app tier's 404.
func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	if !s.opts.Static.Serve(w, r) {
		s.fail(w, r, fmt.Errorf("static file %s: %w", r.URL.Path, errNoRoute))
	}
}

// handleHealthz says the process is up; it touches nothing else.
func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	page.WriteHealth(w, nil, "")
}

// handleReadyz says the database answers and its schema is current, so a
// load balancer sends traffic only to an instance that can serve it. The
// cause is logged at debug: a balancer polls often, and the store logs a
// lost database itself.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if s.opts.Draining() {
		page.WriteHealth(w, errDraining, "draining")
		return
	}
	err := s.Ready(r.Context())
	reason := "not ready"
	if errors.Is(err, store.ErrSchemaBehind) {
		reason = "schema not current"
	}
	if err != nil {
		s.opts.Log.Debug("not ready", "err", err)
	}
	page.WriteHealth(w, err, reason)
}

// Ready returns nil when the database answers and its schema is current.
func (s *Server) Ready(ctx context.Context) error {
	if err := s.entries.Ping(ctx); err != nil {
		return err
	}
	return s.entries.CheckSchema(ctx)
}

// pathEntry is the entry the route's {id} names: 400 for an id that is
// not one, the store's not-found for an entry that is gone.
func (s *Server) pathEntry(r *http.Request) (store.Entry, error) {
	id, err := pathID(r)
	if err != nil {
		return store.Entry{}, err
	}
	return s.entries.GetEntry(r.Context(), id)
}

// pathID reads the {id} of the route: a positive decimal number, else 400.
func pathID(r *http.Request) (int64, error) {
	id, err := optionalID(r.PathValue("id"), "id")
	if err == nil && id == 0 {
		err = badRequest{"id must be a positive whole number"}
	}
	return id, err
}

// optionalID parses an entry id given as text; empty is 0.
func optionalID(s, what string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, badRequest{what + " must be a positive whole number"}
		}
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id == 0 {
		return 0, badRequest{what + " must be a positive whole number"}
	}
	return id, nil
}
