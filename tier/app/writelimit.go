package app

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/guestbook/guestbook/store"
	"github.com/guestbook/guestbook/tier/forwarded"
	"github.com/guestbook/guestbook/tier/metrics"
)

// The write limit: at most Options.WriteLimit entries from one client in any
// Options.WriteWindow, from the form and the API alike. The store counts and
// enforces it on the primary (store.Sender), so that it holds across every
// app instance; this tier names the client and answers the refusal: 429 with
// Retry-After, the form shown again with its text, or the API's JSON.

// labelClientHash is the label of the key the client hash is made with.
const labelClientHash = "guestbook client v1"

// clientHash is the keyed hash of a client that its entries keep:
// HMAC-SHA256 of the shared secret over a label and the client's group
// (forwarded.ClientKey: the address, or an IPv6 address's /64), in hex.
// Every instance computes the same, and the database never holds the
// address.
func clientHash(secret []byte, addr netip.Addr) string {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(labelClientHash))
	m.Write([]byte{0})
	m.Write([]byte(forwarded.ClientKey(addr).String()))
	return hex.EncodeToString(m.Sum(nil))
}

// clientAddr is the request's client as the forwarded rules trust it: what
// the edge's middleware recorded, or, when this handler is served without
// it (a test's own listener), the trusted proxies' reading of the request.
func (s *Server) clientAddr(r *http.Request) netip.Addr {
	if a := forwarded.From(r.Context()).Client; a.IsValid() {
		return a
	}
	return s.opts.TrustedProxies.ClientIP(r)
}

// sender is who the store counts a create from r against.
func (s *Server) sender(r *http.Request) store.Sender {
	return store.Sender{
		Hash:   clientHash(s.opts.Secret, s.clientAddr(r)),
		Limit:  s.opts.WriteLimit,
		Window: s.opts.WriteWindow,
	}
}

// retryIn is the whole seconds until a refused client may write again, at
// least 1: what Retry-After says.
func (s *Server) retryIn(le *store.LimitError) int {
	return max(1, int(math.Ceil(le.RetryAt.Sub(s.opts.Now()).Seconds())))
}

// writeLimited reports a create the write limit refused: it counts it and
// sets Retry-After, and returns the seconds it said.
func (s *Server) writeLimited(w http.ResponseWriter, err error) (retryIn int, ok bool) {
	var le *store.LimitError
	if !errors.As(err, &le) {
		return 0, false
	}
	s.opts.Observer.WriteRefused(metrics.RefusedWriteLimit)
	retryIn = s.retryIn(le)
	w.Header().Set("Retry-After", strconv.Itoa(retryIn))
	return retryIn, true
}

// writeLimitMessage is the API's error for a refused create, after
// writeLimited has set Retry-After.
func (s *Server) writeLimitMessage(h http.Header) string {
	return fmt.Sprintf("too many entries from this client: at most %d in %s; try again in %s seconds",
		s.opts.WriteLimit, shortDuration(s.opts.WriteWindow), h.Get("Retry-After"))
}

// shortDuration is d as people write it: 1m, not Go's 1m0s; 1h30m, not
// 1h30m0s.
func shortDuration(d time.Duration) string {
	out := d.String()
	if strings.HasSuffix(out, "m0s") {
		out = strings.TrimSuffix(out, "0s")
	}
	if strings.HasSuffix(out, "h0m") {
		out = strings.TrimSuffix(out, "0m")
	}
	return out
}
