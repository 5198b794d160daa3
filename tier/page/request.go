package page

import (
	"net/http"
	"path"
	"strings"

	"github.com/guestbook/guestbook/tier/reqlog"
)

// MaxBodyBytes is the largest request body either tier accepts; larger ones
// get 413. The longest valid entry (5,000 Korean characters, URL-encoded)
// is about 45 KiB. The web tier holds a body whole up to this size so that
// it can send it again, and the app tier reads no more.
const MaxBodyBytes = 64 << 10

// CleanPath reports whether p is the clean form of itself: absolute, with
// no "." or ".." segment and no empty one ("//"), a trailing slash aside.
// The URL's decoded path is what is checked, so encoded forms ("%2e%2e",
// "..%2f") are caught as well. Both tiers refuse an unclean path with 400
// before ServeMux would redirect it to its clean form.
func CleanPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	c := path.Clean(p)
	if strings.HasSuffix(p, "/") && c != "/" {
		c += "/"
	}
	return c == p
}

// Dispatch serves r through h, a tier's mux (or a handler that passes r on
// to it unchanged), and records the route pattern that served r for the
// access log and the metrics. A 404 or 405 the mux writes itself (r matched
// no route: r.Pattern is still empty) is answered by muxError, the tier's
// error adapter, instead of the mux's plain text, keeping the mux's Allow
// header. A 404 a handler writes (no such entry) passes through untouched.
//
// The route is recorded even when the handler panics, and a request that
// matched no route records "unmatched" itself: in role all the app tier's
// own answer comes first, and the web tier's "/visitor/" around it must
// not take its place.
func Dispatch(h http.Handler, w http.ResponseWriter, r *http.Request, muxError func(code int)) {
	defer func() {
		route := r.Pattern
		if route == "" {
			route = reqlog.Unmatched
		}
		reqlog.SetRoute(r.Context(), route)
	}()
	h.ServeHTTP(&muxErrorWriter{ResponseWriter: w, r: r, fail: muxError}, r)
}

type muxErrorWriter struct {
	http.ResponseWriter
	r        *http.Request
	fail     func(code int)
	replaced bool
}

func (w *muxErrorWriter) WriteHeader(code int) {
	if w.r.Pattern == "" && (code == http.StatusNotFound || code == http.StatusMethodNotAllowed) {
		w.replaced = true
		w.fail(code)
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *muxErrorWriter) Write(p []byte) (int, error) {
	if w.replaced {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (w *muxErrorWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
