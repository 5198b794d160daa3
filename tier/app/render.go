package app

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/guestbook/guestbook/assets"
	"github.com/guestbook/guestbook/store"
	"github.com/guestbook/guestbook/tier/forwarded"
	"github.com/guestbook/guestbook/tier/page"
)

// pageFiles are the application tier's pages, each wrapped in the layout.
var pageFiles = map[string]string{
	"home": "app/home.html", "list": "app/list.html", "detail": "app/detail.html",
	"create": "app/create.html", "delete": "app/delete.html", "error": "app/error.html",
	"topology": "app/topology.html",
	"admin":    "app/admin.html", "admin_signin": "app/admin_signin.html", "admin_source": "app/admin_source.html",
}

func parsePages(static *assets.Static) map[string]*template.Template {
	files := make([]string, 0, len(pageFiles))
	for _, f := range pageFiles {
		files = append(files, f)
	}
	byFile := page.Parse(static, template.FuncMap{"field": newFormField}, files...)
	out := map[string]*template.Template{}
	for name, f := range pageFiles {
		out[name] = byFile[f]
	}
	return out
}

// render writes page name with status, in the reader's language, kept by
// no cache.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name, title, nav string, data any) {
	s.renderPage(w, r, status, name, title, nav, data, forThisOne)
}

// renderShared writes a page that sh says is the same for every reader of
// its language (and of the parameters it names): shared caches may keep it
// (cacheHeaders).
func (s *Server) renderShared(w http.ResponseWriter, r *http.Request, sh shared, name, title, nav string, data any) {
	s.renderPage(w, r, http.StatusOK, name, title, nav, data, sh)
}

func (s *Server) renderPage(w http.ResponseWriter, r *http.Request, status int, name, title, nav string, data any, sh shared) {
	page.RememberLang(w, r)
	v := page.NewView(page.Lang(r), r.URL, s.opts.Instance, s.opts.Version, title, nav, data)
	v.Path = s.pathOf(r)
	var err error
	key := headerKey{page: name, lang: v.Lang, title: v.Title, nav: v.Nav, switchURL: v.SwitchURL}
	v.Header, err = s.headers.get(key, func() (template.HTML, error) { return page.ExecuteHeader(s.pages[name], v) })
	if err != nil {
		s.renderFailed(w, r, name, fmt.Errorf("render the header of page %s: %w", name, err))
		return
	}
	buf := pageBuffers.Get().(*bytes.Buffer)
	defer putPageBuffer(buf)
	buf.Reset()
	if err := page.ExecuteInto(buf, s.pages[name], v); err != nil {
		s.renderFailed(w, r, name, fmt.Errorf("render page %s: %w", name, err))
		return
	}
	h := w.Header()
	page.SetHTMLHeaders(h)
	h.Set("Content-Language", v.Lang)
	if s.cacheHeaders(h, r, status, buf.Bytes(), sh) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes()) // copied or sent before Write returns: the buffer can go back
}

// renderFailed hands a page that could not be rendered to fail, as a 500.
// The error page itself failing is the one case fail can't answer with a
// page: it gets the plain last resort.
func (s *Server) renderFailed(w http.ResponseWriter, r *http.Request, name string, err error) {
	if name != "error" {
		s.fail(w, r, err)
		return
	}
	s.opts.Log.Error("request failed", "method", r.Method, "path", r.URL.Path,
		"request_id", forwarded.From(r.Context()).ID, "err", err)
	lastResort(w, "text/plain; charset=utf-8", "internal error\n")
}

// lastResort answers 500 with body when even the error answer could not be
// made.
func lastResort(w http.ResponseWriter, contentType, body string) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusInternalServerError)
	io.WriteString(w, body)
}

// headerKey is everything the part of a page before <main> depends on (see
// the "header" template in layout.html).
type headerKey struct{ page, lang, title, nav, switchURL string }

// Headers kept: about 2 KB each; the list's pages (one per ?before=) and the
// detail pages (one per title) are the only pages with many.
const (
	maxHeaderBytes = 2 << 20
	maxHeaderSize  = 8 << 10
)

// pageBuffers are reused for rendering pages (see page.ExecuteInto).
var pageBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putPageBuffer returns buf for reuse unless an unusual page grew it large:
// the pool would keep that much memory for every page after.
func putPageBuffer(buf *bytes.Buffer) {
	if buf.Cap() <= 256<<10 {
		pageBuffers.Put(buf)
	}
}

// formField is one input of the create form, as the "field" template shows it.
type formField struct {
	Lang, Name, Type, Autocomplete, Value, Problem string
	Max                                            int
}

func newFormField(v page.View, name, typ string, max int, autocomplete string) formField {
	f := formField{Lang: v.Lang, Name: name, Type: typ, Max: max, Autocomplete: autocomplete}
	if form, ok := v.Data.(createForm); ok {
		f.Value = form.value(name)
		f.Problem = form.Problems[name]
	}
	return f
}

// createForm is the create page: the draft as typed, each field's problem
// in the reader's language, and the idempotency key its POST carries. Resent
// says the page's key had been used by a different request, so this one
// carries a new key. Trapped says the post was refused for filling in the
// honeypot, which is shown again empty.
type createForm struct {
	Draft    store.Draft
	Problems map[string]string
	Key      string
	Token    string // the signed form_token (formtoken.go)
	Resent   bool
	// RetryIn is the seconds until the write limit lets the client post
	// again; 0 when it did not refuse.
	RetryIn int
	Trapped bool
	Refusal string // why the post was refused before its fields were read
}

func (f createForm) value(name string) string {
	switch name {
	case "name":
		return f.Draft.Name
	case "email":
		return f.Draft.Email
	case "day":
		return f.Draft.Day
	}
	return f.Draft.Content
}
