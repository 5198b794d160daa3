package page

import (
	"strings"
	"time"
)

// Admission is what a tier needs of its concurrency limiter
// (internal/admission.Limiter): admit a request or refuse it at once, and
// hear when an admitted one is done.
type Admission interface {
	Admit() bool
	Done(took time.Duration)
	Limit() int    // the limit now, for the topology page
	InFlight() int // requests admitted and not yet done
}

// RetryAfterShed is what a refusal for want of capacity tells the client to
// wait, in seconds: long enough for the limit to have moved, short enough
// that a reader retrying by hand is not kept away.
const RetryAfterShed = "1"

// NeverShed reports the paths no tier refuses for want of capacity: the
// health checks, which must say how the instance is even when it is busy,
// and the embedded files, which cost next to nothing and keep the site's
// shell up. (/metrics is served outside the tiers.)
func NeverShed(path string) bool {
	return path == "/healthz" || path == "/readyz" || path == "/favicon.ico" || strings.HasPrefix(path, "/static/")
}
