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
	// Header values made once: a response assigns them instead of building
	// and canonicalizing strings per request. Each has cap == len, so an
	// append by someone else copies rather than writes into ours.
	typeValue, etagValue, gzETagValue, lenValue, gzLenValue []string
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
	b.typeValue = value(contentType)
	b.etagValue, b.gzETagValue = value(b.etag), value(`"`+b.hash+`-gz"`)
	b.lenValue, b.gzLenValue = value(strconv.Itoa(len(b.data))), value(strconv.Itoa(len(b.gz)))
	return b
}

func value(s string) []string { return []string{s}[:1:1] }

// Shared header values.
var (
	nosniffValue      = value("nosniff")
	gzipValue         = value("gzip")
	varyEncodingValue = value("Accept-Encoding")
	bytesValue        = value("bytes")
)

// Hash is a short hex digest of the content, for content-hashed names.
func (b *Blob) Hash() string { return b.hash }

// CacheControl is a Cache-Control header value, made once.
type CacheControl []string

// NewCacheControl makes a Cache-Control value for Serve.
func NewCacheControl(s string) CacheControl { return CacheControl(value(s)) }

// Serve writes the blob with cacheControl, honouring If-None-Match (304),
// Range and HEAD, and sends the gzip copy to clients that accept gzip. The
// common case (a whole body, or a 304) writes prepared values straight into
// the header; only Range requests go through http.ServeContent.
func (b *Blob) Serve(w http.ResponseWriter, r *http.Request, cacheControl CacheControl) {
	h := w.Header()
	h["Content-Type"] = b.typeValue
	h["Cache-Control"] = cacheControl
	h["X-Content-Type-Options"] = nosniffValue
	h["Accept-Ranges"] = bytesValue
	body, etag, etagValue, lenValue := b.data, b.etag, b.etagValue, b.lenValue
	if b.gz != nil {
		if vary := h["Vary"]; vary == nil {
			h["Vary"] = varyEncodingValue
		} else {
			h["Vary"] = append(vary, "Accept-Encoding")
		}
		if AcceptsGzip(r.Header.Get("Accept-Encoding")) {
			body, etag, etagValue, lenValue = b.gz, b.gzETagValue[0], b.gzETagValue, b.gzLenValue
			h["Content-Encoding"] = gzipValue
		}
	}
	h["Etag"] = etagValue
	if r.Header.Get("Range") != "" {
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
		return
	}
	if inm := r.Header.Get("If-None-Match"); inm != "" && ETagListed(inm, etag) {
		delete(h, "Content-Type")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h["Content-Length"] = lenValue
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// ETagListed reports whether an If-None-Match list names etag ("*" names
// any), comparing weakly as RFC 9110 says for If-None-Match.
func ETagListed(list, etag string) bool {
	for _, tag := range strings.Split(list, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == "*" || tag == etag {
			return true
		}
	}
	return false
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
