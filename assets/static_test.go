package assets_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/guestbook/guestbook/internal/httpcheck"

	"github.com/guestbook/guestbook/assets"
)

func TestStaticSetsContentTypeByExtension(t *testing.T) {
	_, srv := newStaticServer(t)
	tests := []struct {
		path, file, wantType string
	}{
		{"/static/style.css", "style.css", "text/css; charset=utf-8"},
		{"/static/favicon.svg", "favicon.svg", "image/svg+xml"},
		{"/favicon.ico", "favicon.svg", "image/svg+xml"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			resp, body := get(t, srv.URL+tt.path, nil)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status = %d, want 200", resp.StatusCode)
			}
			if got := resp.Header.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantType)
			}
			if !bytes.Equal(body, readStatic(t, tt.file)) {
				t.Errorf("body is not the content of static/%s", tt.file)
			}
		})
	}
}

func TestStaticETagIsStrongAndQuoted(t *testing.T) {
	_, srv := newStaticServer(t)
	resp, _ := get(t, srv.URL+"/static/style.css", nil)
	etag := resp.Header.Get("ETag")
	if !regexp.MustCompile(`^"[^"]+"$`).MatchString(etag) {
		t.Errorf("ETag = %q, want a strong quoted tag such as \"abc\"", etag)
	}
}

func TestStaticIfNoneMatchWithItsETagGives304WithoutBody(t *testing.T) {
	_, srv := newStaticServer(t)
	for _, enc := range []string{"identity", "gzip"} {
		t.Run(enc, func(t *testing.T) {
			first, _ := get(t, srv.URL+"/static/style.css", map[string]string{"Accept-Encoding": enc})
			etag := first.Header.Get("ETag")
			resp, body := get(t, srv.URL+"/static/style.css", map[string]string{
				"Accept-Encoding": enc,
				"If-None-Match":   etag,
			})
			if resp.StatusCode != http.StatusNotModified {
				t.Fatalf("status = %d, want 304", resp.StatusCode)
			}
			if len(body) != 0 {
				t.Errorf("304 has a %d byte body, want none", len(body))
			}
			if got := resp.Header.Get("ETag"); got != etag {
				t.Errorf("304 ETag = %q, want %q", got, etag)
			}
		})
	}
}

func TestStaticSendsGzipWhenClientAcceptsIt(t *testing.T) {
	_, srv := newStaticServer(t)
	for _, accept := range []string{"gzip", "gzip, deflate, br", "*"} {
		t.Run(accept, func(t *testing.T) {
			resp, body := get(t, srv.URL+"/static/style.css", map[string]string{"Accept-Encoding": accept})
			if got := resp.Header.Get("Content-Encoding"); got != "gzip" {
				t.Fatalf("Content-Encoding = %q, want gzip", got)
			}
			if got := resp.Header.Get("Vary"); got != "Accept-Encoding" {
				t.Errorf("Vary = %q, want Accept-Encoding", got)
			}
			if !bytes.Equal(gunzip(t, body), readStatic(t, "style.css")) {
				t.Errorf("gzip body does not decompress to static/style.css")
			}
		})
	}
}

func TestStaticSendsIdentityWhenGzipIsNotAccepted(t *testing.T) {
	_, srv := newStaticServer(t)
	for _, accept := range []string{"", "identity", "gzip;q=0", "br", "*;q=0"} {
		t.Run(accept, func(t *testing.T) {
			resp, body := get(t, srv.URL+"/static/style.css", map[string]string{"Accept-Encoding": accept})
			if got := resp.Header.Get("Content-Encoding"); got != "" {
				t.Errorf("Content-Encoding = %q, want none", got)
			}
			// A cache must still know the response depends on Accept-Encoding.
			if got := resp.Header.Get("Vary"); got != "Accept-Encoding" {
				t.Errorf("Vary = %q, want Accept-Encoding", got)
			}
			if !bytes.Equal(body, readStatic(t, "style.css")) {
				t.Errorf("body is not the content of static/style.css")
			}
		})
	}
}

