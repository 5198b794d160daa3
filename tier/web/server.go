// Package web is the presentation tier: the embedded static site (the home
// page and /static/) and, under /visitor/, the application tier, reached
// in-process (role all) or through a reverse proxy (role web).
package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/guestbook/guestbook/tier/app"

	"github.com/guestbook/guestbook/assets"
	"github.com/guestbook/guestbook/config"
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
	opts Options
	home map[string]*assets.Blob // the home page, rendered once per language
	mux  *http.ServeMux
}

// New renders the home page once per language and builds the routes.
func New(opts Options) (*Server, error) {
	if opts.Static == nil {
		opts.Static = assets.NewStatic()
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	s := &Server{opts: opts, home: map[string]*assets.Blob{}, mux: http.NewServeMux()}
	tmpl := page.Parse(opts.Static, nil, "web/index.html")["web/index.html"]
	for _, lang := range []string{page.Ko, page.En} {
		v := page.NewView(lang, "/", opts.Instance, opts.Version, page.T(lang, "web.title"), "home", nil)
		body, err := page.Execute(tmpl, v)
		if err != nil {
			return nil, fmt.Errorf("render home page: %w", err)
		}
		s.home[lang] = assets.NewBlob(body, "text/html; charset=utf-8")
	}
	s.routes()
	return s, nil
}

func (s *Server) routes() {
	s.mux.HandleFunc("GET /{$}", s.handleHome)
	s.mux.Handle("GET /static/", s.opts.Static)
	s.mux.Handle("GET /favicon.ico", s.opts.Static)
	s.mux.Handle("/visitor/", s.opts.App)
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { app.WriteHealth(w, nil) })
	s.mux.HandleFunc("GET /readyz", s.handleReadyz)
}

// ServeHTTP serves the web tier.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mux.ServeHTTP(w, r)
}

// handleHome serves the prepared home page in the reader's language. It is
// the same bytes for every reader of a language, so its ETag makes a reload
// a 304.
func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) {
	page.RememberLang(w, r)
	h := w.Header()
	h.Set("Vary", "Accept-Language, Cookie")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	s.home[page.Lang(r)].Serve(w, r, "private, no-cache")
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	var err error
	if s.opts.Ready != nil {
		err = s.opts.Ready(r.Context())
	}
	if err != nil {
		s.opts.Log.Warn("not ready", "err", err)
	}
	app.WriteHealth(w, err)
}
