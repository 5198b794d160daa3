package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/guestbook/guestbook/tier/forwarded"
	"github.com/guestbook/guestbook/tier/page"
)

// The web tier's coded errors. Whatever goes wrong on the way to an answer
// is one of these, wrapped with its context, and fail turns it into a
// status and a page (or JSON under /visitor/api/).
var (
	// errNoUpstream (upstream.go): no app tier upstream could take the
	// request (502).
	// errUpstream: the chosen upstream failed before answering (502).
	errUpstream = errors.New("the app tier upstream failed")
	// errTryTimeout (balancer.go): no upstream began to answer in time
	// (504); a write without a key may or may not have been stored.
	// errTooLarge: the body is over page.MaxBodyBytes (413).
	errTooLarge = errors.New("request body too large")
	// errBadRequest: the request can't be read or its path is not one a
	// browser sends (400).
	errBadRequest = errors.New("malformed request")
	// errNotFound and errMethod: the mux has no such route (404), or not for
	// this method (405).
	errNotFound = errors.New("no such page")
	errMethod   = errors.New("method not allowed")
	// errShed: the web tier is over its concurrency limit (503); nothing
	// of the request was done.
	errShed = errors.New("over the concurrency limit")
	// errRateLimited (a rateLimitedError, ratelimit.go): the client is
	// over web.rate_limit (429); nothing of the request was done.
	errRateLimited = errors.New("over the client's rate limit")
	// errClientGone: the client closed the connection before the answer.
	// Nobody reads what is written; 499 (Nginx's "client closed request")
	// keeps it out of the 200s in the access log and the metrics.
	errClientGone = errors.New("client closed the request")
)

// statusClientClosed is Nginx's status for a request its client gave up on.
const statusClientClosed = 499

// statusOf maps the coded errors to HTTP statuses.
func statusOf(err error) int {
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, errClientGone):
		return statusClientClosed
	case errors.Is(err, errShed):
		return http.StatusServiceUnavailable
	case errors.Is(err, errRateLimited):
		return http.StatusTooManyRequests
	case errors.Is(err, errTryTimeout):
		return http.StatusGatewayTimeout
	case errors.Is(err, errNoUpstream), errors.Is(err, errUpstream):
		return http.StatusBadGateway
	case errors.Is(err, errTooLarge), errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, errBadRequest):
		return http.StatusBadRequest
	case errors.Is(err, errNotFound):
		return http.StatusNotFound
	case errors.Is(err, errMethod):
		return http.StatusMethodNotAllowed
	}
	return http.StatusInternalServerError
}

// failStatuses are the statuses the web tier answers with, each page made
// once per language at start.
var failStatuses = []int{http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed,
	http.StatusRequestEntityTooLarge, http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
	http.StatusServiceUnavailable, http.StatusGatewayTimeout}

// fail is the web tier's one place that turns an error into an answer: a
// page in the reader's language, or JSON under /visitor/api/. It logs only
// what an operator must hear of (a failing app tier, a bug), once, here.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := statusOf(err)
	switch status {
	case statusClientClosed:
		w.WriteHeader(status)
		return
	case http.StatusServiceUnavailable:
		s.opts.Observer.Shed("web")
	case http.StatusTooManyRequests:
		s.opts.Observer.RateLimited("web")
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		s.opts.Observer.Unavailable()
		// With no upstream in the rotation every request is refused at
		// once: the pool said so once, when the last one went down.
		level := slog.LevelWarn
		if errors.Is(err, errNoUpstream) {
			level = slog.LevelDebug
		}
		s.opts.Log.Log(r.Context(), level, "app tier unavailable", "method", r.Method, "path", r.URL.Path,
			"request_id", forwarded.IDFrom(r.Context()), "err", err)
	case http.StatusInternalServerError:
		s.opts.Log.Error("request failed", "method", r.Method, "path", r.URL.Path,
			"request_id", forwarded.IDFrom(r.Context()), "err", err)
	}
	h := w.Header()
	page.SetSecurityHeaders(h)
	h.Set("Cache-Control", "no-store")
	if cs := s.madeHere.of(err); cs != nil {
		h["Age"], h["Cache-Status"] = ageZero, cs
	}
	switch status {
	case http.StatusServiceUnavailable:
		h["Retry-After"] = retryAfterShed
	case http.StatusTooManyRequests:
		h["Retry-After"] = retryAfterRate(err)
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		h["Retry-After"] = retryAfterUnavailable
	}
	if isAPI(r) {
		h.Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		w.Write(s.errorJSON[status])
		return
	}
	page.SetHTMLHeaders(h)
	w.WriteHeader(status)
	w.Write(s.errorPages[page.Lang(r)][status])
}

// madeHere are the Cache-Status values of the refusals the web tier makes
// itself under /visitor/, each made once: past the client's rate (before
// the cache sees the request), past the concurrency limit, and with no
// upstream to send it to. Neither hit nor fwd: the answer came neither
// from the cache nor from beyond it, and the request went no further than
// this instance, which detail says. (RFC 9211 would have such an answer
// carry no member at all; every /visitor/ answer says here how this
// instance answered it, and these say it without claiming a forward.)
// They replace what the cache marked before the refusal.
type madeHere struct{ rateLimited, shed, noUpstream []string }

func newMadeHere(cacheName string) madeHere {
	status := func(detail string) []string { return []string{cacheName + "; detail=" + detail}[:1:1] }
	return madeHere{rateLimited: status("rate-limited"), shed: status("shed"), noUpstream: status("no-upstream")}
}

// of is err's Cache-Status, or nil for an answer the web tier does not
// make in the app tier's place.
func (m madeHere) of(err error) []string {
	switch {
	case errors.Is(err, errRateLimited):
		return m.rateLimited
	case errors.Is(err, errShed):
		return m.shed
	case errors.Is(err, errNoUpstream):
		return m.noUpstream
	}
	return nil
}

var (
	retryAfterShed        = []string{page.RetryAfterShed}[:1:1]
	retryAfterUnavailable = []string{"5"}[:1:1]
)

// failMessage is what an error page or the API says of status, in lang.
func failMessage(lang string, status int) string {
	switch status {
	case http.StatusBadGateway:
		return page.T(lang, "web.unavailable.text")
	case http.StatusServiceUnavailable:
		return page.T(lang, "error.shed")
	case http.StatusTooManyRequests:
		return page.T(lang, "web.rate_limited")
	}
	return page.T(lang, "error."+strconv.Itoa(status))
}

// errorJSON is the API's error object for status, made once.
func errorJSON(status int) []byte {
	body, _ := json.Marshal(struct {
		Error string `json:"error"`
	}{failMessage(page.En, status)}) // a struct of one string always encodes
	return append(body, '\n')
}

// failTitle is an error page's heading.
func failTitle(lang string, status int) string {
	if status == http.StatusBadGateway {
		return page.T(lang, "web.unavailable.title")
	}
	return page.T(lang, "error.title")
}

// errorPage is the data of the web tier's error page.
type errorPage struct {
	Status  int
	Heading string
	Message string
}

// uncleanPath refuses a path that is not the clean form of itself
// ("/static/../go.mod", "//x", "/a/./b", or any of them percent-encoded),
// before ServeMux would answer it with a redirect to the cleaned path: a
// browser never sends one, and a redirect would walk a scanner to a file it
// should not learn exists.
func uncleanPath(r *http.Request) error {
	if page.CleanPath(r.URL.Path) {
		return nil
	}
	return fmt.Errorf("path %q: %w", r.URL.Path, errBadRequest)
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/visitor/api/") }
