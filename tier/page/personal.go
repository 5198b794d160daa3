package page

import (
	"net/http"
	"strings"
)

// CacheMarker is the empty element every page's footer has (layout.html),
// the same bytes for every reader, which the web tier fills when it serves
// the page from its cache: by which instance, how old, and the path that
// made it. A page that came straight from the app tier leaves it empty.
const CacheMarker = `<span class="cached"></span>`

// CookiePrefix starts the name of every cookie the guestbook sets.
const CookiePrefix = "gb_"

// Personal says r carries credentials (an Authorization header) or a
// cookie of the guestbook's other than the language's: an author's secret,
// the admin's session, the read-your-writes mark. What is answered to it
// may depend on who asks (a delete link, an email, a read from the
// primary), so no shared cache may keep that answer, nor serve a kept one
// to it. Both tiers apply this one rule: the app tier marks such answers
// no-store, and the web tier's cache passes such requests by. Other sites'
// cookies on the domain (analytics) change nothing the guestbook shows.
func Personal(r *http.Request) bool {
	if _, ok := r.Header["Authorization"]; ok {
		return true
	}
	for _, line := range r.Header["Cookie"] {
		if !strings.Contains(line, CookiePrefix) {
			continue // the common case, without parsing
		}
		for part := range strings.SplitSeq(line, ";") {
			name, _, _ := strings.Cut(strings.TrimSpace(part), "=")
			if strings.HasPrefix(name, CookiePrefix) && name != langCookie {
				return true
			}
		}
	}
	return false
}
