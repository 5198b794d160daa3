package app

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/guestbook/guestbook/tier/page"
)

// protect wraps the routes with what every request gets: a panic becomes a
// 500 page, security headers, no-store by default, the path's headers, the refusal of an unclean
// path, the body limit (page.MaxBodyBytes), protection from cross-site
// request forgery, and the web tier's time budget (withBudget).
func (s *Server) protect(next http.Handler) http.Handler {
	// CrossOriginProtection rejects unsafe methods that a browser marks as
	// cross-site (Sec-Fetch-Site) or whose Origin is not the Host. Clients
	// that send neither header (curl, scripts) are not browsers and pass,
	// so the JSON API works for them.
	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, fmt.Errorf("cross-origin %s %s: %w", r.Method, r.URL.Path, errCrossOrigin))
	}))
	guarded := withBudget(csrf.Handler(next))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// First, so that a refusal costs nothing of what follows.
		done, ok := s.admit(w, r)
		if !ok {
			return
		}
		defer done()
		pw, r := s.tracePath(w, r)
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.fail(pw, r, fmt.Errorf("panic serving %s %s: %v", r.Method, r.URL.Path, v))
			}
		}()
		page.SetSecurityHeaders(pw.Header())
		// Kept by no cache unless the handler says its answer is the same
		// for everyone (cacheHeaders): a redirect after a write, an error,
		// a page added later are private by default.
		pw.Header()["Cache-Control"] = noStore
		if !page.CleanPath(r.URL.Path) {
			s.fail(pw, r, badRequest{"the path is not in its clean form"})
			return
		}
		if r.ContentLength > page.MaxBodyBytes {
			s.fail(pw, r, fmt.Errorf("body of %d bytes: %w", r.ContentLength, errTooLarge))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, page.MaxBodyBytes)
		s.dispatch(guarded, pw, s.readYourWrites(r))
	})
}

// dispatch serves r through h, turning the mux's own plain-text 404 and 405
// into the guestbook's page (or JSON under /visitor/api/), and records the
// route that served r. The mux's Allow header stays.
func (s *Server) dispatch(h http.Handler, w http.ResponseWriter, r *http.Request) {
	page.Dispatch(h, w, r, func(code int) {
		err := errNoRoute
		if code == http.StatusMethodNotAllowed {
			err = errMethod
		}
		s.fail(w, r, fmt.Errorf("%s %s: %w", r.Method, r.URL.Path, err))
	})
}

var (
	errCrossOrigin = errors.New("cross-origin request refused")
	errTooLarge    = errors.New("request body too large")
	errNoRoute     = errors.New("no such page")
	errMethod      = errors.New("method not allowed")
	errDraining    = errors.New("draining")
)

// badRequest is a malformed request: 400 with its message.
type badRequest struct{ msg string }

func (e badRequest) Error() string { return e.msg }

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/visitor/api/") }
