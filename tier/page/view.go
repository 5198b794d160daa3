package page

import (
	"bytes"
	"html/template"
	"net/http"

	"github.com/guestbook/guestbook/assets"
	"github.com/guestbook/guestbook/config"
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
	Data      any // the page's own
}

// NewView fills the layout's fields for a page in lang at path.
func NewView(lang, path string, inst config.Instance, version, title, nav string, data any) View {
	other := En
	if lang == En {
		other = Ko
	}
	return View{
		Lang: lang, OtherLang: other, SwitchURL: path + "?lang=" + other,
		Title: title, Nav: nav, Instance: inst, Version: version, Data: data,
	}
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
	err := t.ExecuteTemplate(&buf, "layout", v)
	return buf.Bytes(), err
}

// SetHTMLHeaders marks a response as a page that depends on the reader's
// language and cookies.
func SetHTMLHeaders(h http.Header) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Add("Vary", "Accept-Language, Cookie")
}
