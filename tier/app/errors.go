package app

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/guestbook/guestbook/tier/forwarded"

	"github.com/guestbook/guestbook/tier/page"

	"github.com/guestbook/guestbook/store"
)

// retryAfterSeconds is what a 503 tells clients to wait before trying again.
const retryAfterSeconds = 5

// statusClientClosed is Nginx's status for a request its client gave up on.
const statusClientClosed = 499

// fail is the one place that turns an error into a response: a page for
// browsers, JSON under /visitor/api/. Only unexpected errors (500) and
// unavailability (503) are logged, once, here.
//
// A request whose client went away (a browser closed, or the web tier gave
// up on this attempt and sent it elsewhere) gets a bare 499, Nginx's
// "client closed request": nobody reads it, it is no server error, and it
// must not count as one in the metrics or the 5xx alert.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		w.WriteHeader(statusClientClosed)
		return
	}
	status := statusOf(err)
	switch status {
	case http.StatusUnprocessableEntity:
		var (
			ve *store.ValidationError
			rf *refused
		)
		switch {
		case errors.As(err, &ve): // not a reused key: no field broke a rule
			s.opts.Observer.ValidationFailed()
		case errors.As(err, &rf):
			s.opts.Observer.WriteRefused(rf.reason)
		}
	case http.StatusInternalServerError:
		s.opts.Log.Error("request failed", "method", r.Method, "path", r.URL.Path,
			"request_id", forwarded.From(r.Context()).ID, "err", err)
	case http.StatusTooManyRequests:
		s.writeLimited(w, err)
	case http.StatusServiceUnavailable:
		s.opts.Log.Warn("database unavailable", "method", r.Method, "path", r.URL.Path,
			"request_id", forwarded.From(r.Context()).ID, "err", err)
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterSeconds))
	}
	if isAPI(r) {
		s.writeJSONError(w, status, err)
		return
	}
	lang := page.Lang(r)
	msg := page.T(lang, "error."+strconv.Itoa(status))
	var br badRequest
	if errors.As(err, &br) {
		msg += " " + br.msg
	}
	s.render(w, r, status, "error", page.T(lang, "error.title"), "", errorPage{Status: status, Message: msg})
}

type errorPage struct {
	Status  int
	Message string
}

// statusOf maps the coded errors to HTTP statuses.
func statusOf(err error) int {
	var (
		ve  *store.ValidationError
		rf  *refused
		mbe *http.MaxBytesError
		br  badRequest
	)
	switch {
	case errors.As(err, &ve), errors.As(err, &rf), errors.Is(err, store.ErrKeyReused):
		return http.StatusUnprocessableEntity
	case errors.Is(err, errKeyInFlight):
		return http.StatusConflict
	case errors.Is(err, store.ErrWriteLimited):
		return http.StatusTooManyRequests
	case errors.Is(err, store.ErrNotFound), errors.Is(err, errNoRoute):
		return http.StatusNotFound
	case errors.Is(err, errMethod):
		return http.StatusMethodNotAllowed
	case errors.Is(err, store.ErrForbidden), errors.Is(err, errCrossOrigin):
		return http.StatusForbidden
	case errors.As(err, &mbe), errors.Is(err, errTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, errUnsupportedMedia):
		return http.StatusUnsupportedMediaType
	case errors.As(err, &br):
		return http.StatusBadRequest
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, store.ErrSchemaBehind),
		errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
