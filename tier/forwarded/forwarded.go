// Package forwarded decides what a request's forwarded headers may be trusted
// to say: who the client is and which request id it carries. Headers are
// believed only from a peer inside the trusted proxies' networks, so no
// client can spoof its address or its request id.
package forwarded

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync/atomic"

	"github.com/guestbook/guestbook/config"
)

// Header names, as Nginx's proxy_set_header lines in the original set them.
const (
	HeaderFor       = "X-Forwarded-For"
	HeaderProto     = "X-Forwarded-Proto"
	HeaderHost      = "X-Forwarded-Host"
	HeaderRealIP    = "X-Real-Ip"
	HeaderRequestID = "X-Request-Id"
)

// Trusted is a set of networks whose forwarded headers are believed.
type Trusted []netip.Prefix

// ParseTrusted reads CIDRs ("10.0.0.0/16") or single addresses ("10.0.0.5"),
// as config.ParseNetworks does for Validate.
func ParseTrusted(list []string) (Trusted, error) {
	networks, err := config.ParseNetworks(list)
	return Trusted(networks), err
}

// Contains reports whether addr is in a trusted network.
func (t Trusted) Contains(addr netip.Addr) bool {
	addr = addr.Unmap()
	for _, p := range t {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// Peer is the address of the connection's other end.
func Peer(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, _ := netip.ParseAddr(host)
	return a.Unmap()
}

// FromTrusted reports whether r came straight from a trusted proxy.
func (t Trusted) FromTrusted(r *http.Request) bool {
	return len(t) > 0 && t.Contains(Peer(r))
}

// ClientIP is the client's address: the peer, or, when the peer is a trusted
// proxy, the nearest address in X-Forwarded-For that is not a trusted proxy
// (reading right to left, as Nginx's real_ip_recursive does).
func (t Trusted) ClientIP(r *http.Request) netip.Addr {
	peer := Peer(r)
	if !t.Contains(peer) {
		return peer
	}
	chain := forChain(r.Header)
	for i := len(chain) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(chain[i])
		if err != nil {
			break // a malformed hop: believe nothing further left
		}
		if !t.Contains(a) {
			return a.Unmap()
		}
		peer = a.Unmap()
	}
	return peer
}

// ForwardedFor is the X-Forwarded-For to send on: the trusted chain so far
// plus the peer (Nginx's $proxy_add_x_forwarded_for), or only the peer when
// the sender is not trusted, so a client's own header is replaced.
func (t Trusted) ForwardedFor(r *http.Request) string {
	peer := Peer(r).String()
	if !t.FromTrusted(r) {
		return peer
	}
	chain := forChain(r.Header)
	return strings.Join(append(chain, peer), ", ")
}

// Proto is the scheme the client used: a trusted proxy's X-Forwarded-Proto,
// else this connection's.
func (t Trusted) Proto(r *http.Request) string {
	if p := r.Header.Get(HeaderProto); t.FromTrusted(r) && (p == "http" || p == "https") {
		return p
	}
	if r.TLS != nil {
		return "https"
	}
	return "http"
}

// Host is the host the client asked for: a trusted proxy's X-Forwarded-Host,
// else the Host header.
func (t Trusted) Host(r *http.Request) string {
	if h := r.Header.Get(HeaderHost); t.FromTrusted(r) && h != "" {
		return h
	}
	return r.Host
}

// RequestID is a trusted proxy's X-Request-Id when it is well formed, else a
// new random one.
func (t Trusted) RequestID(r *http.Request) string {
	if id := r.Header.Get(HeaderRequestID); t.FromTrusted(r) && validRequestID(id) {
		return id
	}
	return NewRequestID()
}

// NewRequestID is 32 hex digits, the shape of Nginx's $request_id: 64 bits
// drawn at random once per process, then a 64-bit counter. Ids only have to
// be unique, not unguessable, and reading the system's random source for
// every request of the hottest path costs more than the rest of the id.
func NewRequestID() string {
	var b [16]byte
	copy(b[:8], requestIDPrefix[:])
	binary.BigEndian.PutUint64(b[8:], requestIDCount.Add(1))
	return hex.EncodeToString(b[:])
}

var (
	requestIDPrefix = func() (p [8]byte) { rand.Read(p[:]); return p }()
	requestIDCount  atomic.Uint64
)

// validRequestID accepts up to 128 letters, digits, dashes and underscores, so
// a forwarded id can't inject anything into a log line or a header.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func forChain(h http.Header) []string {
	var chain []string
	for _, line := range h.Values(HeaderFor) {
		for _, hop := range strings.Split(line, ",") {
			if hop = strings.TrimSpace(hop); hop != "" {
				chain = append(chain, hop)
			}
		}
	}
	return chain
}
