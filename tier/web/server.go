// Package web is the presentation tier: the embedded static site (the home
// page and /static/) and, under /visitor/, the application tier, reached
// in-process (role all) or through a reverse proxy (role web).
package web

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/guestbook/guestbook/assets"
	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/tier/hops"
	"github.com/guestbook/guestbook/tier/page"
)

// Options are what New needs.
type Options struct {
	Instance config.Instance
	Version  string
	Static   *assets.Static
	Log      *slog.Logger
	// App serves /visitor/: the app tier itself (role all) or a proxy to it
	// (role web).
	App http.Handler
	// Ready answers /readyz: nil when this process can serve. Nil means
	// always ready.
	Ready func(context.Context) error
}

// Server is the web tier's http.Handler.
type Server struct {
	opts        Options
	home        map[string]*assets.Blob // the home page, rendered once per language
	unavailable map[string][]byte       // the 502 page, rendered once per language
	mux         *http.ServeMux
	webHop      []string // this instance's Guestbook-Web value, made once
}

// New renders the home page once per language and builds the routes.
func New(opts Options) (*Server, error) {
	if opts.Static == nil {
		opts.Static = assets.NewStatic()
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	hop := hops.Of(opts.Instance)
	s := &Server{opts: opts, home: map[string]*assets.Blob{}, unavailable: map[string][]byte{}, mux: http.NewServeMux(),
		webHop: []string{hop.Header()}[:1:1]}
	tmpl := page.Parse(opts.Static, nil, "web/index.html", "web/unavailable.html")
	// The web tier's own pages are the same bytes for every request, made
	// here once: their path is this instance alone, since they go no
	// further. The home page fetches nothing more with a script: what it
	// would show is the path of another request, which the guestbook pages
	// and the topology page show as their own.
	path := hops.Path{Web: hop}
	for _, lang := range []string{page.Ko, page.En} {
		home := &url.URL{Path: "/"}
		v := page.NewView(lang, home, opts.Instance, opts.Version, page.T(lang, "web.title"), "home", nil)
		v.Path = path
		body, err := page.Execute(tmpl["web/index.html"], v)
		if err != nil {
			return nil, fmt.Errorf("render home page: %w", err)
		}
		s.home[lang] = assets.NewBlob(body, "text/html; charset=utf-8")
		v = page.NewView(lang, home, opts.Instance, opts.Version, page.T(lang, "web.unavailable.title"), "", nil)
		v.Path = path
		if s.unavailable[lang], err = page.Execute(tmpl["web/unavailable.html"], v); err != nil {
			return nil, fmt.Errorf("render 502 page: %w", err)
		}
	}
	if p, ok := opts.App.(*Proxy); ok {
		p.unavailable = s.serveUnavailable
		p.webHop = s.webHop
	}
	s.routes()
	return s, nil
}

// serveUnavailable answers 502 when no app tier upstream can take a request:
// JSON under /visitor/api/, a page in the reader's language otherwise.
func (s *Server) serveUnavailable(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	page.SetSecurityHeaders(h)
	h.Set("Cache-Control", "no-store")
	h.Set("Retry-After", "5")
	if strings.HasPrefix(r.URL.Path, "/visitor/api/") {
		h.Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, `{"error":"the application tier is unavailable"}`+"\n")
		return
	}
	page.SetHTMLHeaders(h)
	w.WriteHeader(http.StatusBadGateway)
	w.Write(s.unavailable[page.Lang(r)])
}

func (s *Server) routes() {
	s.mux.HandleFunc("GET /{$}", s.handleHome)
	s.mux.Handle("GET /static/", s.opts.Static)
	s.mux.Handle("GET /favicon.ico", s.opts.Static)
	s.mux.Handle("/visitor/", s.withWebHop(s.opts.App))
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { page.WriteHealth(w, nil, "") })
	s.mux.HandleFunc("GET /readyz", s.handleReadyz)
}

// Route names the route pattern r matches, for metrics: the app tier's own
// when it runs in-process and can say, "unmatched" for nothing.
func (s *Server) Route(r *http.Request) string {
	_, pattern := s.mux.Handler(r)
	if pattern == "/visitor/" {
		if router, ok := s.opts.App.(interface{ Route(*http.Request) string }); ok {
			return router.Route(r)
		}
	}
	if pattern == "" {
		return "unmatched"
	}
	return pattern
}

// ServeHTTP serves the web tier. Its own pages get the security headers; the
// app tier's (under /visitor/) come with their own, and static files carry
// nosniff alone (a policy for a stylesheet or an image protects nothing, and
// every header costs on the hottest path).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.Path; !strings.HasPrefix(p, "/visitor/") && !strings.HasPrefix(p, "/static/") && p != "/favicon.ico" {
		page.SetSecurityHeaders(w.Header())
	}
	s.mux.ServeHTTP(w, r)
}

var (
	varyLanguage = []string{"Accept-Language, Cookie"}[:1:1]
	cachePrivate = assets.NewCacheControl("private, no-cache")
)

// handleHome serves the prepared home page in the reader's language. It is
// the same bytes for every reader of a language, so its ETag makes a reload
// a 304.
func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) {
	page.RememberLang(w, r)
	w.Header()["Vary"] = varyLanguage
	w.Header()[hops.HeaderWeb] = s.webHop
	s.home[page.Lang(r)].Serve(w, r, cachePrivate)
}

// withWebHop answers every /visitor/ request with this instance's
// Guestbook-Web, whether the app tier is reached through the proxy or
// in-process; the app tier adds Guestbook-App and Guestbook-Db.
func (s *Server) withWebHop(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()[hops.HeaderWeb] = s.webHop
		next.ServeHTTP(w, r)
	})
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	var err error
	if s.opts.Ready != nil {
		err = s.opts.Ready(r.Context())
	}
	if err != nil {
		s.opts.Log.Debug("not ready", "err", err)
	}
	page.WriteHealth(w, err, "not ready")
}
