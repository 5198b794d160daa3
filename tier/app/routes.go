package app

// routes lists every route of the application tier. The URLs are the
// original Django guestbook's, so its static site's links keep working; the
// detail and delete pages answer with and without a trailing slash.
func (s *Server) routes() {
	s.mux.HandleFunc("GET /healthz", s.handleHealthz)
	s.mux.HandleFunc("GET /readyz", s.handleReadyz)

	s.mux.HandleFunc("GET /visitor/{$}", s.handleHome)
	s.mux.HandleFunc("GET /visitor/visitor_list/{$}", s.handleEntryList)
	s.mux.HandleFunc("GET /visitor/visitor_detail/{id}", s.handleEntryDetail)
	s.mux.HandleFunc("GET /visitor/visitor_detail/{id}/{$}", s.handleEntryDetail)
	s.mux.HandleFunc("GET /visitor/visitor_create/{$}", s.handleEntryCreateForm)
	s.mux.HandleFunc("POST /visitor/visitor_create/{$}", s.handleEntryCreate)
	s.mux.HandleFunc("GET /visitor/visitor_delete/{id}", s.handleEntryDeleteConfirm)
	s.mux.HandleFunc("GET /visitor/visitor_delete/{id}/{$}", s.handleEntryDeleteConfirm)
	s.mux.HandleFunc("POST /visitor/visitor_delete/{id}", s.handleEntryDelete)
	s.mux.HandleFunc("POST /visitor/visitor_delete/{id}/{$}", s.handleEntryDelete)
	s.mux.HandleFunc("GET /visitor/topology", s.handleTopology)

	s.mux.HandleFunc("GET /visitor/admin/{$}", s.handleAdmin)
	s.mux.HandleFunc("POST /visitor/admin/sign-in", s.handleAdminSignIn)
	s.mux.HandleFunc("POST /visitor/admin/sign-out", s.handleAdminSignOut)
	s.mux.HandleFunc("POST /visitor/admin/entries", s.handleAdminEntries)
	s.mux.HandleFunc("GET /visitor/admin/source/{hash}", s.handleAdminSourceConfirm)
	s.mux.HandleFunc("POST /visitor/admin/source/{hash}", s.handleAdminSourceDelete)

	s.mux.HandleFunc("GET /visitor/api/entries", s.handleAPIEntryList)
	s.mux.HandleFunc("POST /visitor/api/entries", s.handleAPIEntryCreate)
	s.mux.HandleFunc("GET /visitor/api/entries/{id}", s.handleAPIEntryGet)
	s.mux.HandleFunc("DELETE /visitor/api/entries/{id}", s.handleAPIEntryDelete)
	s.mux.HandleFunc("GET /visitor/api/topology", s.handleAPITopology)

	s.mux.HandleFunc("GET /static/", s.handleStatic)
	s.mux.HandleFunc("GET /favicon.ico", s.handleStatic)
}
