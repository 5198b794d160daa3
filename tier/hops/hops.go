// Package hops names the path a request took through the tiers: the web
// instance, the app instance and the database server, as the Guestbook-Web,
// Guestbook-App and Guestbook-Db headers carry them and the footer of every
// page shows them. It holds only what a visitor may see: configured names,
// zones, roles and lags, never a DSN, a host or a password.
package hops

import (
	"strconv"
	"strings"
	"time"

	"github.com/guestbook/guestbook/config"
)

// The headers of the path, one per hop. The web tier sends Guestbook-Web to
// the app tier (believed only from app.trusted_proxies) and in its answer;
// the app tier answers with Guestbook-App and, when a query ran,
// Guestbook-Db. Guestbook-Upstreams carries the web tier's view of its
// upstreams to the app tier, on topology requests only.
const (
	HeaderWeb       = "Guestbook-Web"
	HeaderApp       = "Guestbook-App"
	HeaderDB        = "Guestbook-Db"
	HeaderUpstreams = "Guestbook-Upstreams"
)

// HeaderTimeout is how long, in whole milliseconds, the web tier will wait
// for the app tier's answer to this attempt (as Envoy's
// x-envoy-expected-rq-timeout-ms): the app tier bounds its own work by it,
// so that a slow database makes it answer 503 in time rather than look
// frozen. The web tier sets it on every proxied request, replacing any a
// client sent.
const HeaderTimeout = "Guestbook-Timeout-Ms"

// HeaderWebLoad carries the web instance's concurrency limit and requests
// in flight to the app tier, on topology requests only, as
// Guestbook-Upstreams does: "limit=512; in_flight=3".
const HeaderWebLoad = "Guestbook-Web-Load"

// Load is a tier instance's concurrency limit now and the requests it has
// admitted and not yet answered.
type Load struct {
	Limit    int `json:"limit"`
	InFlight int `json:"in_flight"`
}

// Header is the Guestbook-Web-Load value.
func (l Load) Header() string {
	return "limit=" + strconv.Itoa(l.Limit) + "; in_flight=" + strconv.Itoa(l.InFlight)
}

// ParseLoad reads a Guestbook-Web-Load value, refusing anything Header
// would not have written.
func ParseLoad(v string) (Load, bool) {
	var l Load
	limit, inFlight, ok := strings.Cut(v, "; ")
	if !ok {
		return Load{}, false
	}
	for _, kv := range []struct {
		text, key string
		to        *int
	}{{limit, "limit=", &l.Limit}, {inFlight, "in_flight=", &l.InFlight}} {
		digits, ok := strings.CutPrefix(kv.text, kv.key)
		n, err := strconv.Atoi(digits)
		if !ok || err != nil || n < 0 || len(digits) > 9 {
			return Load{}, false
		}
		*kv.to = n
	}
	return l, true
}

// HeaderShed marks a 503 that refused a request before any of its work was
// done (the tier was over its concurrency limit): the web tier may send
// such a request to another upstream, whatever its method, since nothing of
// it was applied.
const HeaderShed = "Guestbook-Shed"

// maxWord bounds each word of a header: an instance id, a zone, a subnet.
const maxWord = 63

// Instance is one tier's instance as the path shows it: id, zone and
// subnet, each a word that can go into a header as it is.
type Instance struct {
	ID     string `json:"name"`
	Zone   string `json:"zone"`
	Subnet string `json:"subnet"`
}

// Of is inst as the path shows it. Characters that could end a header value
// or one of its parameters (such as ";", "," or a space) become "_", so a
// hostname or zone with an odd character still makes one clean hop.
func Of(inst config.Instance) Instance {
	return Instance{ID: clean(inst.ID), Zone: clean(inst.Zone), Subnet: clean(inst.Subnet)}
}

// Header is the hop's header value: "web-1; zone=ap-northeast-2a;
// subnet=10.0.1.0/24", each parameter left out when empty.
func (i Instance) Header() string {
	var b strings.Builder
	b.WriteString(i.ID)
	if i.Zone != "" {
		b.WriteString("; zone=" + i.Zone)
	}
	if i.Subnet != "" {
		b.WriteString("; subnet=" + i.Subnet)
	}
	return b.String()
}

// ParseInstance reads a Guestbook-Web or Guestbook-App value. It refuses
// anything Header would not have written, so even a trusted sender's header
// can put nothing but words on a page.
func ParseInstance(v string) (Instance, bool) {
	parts := strings.Split(v, ";")
	i := Instance{ID: strings.TrimSpace(parts[0])}
	if !word(i.ID) {
		return Instance{}, false
	}
	for _, p := range parts[1:] {
		k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
		if !ok || !word(val) {
			return Instance{}, false
		}
		switch k {
		case "zone":
			i.Zone = val
		case "subnet":
			i.Subnet = val
		default:
			return Instance{}, false
		}
	}
	return i, true
}

// DB is the database server that answered a request's last query, as the
// path shows it: the app tier fills it from the store, so that this package,
// and the web tier that shares it, never needs the store.
type DB struct {
	Name string        // database.primary_name or replica_names: never a host
	Role string        // "primary" or "replica"
	Lag  time.Duration // a replica's lag at its last check; 0 for the primary
}

// Header is the Guestbook-Db value: "replica-1; role=replica; lag=0.042",
// the lag in seconds.
func (d DB) Header() string {
	return d.Name + "; role=" + d.Role + "; lag=" + Seconds(d.Lag)
}

// Seconds writes d in seconds with at most three decimals: "0.042", "0".
func Seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Round(time.Millisecond).Seconds(), 'f', -1, 64)
}

// Path is the path one response took, for the footer of a page. A hop the
// page can't know is zero: the web tier's static pages know only themselves,
// an app tier reached without a trusted web tier knows no web hop, and a
// page that ran no query has no database server.
type Path struct {
	Web Instance
	App Instance
	DB  DB
}

// DBLag is the database server's lag in seconds, as the footer shows it.
func (p Path) DBLag() string { return Seconds(p.DB.Lag) }

// clean keeps what a word may hold and replaces the rest with "_".
func clean(s string) string {
	if len(s) > maxWord {
		s = s[:maxWord]
	}
	if word(s) || s == "" {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if !wordByte(c) {
			b[i] = '_'
		}
	}
	return string(b)
}

// word reports a non-empty run of up to 63 letters, digits and . _ - : /,
// which is what ids, zones and subnets (10.0.1.0/24, fe80::/64) are made of.
func word(s string) bool {
	if s == "" || len(s) > maxWord {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !wordByte(s[i]) {
			return false
		}
	}
	return true
}

func wordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '.' || c == '_' || c == '-' || c == ':' || c == '/'
}

// The topology page and its JSON. The web tier sends Guestbook-Upstreams on
// requests for these paths only.
const (
	TopologyPage = "/visitor/topology"
	TopologyAPI  = "/visitor/api/topology"
)
