package assets

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

// Blob is one response body prepared once: its type, a strong ETag from its
// content, and a gzip copy made once when that is smaller. Serving it costs
// no hashing and no compression per request.
type Blob struct {
	data, gz    []byte
	contentType string
	etag        string // quoted, of data
	hash        string // hex, first 16 digits of the SHA-256 of data
}

// NewBlob prepares data to be served as contentType.
func NewBlob(data []byte, contentType string) *Blob {
	sum := sha256.Sum256(data)
	b := &Blob{data: data, contentType: contentType, hash: hex.EncodeToString(sum[:8])}
	b.etag = `"` + b.hash + `"`
	if compressible(contentType) {
		if gz := gzipBest(data); len(gz) < len(data) {
			b.gz = gz
		}
	}
	return b
}

// Hash is a short hex digest of the content, for content-hashed names.
func (b *Blob) Hash() string { return b.hash }

// Serve writes the blob with cacheControl, honouring If-None-Match (304),
// Range and HEAD, and sends the gzip copy to clients that accept gzip.
func (b *Blob) Serve(w http.ResponseWriter, r *http.Request, cacheControl string) {
	h := w.Header()
	h.Set("Content-Type", b.contentType)
	h.Set("Cache-Control", cacheControl)
	h.Set("X-Content-Type-Options", "nosniff")
	body, etag := b.data, b.etag
	if b.gz != nil {
		h.Add("Vary", "Accept-Encoding")
		if AcceptsGzip(r.Header.Get("Accept-Encoding")) {
			body, etag = b.gz, `"`+b.hash+`-gz"`
			h.Set("Content-Encoding", "gzip")
		}
	}
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// AcceptsGzip reports whether an Accept-Encoding header allows gzip: named
// (or "*") with a q-value above zero.
func AcceptsGzip(header string) bool {
	star := false
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "*" {
			continue
		}
		ok := qValue(params) > 0
		if coding == "gzip" {
			return ok
		}
		star = ok
	}
	return star
}

// qValue reads "q=0.5" from a header element's parameters; 1 when absent.
func qValue(params string) float64 {
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		if strings.EqualFold(strings.TrimSpace(k), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0
			}
			return q
		}
	}
	return 1
}

func compressible(contentType string) bool {
	return strings.HasPrefix(contentType, "text/") ||
		strings.Contains(contentType, "svg") ||
		strings.Contains(contentType, "javascript") ||
		strings.Contains(contentType, "json")
}

func gzipBest(data []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zw.Write(data)
	zw.Close()
	return buf.Bytes()
}

// typeOf is the Content-Type for a file name, with a charset for text.
func typeOf(name string) string {
	switch ext := path.Ext(name); ext {
	case ".svg":
		return "image/svg+xml"
	case ".ico":
		return "image/x-icon"
	default:
		t := mime.TypeByExtension(ext)
		if t == "" {
			return "application/octet-stream"
		}
		return t
	}
}
