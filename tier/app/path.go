package app

import (
	"net/http"

	"github.com/guestbook/guestbook/store"
	"github.com/guestbook/guestbook/tier/hops"
)

// The path of a request, as the app tier tells it: every response says
// which app instance made it (Guestbook-App) and, when a query ran, which
// database server answered (Guestbook-Db), and every page shows the whole
// path in its footer. The web instance in front is believed from a
// Guestbook-Web header only when the peer is in app.trusted_proxies: from
// anyone else the header (and any Guestbook-App, -Db or -Upstreams a client
// sent) is never read, so nobody can put a path of their choosing on a page.

// tracePath makes w answer with the path's headers and gives r a place
// where the store records the server that answers its queries.
func (s *Server) tracePath(w http.ResponseWriter, r *http.Request) (*pathWriter, *http.Request) {
	w.Header()[hops.HeaderApp] = s.appHop
	pw := &pathWriter{ResponseWriter: w}
	return pw, r.WithContext(store.RecordAnswers(r.Context(), &pw.answered))
}

// pathWriter adds Guestbook-Db, naming the server that answered the
// request's last query, to the response when its header is written: after
// the handler has run its queries, whichever way it answers (a page, JSON,
// a redirect, an error).
type pathWriter struct {
	http.ResponseWriter
	answered    store.Answered
	wroteHeader bool
}

func (w *pathWriter) WriteHeader(code int) {
	if !w.wroteHeader {
		w.wroteHeader = true
		if db, ok := w.answered.Server(); ok {
			w.Header()[hops.HeaderDB] = []string{dbHop(db).Header()}
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *pathWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the writer underneath.
func (w *pathWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// webHop is the web instance in front of r: this process itself in role
// all, what a trusted proxy's Guestbook-Web says, or none.
func (s *Server) webHop(r *http.Request) (hops.Instance, bool) {
	if s.opts.InProcessWeb {
		return s.self, true
	}
	if !s.opts.TrustedProxies.FromTrusted(r) {
		return hops.Instance{}, false
	}
	return hops.ParseInstance(r.Header.Get(hops.HeaderWeb))
}

// pathOf is the path of r so far, for its page's footer: the web instance
// when known, this app instance, and the database server that answered the
// last query, if one ran.
func (s *Server) pathOf(r *http.Request) hops.Path {
	p := hops.Path{App: s.self}
	p.Web, _ = s.webHop(r)
	if db, ok := store.AnsweredFrom(r.Context()).Server(); ok {
		p.DB = dbHop(db)
	}
	return p
}

// dbHop is the store's server as the path shows it.
func dbHop(s store.Server) hops.DB { return hops.DB{Name: s.Name, Role: s.Role, Lag: s.Lag} }
