package web

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/guestbook/guestbook/tier/forwarded"
)

// rateLimitedError is errRateLimited with how long until the client's next
// request would be let through, for Retry-After. It carries no more (not
// the client, which the access log has): a refusal must stay cheap.
type rateLimitedError struct{ wait time.Duration }

func (e *rateLimitedError) Error() string {
	return fmt.Sprintf("%v: next request in %s", errRateLimited, e.wait)
}

func (e *rateLimitedError) Unwrap() error { return errRateLimited }

// checkRate takes one request from its client's bucket, or refuses it. The
// client is the address the forwarded rules believe: the edge middleware's
// (tier/process.go puts it in front of every role), else the same rules
// applied here. So a spoofed X-Forwarded-For from a peer outside
// web.trusted_proxies changes nothing, and behind a trusted load balancer
// each real client has its own bucket.
func (s *Server) checkRate(r *http.Request) error {
	l := s.opts.RateLimit
	if l == nil {
		return nil
	}
	client := forwarded.From(r.Context()).Client
	if !client.IsValid() {
		client = s.opts.Trusted.ClientIP(r)
	}
	if ok, wait := l.Allow(forwarded.ClientKey(client)); !ok {
		return &rateLimitedError{wait: wait}
	}
	return nil
}

// retryAfterRate is Retry-After for a rate-limited request: the whole
// seconds until its client's next request would be let through, at least 1
// (the header has no fractions, and 0 would invite a retry at once).
func retryAfterRate(err error) []string {
	var e *rateLimitedError
	secs := int64(1)
	if errors.As(err, &e) {
		secs = max(1, int64(math.Ceil(e.wait.Seconds())))
	}
	if secs == 1 {
		return retryAfterOne
	}
	return []string{strconv.FormatInt(secs, 10)}
}

var retryAfterOne = []string{"1"}[:1:1]
