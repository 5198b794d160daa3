package forwarded_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/guestbook/guestbook/tier/forwarded"
)

func TestParseTrustedReadsCIDRsAndSingleAddresses(t *testing.T) {
	tests := []struct {
		in      []string
		want    string // the parsed prefixes, space separated
		wantErr bool
	}{
		{nil, "", false},
		{[]string{"10.0.0.0/16"}, "10.0.0.0/16", false},
		{[]string{"10.0.7.9/16"}, "10.0.0.0/16", false}, // masked
		{[]string{" 10.0.0.5 "}, "10.0.0.5/32", false},
		{[]string{"::ffff:10.0.0.5"}, "10.0.0.5/32", false}, // unmapped
		{[]string{"fd00::/8", "2001:db8::1"}, "fd00::/8 2001:db8::1/128", false},
		{[]string{"10.0.0.0/33"}, "", true},
		{[]string{"10.0.0"}, "", true},
		{[]string{"proxy.example"}, "", true},
		{[]string{"10.0.0.1", ""}, "", true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.in, ","), func(t *testing.T) {
			got, err := forwarded.ParseTrusted(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Errorf("ParseTrusted(%q) = %v, want an error", tt.in, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTrusted(%q): %v", tt.in, err)
			}
			var s []string
			for _, p := range got {
				s = append(s, p.String())
			}
			if strings.Join(s, " ") != tt.want {
				t.Errorf("ParseTrusted(%q) = %v, want %s", tt.in, s, tt.want)
			}
		})
	}
}

// request is a request that arrived from peer carrying the given headers
// (pairs of name and value; a name may repeat).
func request(peer string, header ...string) *http.Request {
	r := httptest.NewRequest("GET", "http://guestbook.example/visitor/", nil)
	r.RemoteAddr = peer
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	return r
}

