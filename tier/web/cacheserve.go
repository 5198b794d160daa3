package web

import (
	"fmt"
	"html"
	"net/http"
	"strconv"
	"time"

	"github.com/guestbook/guestbook/assets"
	"github.com/guestbook/guestbook/tier/page"
)

// A hit is the cache's hot path: thousands a second of one page. What a
// hit writes depends on the entry and on its age only to the tenth of a
// second the footer note and Cache-Status show, so it is prepared once a
// tenth (a rendition) and every hit in that tenth writes the same bytes and
// header values: no formatting, no copy of the page, one write.

// rendition is an entry as served while its age is in one tenth of a
// second: the page with its footer note in place, and the header values
// that change with the age.
type rendition struct {
	tenth  int64    // the entry's age in tenths of a second
	body   []byte   // the entry's body, or a copy with the note when it has a marker
	length []string // Content-Length
	age    []string // Age, in whole seconds (RFC 9111 5.1)
	hit    []string // Cache-Status of a hit: "web-1; hit; ttl=0.4"
}

// renditionAt is e's rendition for its age at now, made once per tenth of
// a second: hits racing into a new tenth may each make it, and the last
// one kept wins; they are equal.
func (c *microCache) renditionAt(e *cacheEntry, now time.Time) *rendition {
	age := e.age(now)
	tenth := int64(age / (100 * time.Millisecond))
	if rd := e.shown.Load(); rd != nil && rd.tenth == tenth {
		return rd
	}
	shown := time.Duration(tenth) * 100 * time.Millisecond
	rd := &rendition{tenth: tenth, body: e.body,
		age: []string{strconv.FormatInt(int64(age/time.Second), 10)},
		hit: []string{c.id + "; hit; ttl=" + seconds(e.ttl-shown)}}
	if e.marker >= 0 {
		note := `<span class="cached">` + html.EscapeString(fmt.Sprintf(page.T(e.key.lang, "cache.served"),
			c.instanceID, seconds(shown), e.madeBy)) + `</span>`
		body := make([]byte, 0, len(e.body)-len(cacheMarker)+len(note))
		body = append(body, e.body[:e.marker]...)
		body = append(body, note...)
		rd.body = append(body, e.body[e.marker+len(cacheMarker):]...)
	}
	rd.length = []string{strconv.Itoa(len(rd.body))}
	e.shown.Store(rd)
	return rd
}

// serveHit answers r from e while it is fresh.
func (c *microCache) serveHit(w http.ResponseWriter, r *http.Request, e *cacheEntry, now time.Time) {
	rd := c.renditionAt(e, now)
	c.write(w, r, e, rd, rd.hit)
}

// serve answers r from e, saying in Cache-Status how (status, after the
// cache's name).
func (c *microCache) serve(w http.ResponseWriter, r *http.Request, e *cacheEntry, now time.Time, status string) {
	c.write(w, r, e, c.renditionAt(e, now), []string{c.id + "; " + status})
}

// write is e's status, headers and body as they were stored, in rd's
// rendition, with its Age and cacheStatus; a 304 when r's If-None-Match
// names its ETag.
func (c *microCache) write(w http.ResponseWriter, r *http.Request, e *cacheEntry, rd *rendition, cacheStatus []string) {
	h := w.Header()
	for name, values := range e.header {
		h[name] = values
	}
	h["Age"] = rd.age
	h["Cache-Status"] = cacheStatus
	if inm := r.Header["If-None-Match"]; len(inm) > 0 && e.etag != "" && assets.ETagListed(inm[0], e.etag) {
		delete(h, "Content-Length")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h["Content-Length"] = rd.length
	w.WriteHeader(e.status)
	if r.Method != http.MethodHead {
		w.Write(rd.body) // one write: the page in one piece
	}
}
