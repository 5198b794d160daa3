package app

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// MaxBodyBytes is the largest request body accepted; larger ones get 413.
// The longest valid entry (5,000 Korean characters, URL-encoded) is ~45 KiB.
const MaxBodyBytes = 64 << 10

// contentSecurityPolicy allows only this origin's own files: no inline
// script, no framing, forms posting only here.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; " +
	"script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"

// protect wraps the routes with what every request gets: a panic becomes a
// 500 page, security headers, the body limit, and protection from cross-site
// request forgery.
func (s *Server) protect(next http.Handler) http.Handler {
	// CrossOriginProtection rejects unsafe methods that a browser marks as
	// cross-site (Sec-Fetch-Site) or whose Origin is not the Host. Clients
	// that send neither header (curl, scripts) are not browsers and pass,
	// so the JSON API works for them.
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, fmt.Errorf("cross-origin %s %s: %w", r.Method, r.URL.Path, errCrossOrigin))
	}))
	guarded := csrf.Handler(next)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.fail(w, r, fmt.Errorf("panic serving %s %s: %v", r.Method, r.URL.Path, v))
			}
		}()
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		if r.ContentLength > MaxBodyBytes {
			s.fail(w, r, fmt.Errorf("body of %d bytes: %w", r.ContentLength, errTooLarge))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		s.dispatch(guarded, w, r)
	})
}

// dispatch serves r through h, turning the mux's own plain-text 404 into
// the guestbook's page (or JSON under /visitor/api/) while keeping its 405s.
func (s *Server) dispatch(h http.Handler, w http.ResponseWriter, r *http.Request) {
	if _, pattern := s.mux.Handler(r); pattern != "" {
		h.ServeHTTP(w, r)
		return
	}
	h.ServeHTTP(&notFoundWriter{ResponseWriter: w, notFound: func() {
		s.fail(w, r, fmt.Errorf("%s %s: %w", r.Method, r.URL.Path, errNoRoute))
	}}, r)
}

// notFoundWriter replaces a 404 written by the mux with notFound's response.
type notFoundWriter struct {
	http.ResponseWriter
	notFound func()
	replaced bool
}

func (w *notFoundWriter) WriteHeader(code int) {
	if code == http.StatusNotFound {
		w.replaced = true
		w.notFound()
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *notFoundWriter) Write(p []byte) (int, error) {
	if w.replaced {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

var (
	errCrossOrigin = errors.New("cross-origin request refused")
	errTooLarge    = errors.New("request body too large")
	errNoRoute     = errors.New("no such page")
)

// badRequest is a malformed request: 400 with its message.
type badRequest struct{ msg string }

func (e badRequest) Error() string { return e.msg }

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/visitor/api/") }
