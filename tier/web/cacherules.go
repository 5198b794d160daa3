package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The rules of RFC 9111 that the web tier's cache, a shared cache, keeps:
// what may be stored, for how long it is fresh, and how old it is. They are
// pure functions of the headers, tested by table.

// directives are the parts of a response's Cache-Control the cache reads.
type directives struct {
	noStore, private, noCache, public, mustRevalidate bool
	sMaxAge, maxAge                                   time.Duration
	hasSMaxAge, hasMaxAge                             bool
}

// parseCacheControl reads every Cache-Control line of h. A directive it
// does not know is ignored, as RFC 9111 asks; a malformed age is no age.
func parseCacheControl(h http.Header) directives {
	var d directives
	for _, line := range h["Cache-Control"] {
		for part := range strings.SplitSeq(line, ",") {
			name, value, _ := strings.Cut(strings.TrimSpace(part), "=")
			switch strings.ToLower(name) {
			case "no-store":
				d.noStore = true
			case "private":
				d.private = true
			case "no-cache":
				d.noCache = true
			case "public":
				d.public = true
			case "must-revalidate", "proxy-revalidate":
				d.mustRevalidate = true
			case "s-maxage":
				d.sMaxAge, d.hasSMaxAge = deltaSeconds(value)
			case "max-age":
				d.maxAge, d.hasMaxAge = deltaSeconds(value)
			}
		}
	}
	return d
}

// deltaSeconds reads a delta-seconds value (RFC 9111 1.2.2), quotes
// tolerated.
func deltaSeconds(v string) (time.Duration, bool) {
	n, err := strconv.ParseInt(strings.Trim(v, `"`), 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return time.Duration(min(n, 1<<31)) * time.Second, true
}

// lifetime is how long a shared cache may use an answer of status and h for another request
// without asking again (RFC 9111 3 and 4.2.1), or false when it may not
// store it at all. Only what the origin says explicitly is kept: s-maxage,
// else max-age; no heuristic freshness, since a page that says nothing is
// one whose author did not think about caches. Beyond the RFC's rules the
// cache stores no answer that sets a cookie (one reader's cookie must never
// reach another, as Nginx's proxy_cache refuses too), none that varies on
// anything but what its key and bypass rules cover (varyCovered), and no
// partial or uncommon status.
func lifetime(status int, h http.Header) (time.Duration, bool) {
	switch status {
	case http.StatusOK, http.StatusNonAuthoritativeInfo, http.StatusNoContent, http.StatusMovedPermanently,
		http.StatusPermanentRedirect, http.StatusNotFound, http.StatusGone:
	default:
		return 0, false
	}
	d := parseCacheControl(h)
	if d.noStore || d.private || d.noCache || len(h["Set-Cookie"]) > 0 || !varyCovered(h) {
		return 0, false
	}
	switch {
	case d.hasSMaxAge:
		return d.sMaxAge, d.sMaxAge > 0
	case d.hasMaxAge:
		return d.maxAge, d.maxAge > 0
	}
	return 0, false
}

// varyCovered says every header resp varies on is one the cache accounts
// for: Accept-Language (the key has the language the page was rendered
// in), Cookie (the only cookies the guestbook's pages depend on are its
// own: the language's, in the key, and the personal ones, whose requests
// never use the cache: page.Personal) and Authorization (a request with it
// never uses the cache). "Vary: *" and any other header are not covered:
// such an answer is not stored.
func varyCovered(h http.Header) bool {
	for _, line := range h["Vary"] {
		for name := range strings.SplitSeq(line, ",") {
			switch strings.ToLower(strings.TrimSpace(name)) {
			case "accept-language", "cookie", "authorization", "":
			default:
				return false
			}
		}
	}
	return true
}

// ageHeader is the Age an upstream gave (another cache in between), or 0.
func ageHeader(h http.Header) time.Duration {
	d, _ := deltaSeconds(h.Get("Age"))
	return d
}

// allowsStale says an entry may be served stale at all: not after the
// origin said it must be revalidated once stale.
func allowsStale(h http.Header) bool { return !parseCacheControl(h).mustRevalidate }

// staleOnError says status is a failure that a stale answer may stand in
// for (RFC 5861's stale-if-error: 500, 502, 503 and 504). The web tier
// answers 502 with no upstream, 503 when every upstream refuses, 504 when
// none answered in time; the app tier answers 503 with its database down.
func staleOnError(status int) bool {
	switch status {
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}
