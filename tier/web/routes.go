package web

// routes lists every route of the web tier: its own pages and files, and
// the app tier's URLs under /visitor/, passed on whole.
func (s *Server) routes() {
	s.mux.HandleFunc("GET /healthz", s.handleHealthz)
	s.mux.HandleFunc("GET /readyz", s.handleReadyz)

	s.mux.HandleFunc("GET /{$}", s.handleHome)
	s.mux.HandleFunc("GET /static/", s.handleStatic)
	s.mux.HandleFunc("GET /favicon.ico", s.handleStatic)

	s.mux.HandleFunc("/visitor/", s.handleApp)
}