func trusted(t *testing.T, networks ...string) forwarded.Trusted {
	t.Helper()
	tr, err := forwarded.ParseTrusted(networks)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestClientIPBelievesForwardedForOnlyFromTrustedProxies(t *testing.T) {
	lb := trusted(t, "10.0.0.0/16", "192.0.2.1")
	tests := []struct {
		name    string
		trusted forwarded.Trusted
		r       *http.Request
		want    string
	}{
		{"no trusted proxies: the peer", nil, request("203.0.113.9:5000", "X-Forwarded-For", "1.2.3.4"), "203.0.113.9"},
		{"untrusted peer: its spoofed header is ignored", lb, request("203.0.113.9:5000", "X-Forwarded-For", "1.2.3.4"), "203.0.113.9"},
		{"trusted peer: the hop it names", lb, request("10.0.0.2:5000", "X-Forwarded-For", "198.51.100.7"), "198.51.100.7"},
		{"trusted peer without header: the peer", lb, request("10.0.0.2:5000"), "10.0.0.2"},
		{"right to left, skipping trusted hops", lb,
			request("10.0.0.2:5000", "X-Forwarded-For", "1.2.3.4, 198.51.100.7, 192.0.2.1, 10.0.3.3"), "198.51.100.7"},
		{"hops over repeated headers", lb,
			request("10.0.0.2:5000", "X-Forwarded-For", "1.2.3.4, 198.51.100.7", "X-Forwarded-For", "10.0.3.3"), "198.51.100.7"},
		{"every hop trusted: the leftmost", lb, request("10.0.0.2:5000", "X-Forwarded-For", "10.0.9.9, 192.0.2.1"), "10.0.9.9"},
		{"a malformed hop stops the walk at the last trusted address", lb,
			request("10.0.0.2:5000", "X-Forwarded-For", "1.2.3.4, not-an-ip, 10.0.3.3"), "10.0.3.3"},
		{"a malformed only hop: the peer", lb, request("10.0.0.2:5000", "X-Forwarded-For", "1.2.3.4:80"), "10.0.0.2"},
		{"IPv4-mapped peer", lb, request("[::ffff:10.0.0.2]:5000", "X-Forwarded-For", "198.51.100.7"), "198.51.100.7"},
		{"IPv6 client", lb, request("10.0.0.2:5000", "X-Forwarded-For", "2001:db8::7"), "2001:db8::7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.trusted.ClientIP(tt.r); got != netip.MustParseAddr(tt.want) {
				t.Errorf("ClientIP = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestForwardedForReplacesAnUntrustedChainAndExtendsATrustedOne(t *testing.T) {
	lb := trusted(t, "10.0.0.0/16")
	tests := []struct {
		name    string
		trusted forwarded.Trusted
		r       *http.Request
		want    string
	}{
		{"untrusted peer without header", lb, request("203.0.113.9:5000"), "203.0.113.9"},
		{"untrusted peer's header is replaced", lb, request("203.0.113.9:5000", "X-Forwarded-For", "1.2.3.4"), "203.0.113.9"},
		{"nothing trusted", nil, request("10.0.0.2:5000", "X-Forwarded-For", "1.2.3.4"), "10.0.0.2"},
		{"trusted peer's chain is extended", lb, request("10.0.0.2:5000", "X-Forwarded-For", "1.2.3.4,198.51.100.7"),
			"1.2.3.4, 198.51.100.7, 10.0.0.2"},
		{"trusted peer without header", lb, request("10.0.0.2:5000"), "10.0.0.2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.trusted.ForwardedFor(tt.r); got != tt.want {
				t.Errorf("ForwardedFor = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestProtoAndHostComeFromATrustedProxyOrTheConnection(t *testing.T) {
	lb := trusted(t, "10.0.0.0/16")
	overTLS := request("203.0.113.9:5000")
	overTLS.TLS = &tls.ConnectionState{}
	tests := []struct {
		name      string
		r         *http.Request
		wantProto string
		wantHost  string
	}{
		{"untrusted peer's claims are ignored",
			request("203.0.113.9:5000", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "evil.example"), "http", "guestbook.example"},
		{"TLS here", overTLS, "https", "guestbook.example"},
		{"trusted peer's claims are kept",
			request("10.0.0.2:5000", "X-Forwarded-Proto", "https", "X-Forwarded-Host", "www.example"), "https", "www.example"},
		{"trusted peer's unknown scheme is ignored",
			request("10.0.0.2:5000", "X-Forwarded-Proto", "gopher"), "http", "guestbook.example"},
		{"trusted peer without headers", request("10.0.0.2:5000"), "http", "guestbook.example"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := lb.Proto(tt.r); got != tt.wantProto {
				t.Errorf("Proto = %q, want %q", got, tt.wantProto)
			}
			if got := lb.Host(tt.r); got != tt.wantHost {
				t.Errorf("Host = %q, want %q", got, tt.wantHost)
			}
		})
	}
}

func TestRequestIDIsKeptOnlyWhenATrustedProxySentAWellFormedOne(t *testing.T) {
	lb := trusted(t, "10.0.0.0/16")
	tests := []struct {
		name, peer, id string
		kept           bool
	}{
		{"trusted, well formed", "10.0.0.2:5000", "lb-0af3_19C", true},
		{"trusted, 128 characters", "10.0.0.2:5000", strings.Repeat("a", 128), true},
		{"untrusted", "203.0.113.9:5000", "lb-0af3_19C", false},
		{"trusted, none", "10.0.0.2:5000", "", false},
		{"trusted, space", "10.0.0.2:5000", "a b", false},
		{"trusted, newline", "10.0.0.2:5000", "a\nlevel=ERROR", false},
		{"trusted, quote", "10.0.0.2:5000", `a"b`, false},
		{"trusted, not ASCII", "10.0.0.2:5000", "요청", false},
		{"trusted, 129 characters", "10.0.0.2:5000", strings.Repeat("a", 129), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := request(tt.peer)
			r.Header[forwarded.HeaderRequestID] = []string{tt.id} // as sent, unchecked by Header.Set
			got := lb.RequestID(r)
			if tt.kept {
				if got != tt.id {
					t.Errorf("RequestID = %q, want the proxy's %q", got, tt.id)
				}
				return
			}
			if got == tt.id || !isNewID(got) {
				t.Errorf("RequestID = %q, want a new 32-digit hex id", got)
			}
		})
	}
}

func TestNewRequestIDsAreDistinctHex(t *testing.T) {
	a, b := forwarded.NewRequestID(), forwarded.NewRequestID()
	if !isNewID(a) || !isNewID(b) || a == b {
		t.Errorf("NewRequestID gave %q and %q, want two different 32-digit hex ids", a, b)
	}
}

func isNewID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for _, c := range id {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func TestMiddlewareRecordsTheRequestAndAnswersWithItsID(t *testing.T) {
	lb := trusted(t, "10.0.0.0/16")
	var info forwarded.Info
	h := lb.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info = forwarded.From(r.Context())
	}))

	w := httptest.NewRecorder()
	h.ServeHTTP(w, request("10.0.0.2:5000", "X-Forwarded-For", "198.51.100.7", "X-Request-Id", "lb-1", "X-Forwarded-Proto", "https"))
	if info.ID != "lb-1" || info.Client != netip.MustParseAddr("198.51.100.7") || info.Proto != "https" {
		t.Errorf("from a trusted proxy, the handler saw %+v, want id lb-1, client 198.51.100.7, https", info)
	}
	if got := w.Header().Get(forwarded.HeaderRequestID); got != "lb-1" {
		t.Errorf("answered X-Request-Id %q, want lb-1", got)
	}

	w = httptest.NewRecorder()
	h.ServeHTTP(w, request("203.0.113.9:5000", "X-Forwarded-For", "198.51.100.7", "X-Request-Id", "spoofed", "X-Forwarded-Proto", "https"))
	if info.ID == "spoofed" || !isNewID(info.ID) || info.Client != netip.MustParseAddr("203.0.113.9") || info.Proto != "http" {
		t.Errorf("from an untrusted client, the handler saw %+v, want a new id, client 203.0.113.9, http", info)
	}
	if got := w.Header().Get(forwarded.HeaderRequestID); got != info.ID {
		t.Errorf("answered X-Request-Id %q, want the handler's %q", got, info.ID)
	}
	if forwarded.IDFrom(context.Background()) == "" {
		t.Error("IDFrom a context without an id is empty, want a new id")
	}
}

func TestClientKeyIsAnIPv4AddressOrAnIPv6Slash64(t *testing.T) {
	tests := []struct{ addr, want string }{
		{"198.51.100.7", "198.51.100.7/32"},
		{"::ffff:198.51.100.7", "198.51.100.7/32"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2::ffff", "2001:db8:1:2::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"::1", "::/64"},
	}
	for _, tt := range tests {
		if got := forwarded.ClientKey(netip.MustParseAddr(tt.addr)); got != netip.MustParsePrefix(tt.want) {
			t.Errorf("ClientKey(%s) = %s, want %s", tt.addr, got, tt.want)
		}
	}
	if got := forwarded.ClientKey(netip.Addr{}); got.IsValid() {
		t.Errorf("ClientKey of no address = %s, want the zero Prefix", got)
	}
}
