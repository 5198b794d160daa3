package app

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/guestbook/guestbook/tier/hops"
	"github.com/guestbook/guestbook/tier/page"
)

// Refusing past capacity. Over its concurrency limit the app tier answers
// 503 at once, before it reads the request's body, runs a query or renders
// a template, with bytes made when it started: at five times its capacity,
// four requests in five are refused on the same core that serves the
// fifth, so a refusal must cost a small part of a served request. Nothing
// of a refused request was done, which its Guestbook-Shed header tells the
// web tier, so that it may send the request to another instance.

// shedAnswers are the prepared refusals: a page per language, and JSON.
type shedAnswers struct {
	page map[string][]byte
	json []byte
}

// prepareShed renders the refusal once per language.
func (s *Server) prepareShed() shedAnswers {
	out := shedAnswers{page: map[string][]byte{},
		json: []byte(`{"error":` + strconv.Quote(page.T(page.En, "error.shed")) + "}\n")}
	for _, lang := range []string{page.Ko, page.En} {
		v := page.NewView(lang, &url.URL{Path: "/visitor/"}, s.opts.Instance, s.opts.Version,
			page.T(lang, "error.title"), "", errorPage{Status: http.StatusServiceUnavailable, Message: page.T(lang, "error.shed")})
		v.Path = hops.Path{App: s.self}
		body, err := page.Execute(s.pages["error"], v)
		if err != nil {
			panic("app: the error page does not render: " + err.Error()) // the templates are embedded: a test finds this
		}
		out.page[lang] = body
	}
	return out
}

var (
	retryAfterShed = []string{page.RetryAfterShed}[:1:1]
	shedMark       = []string{"concurrency"}[:1:1]
	noStore        = []string{"no-store"}[:1:1]
)

// admit admits r under the tier's concurrency limit, or refuses it and
// reports false. An admitted request's done must be called when it is
// answered.
func (s *Server) admit(w http.ResponseWriter, r *http.Request) (done func(), ok bool) {
	a := s.opts.Admission
	if a == nil || page.NeverShed(r.URL.Path) {
		return func() {}, true
	}
	if !a.Admit() {
		s.shed(w, r)
		return nil, false
	}
	start := time.Now()
	return func() { a.Done(time.Since(start)) }, true
}

// shed writes the prepared refusal.
func (s *Server) shed(w http.ResponseWriter, r *http.Request) {
	s.opts.Observer.Shed("app")
	h := w.Header()
	page.SetSecurityHeaders(h)
	h[hops.HeaderApp] = s.appHop
	h[hops.HeaderShed] = shedMark
	h["Retry-After"] = retryAfterShed
	h["Cache-Control"] = noStore
	if isAPI(r) {
		h.Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write(s.shedAnswers.json)
		return
	}
	page.SetHTMLHeaders(h)
	w.WriteHeader(http.StatusServiceUnavailable)
	w.Write(s.shedAnswers.page[page.Lang(r)])
}
