package assets

import (
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// Cache-Control values: a content-hashed name never changes its content, so
// caches keep it for a year; a plain name must be revalidated (its ETag makes
// that a cheap 304).
var (
	CacheImmutable  = NewCacheControl("public, max-age=31536000, immutable")
	CacheRevalidate = NewCacheControl("public, no-cache")
	cacheDay        = NewCacheControl("public, max-age=86400")
)

const (
	staticURLPrefix  = "/static/"
	faviconAssetName = "favicon.svg"
)

// Static serves the embedded static folder under /static/, each file under its
// plain name and under a content-hashed one (style.3f2a9c1b0d4e5f60.css). The
// set of names is fixed at start, so a path that tries to leave it
// (/static/../, encoded or doubled dots, backslashes, NUL) matches nothing and
// gets 404.
type Static struct {
	byName map[string]*Blob // plain and hashed names
	hashed map[string]string
}

// NewStatic reads and prepares every static file once.
func NewStatic() *Static {
	s := &Static{byName: map[string]*Blob{}, hashed: map[string]string{}}
	root := sub("static")
	err := fs.WalkDir(root, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(root, name)
		if err != nil {
			return err
		}
		b := NewBlob(data, typeOf(name))
		ext := path.Ext(name)
		hashedName := strings.TrimSuffix(name, ext) + "." + b.Hash() + ext
		s.byName[name] = b
		s.byName[hashedName] = b
		s.hashed[name] = hashedName
		return nil
	})
	if err != nil {
		panic(err) // the folder is embedded; this can't fail
	}
	return s
}

// URL is the content-hashed URL of a static file, for pages to link to. It
// panics on a name that is not embedded, so a template typo fails every test.
func (s *Static) URL(name string) string {
	h, ok := s.hashed[name]
	if !ok {
		panic("assets: no static file " + name)
	}
	return staticURLPrefix + h
}

// ServeHTTP serves GET and HEAD /static/{name} and /favicon.ico, and a
// plain 404 for a name that is not embedded.
func (s *Static) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.Serve(w, r) {
		http.NotFound(w, r)
	}
}

// Serve serves the file r names and reports true, or writes nothing and
// reports false when no such file is embedded, so that a tier can answer
// that with its own error page.
func (s *Static) Serve(w http.ResponseWriter, r *http.Request) bool {
	if r.URL.Path == "/favicon.ico" {
		s.byName[faviconAssetName].Serve(w, r, cacheDay)
		return true
	}
	name, ok := strings.CutPrefix(r.URL.Path, staticURLPrefix)
	b := s.byName[name]
	if !ok || b == nil {
		return false
	}
	cache := CacheImmutable
	if _, plain := s.hashed[name]; plain {
		cache = CacheRevalidate
	}
	b.Serve(w, r, cache)
	return true
}
