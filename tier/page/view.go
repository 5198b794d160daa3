package page

import (
	"bytes"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/guestbook/guestbook/assets"
	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/tier/hops"
)

// View is what the layout shows around every page.
type View struct {
	Lang      string
	OtherLang string
	SwitchURL string // this page in the other language
	Title     string
	Nav       string // the navigation item to mark current: home, guestbook, list, write
	Instance  config.Instance
	Version   string
	// Path is the path this response took (web, app and database server),
	// for the footer; hops the page can't know are left zero.
	Path hops.Path
	Data any // the page's own
	// Header is the page's "header" template (everything before <main>),
	// rendered: ExecuteInto renders it when it is empty, and a server that
	// keeps rendered headers sets it.
	Header template.HTML
}

// NewView fills the layout's fields for a page in lang at u (its path and
// query: the language switch keeps the query, such as ?before=).
func NewView(lang string, u *url.URL, inst config.Instance, version, title, nav string, data any) View {
	other := En
	if lang == En {
		other = Ko
	}
	return View{
		Lang: lang, OtherLang: other, SwitchURL: switchURL(u, other),
		Title: title, Nav: nav, Instance: inst, Version: version, Data: data,
	}
}

// switchURL is the page at u in lang: its path, and of its query only what
// our own links put there (the list's before=, when it is an id), so that
// the link, and the page part that holds it, is never made of a visitor's
// words.
func switchURL(u *url.URL, lang string) string {
	q := url.Values{"lang": {lang}}
	if u.RawQuery != "" {
		if before := u.Query().Get("before"); before != "" {
			if _, err := strconv.ParseUint(before, 10, 63); err == nil {
				q.Set("before", before)
			}
		}
	}
	return u.Path + "?" + q.Encode()
}

// Parse builds one template set per page file: the shared layout plus the
// page's own "content" template. funcs adds to the layout's t and static.
func Parse(static *assets.Static, funcs template.FuncMap, files ...string) map[string]*template.Template {
	all := template.FuncMap{"t": T, "static": static.URL}
	for k, v := range funcs {
		all[k] = v
	}
	base := template.Must(template.New("layout.html").Funcs(all).ParseFS(assets.Templates(), "layout.html"))
	out := map[string]*template.Template{}
	for _, file := range files {
		t := template.Must(template.Must(base.Clone()).ParseFS(assets.Templates(), file))
		out[file] = t
	}
	return out
}

// Execute renders t's layout with v into a buffer, so that a template error
// can still become a clean 500 rather than half a page.
func Execute(t *template.Template, v View) ([]byte, error) {
	var buf bytes.Buffer
	err := ExecuteInto(&buf, t, v)
	return buf.Bytes(), err
}

// ExecuteInto is Execute into a buffer of the caller's, so that a server can
// reuse its buffers: a page is tens of KB, and growing a fresh buffer to
// that size for every request was most of what rendering allocated.
func ExecuteInto(buf *bytes.Buffer, t *template.Template, v View) error {
	if v.Header == "" {
		h, err := ExecuteHeader(t, v)
		if err != nil {
			return err
		}
		v.Header = h
	}
	return t.ExecuteTemplate(buf, "layout", v)
}

// ExecuteHeader renders the part of t's page before <main>, which depends
// only on the page, v.Lang, v.Title, v.Nav and v.SwitchURL.
func ExecuteHeader(t *template.Template, v View) (template.HTML, error) {
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "header", v); err != nil {
		return "", err
	}
	return template.HTML(b.String()), nil
}

// ContentSecurityPolicy allows only this origin's own files: no inline
// script, no framing, forms posting only here.
const ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self'; " +
	"script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"

// SetSecurityHeaders sets what every response of ours carries: no sniffing,
// no framing, no referrer to other sites, and the CSP. The values are made
// once (cap == len, so an append elsewhere copies instead of sharing).
func SetSecurityHeaders(h http.Header) {
	h["X-Content-Type-Options"] = nosniff
	h["Referrer-Policy"] = sameOrigin
	h["X-Frame-Options"] = deny
	h["Content-Security-Policy"] = csp
}

var (
	nosniff    = []string{"nosniff"}[:1:1]
	sameOrigin = []string{"same-origin"}[:1:1]
	deny       = []string{"DENY"}[:1:1]
	csp        = []string{ContentSecurityPolicy}[:1:1]
)

// SetHTMLHeaders marks a response as a page that depends on the reader's
// language and cookies.
func SetHTMLHeaders(h http.Header) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Add("Vary", "Accept-Language, Cookie")
}

// WriteHealth answers a health check: 200 "ok", or 503 "not ready" (never
// the cause, which may name a host; the caller logs it).
func WriteHealth(w http.ResponseWriter, err error, reason string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err == nil {
		io.WriteString(w, "ok\n")
		return
	}
	http.Error(w, reason, http.StatusServiceUnavailable)
}