func TestStaticGzipAndIdentityHaveDifferentETags(t *testing.T) {
	_, srv := newStaticServer(t)
	plain, _ := get(t, srv.URL+"/static/style.css", map[string]string{"Accept-Encoding": "identity"})
	zipped, _ := get(t, srv.URL+"/static/style.css", map[string]string{"Accept-Encoding": "gzip"})
	plainTag, zippedTag := plain.Header.Get("ETag"), zipped.Header.Get("ETag")
	if plainTag == "" || plainTag == zippedTag {
		t.Fatalf("identity ETag %q and gzip ETag %q must both be set and differ", plainTag, zippedTag)
	}

	// A client holding the identity copy that now accepts gzip gets the gzip copy, not a 304.
	resp, body := get(t, srv.URL+"/static/style.css", map[string]string{
		"Accept-Encoding": "gzip",
		"If-None-Match":   plainTag,
	})
	if resp.StatusCode != http.StatusOK || len(body) == 0 {
		t.Errorf("gzip request with the identity ETag: status %d with %d bytes, want 200 with the body", resp.StatusCode, len(body))
	}
}

func TestStaticHashedNameIsCachedForAYearAsImmutable(t *testing.T) {
	s, srv := newStaticServer(t)
	url := s.URL("style.css")
	if !regexp.MustCompile(`^/static/style\.[0-9a-f]{16}\.css$`).MatchString(url) {
		t.Fatalf("URL(style.css) = %q, want /static/style.<16 hex digits>.css", url)
	}
	resp, body := get(t, srv.URL+url, nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: status = %d, want 200", url, resp.StatusCode)
	}
	cc := resp.Header.Get("Cache-Control")
	if !strings.Contains(cc, "max-age=31536000") || !strings.Contains(cc, "immutable") {
		t.Errorf("Cache-Control = %q, want max-age=31536000 and immutable", cc)
	}
	if !bytes.Equal(body, readStatic(t, "style.css")) {
		t.Errorf("hashed name does not serve the content of static/style.css")
	}
}

func TestStaticHashedNameCarriesTheContentHash(t *testing.T) {
	s := assets.NewStatic()
	want := "/static/style." + assets.NewBlob(readStatic(t, "style.css"), "text/css").Hash() + ".css"
	if got := s.URL("style.css"); got != want {
		t.Errorf("URL(style.css) = %q, want %q (named after its content)", got, want)
	}
}

func TestStaticPlainNameMustBeRevalidated(t *testing.T) {
	_, srv := newStaticServer(t)
	resp, _ := get(t, srv.URL+"/static/style.css", nil)
	cc := resp.Header.Get("Cache-Control")
	if !strings.Contains(cc, "no-cache") || strings.Contains(cc, "immutable") {
		t.Errorf("Cache-Control = %q, want no-cache and not immutable", cc)
	}
}

func TestStaticHeadSendsHeadersWithoutBody(t *testing.T) {
	_, srv := newStaticServer(t)
	resp, body := do(t, "HEAD", srv.URL+"/static/style.css", map[string]string{"Accept-Encoding": "identity"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200", resp.StatusCode)
	}
	if len(body) != 0 {
		t.Errorf("HEAD has a %d byte body, want none", len(body))
	}
	if resp.Header.Get("ETag") == "" || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
		t.Errorf("HEAD headers: ETag %q, Content-Type %q, want both as for GET",
			resp.Header.Get("ETag"), resp.Header.Get("Content-Type"))
	}
	if want := fmt.Sprint(len(readStatic(t, "style.css"))); resp.Header.Get("Content-Length") != want {
		t.Errorf("Content-Length = %q, want %s", resp.Header.Get("Content-Length"), want)
	}
}

