package app

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"

	"github.com/guestbook/guestbook/assets"
	"github.com/guestbook/guestbook/tier/hops"
	"github.com/guestbook/guestbook/tier/page"
)

// What a shared cache (the web tier's micro-cache, or a CDN) may keep is
// said here, once, in standard headers. An answer is public only when its
// handler says it is the same for every reader (the list, detail and home
// pages, the API's GETs), it is a 200, it sets no cookie, and its request
// is not personal (page.Personal: no Authorization, no cookie of ours but
// the language's). Everything else is no-store: the create form with its
// signed token and idempotency key, the delete confirm, every write, every
// error, the topology, and any page added later that does not say
// otherwise.
const cacheNoStore = "no-store"

// shared is how a handler says who its answer is for: every reader, when
// anyone is set, keyed by the query parameters it reads (keyedBy, the
// hops.HeaderCacheKey value, nil for none); else this reader alone.
type shared struct {
	anyone  bool
	keyedBy []string
}

// What each handler says, made once: the header's value is shared by every
// answer.
var (
	forThisOne   = shared{}
	forAnyone    = shared{anyone: true}                                           // reads no parameter
	listPages    = shared{anyone: true, keyedBy: []string{"before"}[:1:1]}        // the list page
	listAPIPages = shared{anyone: true, keyedBy: []string{"before, limit"}[:1:1]} // the API's list
)

// cacheHeaders sets Cache-Control (and, on a public answer, its ETag and
// the parameters it is keyed by) for
// an answer of status with body, replacing the no-store every answer starts
// with (protect). It reports true when the request's
// If-None-Match already names that ETag: the caller answers 304 without
// the body.
func (s *Server) cacheHeaders(h http.Header, r *http.Request, status int, body []byte, sh shared) (notModified bool) {
	if !sh.anyone || s.opts.CacheTTL <= 0 || status != http.StatusOK || len(h["Set-Cookie"]) > 0 || page.Personal(r) {
		h.Set("Cache-Control", cacheNoStore)
		return false
	}
	h.Set("Cache-Control", s.publicCache)
	if sh.keyedBy != nil {
		h[hops.HeaderCacheKey] = sh.keyedBy
	}
	// A validator costs a hash of the body (microseconds beside the
	// render): the web tier answers a reload from its copy with a 304, and
	// a refill whose bytes did not change sends none of them.
	sum := sha256.Sum256(body)
	// Weak: the web tier fills the footer's page.CacheMarker when it serves
	// the page from its cache, and the page stays the same one.
	tag := `"` + hex.EncodeToString(sum[:12]) + `"`
	h.Set("ETag", "W/"+tag)
	inm := r.Header.Get("If-None-Match")
	return inm != "" && assets.ETagListed(inm, tag)
}

// publicCacheControl is the Cache-Control of a public answer: shared
// caches may keep it app.cache_ttl (whole seconds). It gives browsers no
// freshness, so they ask again (with the ETag) each time.
func publicCacheControl(ttlSeconds int) string {
	return "public, s-maxage=" + strconv.Itoa(ttlSeconds)
}
