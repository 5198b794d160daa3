package web

// routes lists every route of the web tier: its own pages and files, and
// the app tier's URLs under /visitor/, passed on whole.
func (s *Server) routes() {
	s.mux.HandleFunc("GET /healthz", s.handleHealthz)
	s.mux.HandleFunc("GET /readyz", s.handleReadyz)

	s.mux.HandleFunc("GET /{$}", s.handleHome)
	s.mux.Handle("GET /static/", s.opts.Static)
	s.mux.Handle("GET /favicon.ico", s.opts.Static)

	s.mux.HandleFunc("/visitor/", s.handleApp)
}