func TestStaticRangeGives206WithThoseBytes(t *testing.T) {
	_, srv := newStaticServer(t)
	data := readStatic(t, "style.css")
	resp, body := get(t, srv.URL+"/static/style.css", map[string]string{
		"Accept-Encoding": "identity",
		"Range":           "bytes=0-9",
	})
	if resp.StatusCode != http.StatusPartialContent {
		t.Fatalf("status = %d, want 206", resp.StatusCode)
	}
	if !bytes.Equal(body, data[:10]) {
		t.Errorf("body = %q, want the first 10 bytes %q", body, data[:10])
	}
	if want := fmt.Sprintf("bytes 0-9/%d", len(data)); resp.Header.Get("Content-Range") != want {
		t.Errorf("Content-Range = %q, want %q", resp.Header.Get("Content-Range"), want)
	}
}

func TestStaticUnknownNameIs404(t *testing.T) {
	_, srv := newStaticServer(t)
	for _, path := range []string{"/static/nope.css", "/static/", "/static/style", "/static/style.css/", "/static/style.0000000000000000.css", "/style.css"} {
		t.Run(path, func(t *testing.T) {
			resp, _ := get(t, srv.URL+path, nil)
			if resp.StatusCode != http.StatusNotFound {
				t.Errorf("status = %d, want 404", resp.StatusCode)
			}
		})
	}
}

// outsideStatic are pieces of embedded or repository files outside static/
// that no /static/ path may ever return.
var outsideStatic = []string{
	"module github.com/guestbook/guestbook", // go.mod
	"package assets",                        // assets.go
	`{{define "layout"}}`,                   // templates/layout.html
	"CREATE TABLE",                          // migrations
}

func TestStaticRefusesPathsThatLeaveTheStaticFolder(t *testing.T) {
	_, srv := newStaticServer(t)
	targets := []string{
		"/static/../go.mod",
		"/static/../assets.go",
		"/static/../templates/layout.html",
		"/static/../migrations/sqlite/000001_create_entries.up.sql",
		"/static/%2e%2e/assets.go",
		"/static/%2E%2E/templates/layout.html",
		"/static/..%2fassets.go",
		"/static/..%2ftemplates%2flayout.html",
		"/static/%252e%252e/x",
		"/static/%252e%252e/assets.go",
		`/static/..\assets.go`,
		`/static/..\templates\layout.html`,
		"/static/%00",
		"/static/style.css%00",
		"/static/style.css%00../../go.mod",
		"/static//../templates/layout.html",
		"/static/./../assets.go",
	}
	for _, target := range targets {
		t.Run(target, func(t *testing.T) {
			status, _, body := rawGet(t, srv, target)
			if status != http.StatusBadRequest && status != http.StatusNotFound {
				t.Errorf("status = %d, want 400 or 404", status)
			}
			for _, secret := range outsideStatic {
				if strings.Contains(string(body), secret) {
					t.Errorf("body contains %q from a file outside static/", secret)
				}
			}
		})
	}
}

func TestStaticURLPanicsForMissingFile(t *testing.T) {
	s := assets.NewStatic()
	defer func() {
		if recover() == nil {
			t.Errorf("URL(missing.css) did not panic")
		}
	}()
	s.URL("missing.css")
}

func newStaticServer(t *testing.T) (*assets.Static, *httptest.Server) {
	t.Helper()
	s := assets.NewStatic()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv
}

func readStatic(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("static", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func get(t *testing.T, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	return do(t, "GET", url, header)
}

// do sends one request with exactly the given headers: the client neither
// asks for nor undoes gzip on its own.
func do(t *testing.T, method, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableCompression: true}}
	t.Cleanup(client.CloseIdleConnections)
	resp, body := httpcheck.Do(t, client, httpcheck.NewRequest(t, method, url, header))
	return resp, []byte(body)
}

// rawGet sends target with the request line written by hand.
func rawGet(t *testing.T, srv *httptest.Server, target string) (int, http.Header, []byte) {
	t.Helper()
	return httpcheck.RawGet(t, srv.Listener.Addr().String(), target)
}
