package assets_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/guestbook/guestbook/assets"
)

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"gzip", true},
		{"GZIP", true},
		{"deflate, gzip;q=0.5", true},
		{"gzip;q=0", false},
		{"gzip; q=0.000", false},
		{"gzip;q=nonsense", false},
		{"*", true},
		{"*;q=0", false},
		{"identity", false},
		{"", false},
		{"br, *;q=0.1", true},
		{"gzip;q=0, *", false},
		{"*, gzip;q=0", false},
		{"br;q=1.0, gzip;q=0.2", true},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			if got := assets.AcceptsGzip(tt.header); got != tt.want {
				t.Errorf("AcceptsGzip(%q) = %v, want %v", tt.header, got, tt.want)
			}
		})
	}
}

func TestBlobHashIsSHA256PrefixAndETagQuotesIt(t *testing.T) {
	data := []byte("body { color: black }\n")
	sum := sha256.Sum256(data)
	want := hex.EncodeToString(sum[:8])

	b := assets.NewBlob(data, "text/css; charset=utf-8")
	if b.Hash() != want {
		t.Fatalf("Hash() = %q, want %q", b.Hash(), want)
	}
	rec := serveBlob(t, b, "")
	if got := rec.Header().Get("ETag"); got != `"`+want+`"` {
		t.Errorf("ETag = %q, want %q", got, `"`+want+`"`)
	}
}

func TestBlobHashChangesWithContent(t *testing.T) {
	a := assets.NewBlob([]byte("one"), "text/plain")
	b := assets.NewBlob([]byte("two"), "text/plain")
	if a.Hash() == b.Hash() {
		t.Errorf("different content has the same hash %q", a.Hash())
	}
}

func TestBlobSendsGzipCopyOfCompressibleText(t *testing.T) {
	data := []byte(strings.Repeat("guestbook entry\n", 200))
	b := assets.NewBlob(data, "text/plain; charset=utf-8")

	rec := serveBlob(t, b, "gzip")
	if got := rec.Header().Get("Content-Encoding"); got != "gzip" {
		t.Fatalf("Content-Encoding = %q, want gzip", got)
	}
	if got := rec.Header().Get("Vary"); got != "Accept-Encoding" {
		t.Errorf("Vary = %q, want Accept-Encoding", got)
	}
	if rec.Body.Len() >= len(data) {
		t.Errorf("gzip body is %d bytes, not smaller than the %d of the original", rec.Body.Len(), len(data))
	}
	if got := gunzip(t, rec.Body.Bytes()); !bytes.Equal(got, data) {
		t.Errorf("gzip body decompresses to %d bytes that differ from the original", len(got))
	}
}

func TestBlobSkipsGzipWhenItWouldNotBeSmaller(t *testing.T) {
	tests := []struct {
		name        string
		data        []byte
		contentType string
	}{
		{"type that is not compressible", bytes.Repeat([]byte{0}, 4096), "image/png"},
		{"text too short to shrink", []byte("a"), "text/plain"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serveBlob(t, assets.NewBlob(tt.data, tt.contentType), "gzip")
			if got := rec.Header().Get("Content-Encoding"); got != "" {
				t.Errorf("Content-Encoding = %q, want none", got)
			}
			if got := rec.Header().Get("Vary"); got != "" {
				t.Errorf("Vary = %q, want none: there is only one representation", got)
			}
			if !bytes.Equal(rec.Body.Bytes(), tt.data) {
				t.Errorf("body differs from the original")
			}
		})
	}
}

func TestBlobSetsTheGivenCacheControlAndNosniff(t *testing.T) {
	b := assets.NewBlob([]byte("x"), "text/plain")
	rec := httptest.NewRecorder()
	b.Serve(rec, httptest.NewRequest("GET", "/", nil), assets.NewCacheControl("private, max-age=7"))
	if got := rec.Header().Get("Cache-Control"); got != "private, max-age=7" {
		t.Errorf("Cache-Control = %q, want the value passed to Serve", got)
	}
	if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
	}
	if got := rec.Header().Get("Content-Type"); got != "text/plain" {
		t.Errorf("Content-Type = %q, want text/plain", got)
	}
}

// serveBlob serves b to a GET with the given Accept-Encoding (none when empty).
func serveBlob(t *testing.T, b *assets.Blob, acceptEncoding string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", "/", nil)
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	rec := httptest.NewRecorder()
	b.Serve(rec, req, assets.CacheRevalidate)
	if rec.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200", rec.Code)
	}
	return rec
}

func gunzip(t *testing.T, data []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("body is not gzip: %v", err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	return out
}
