package config

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// The parsers of the keys whose values the running code needs in another
// form than the text configured. Validate calls each, so that what it
// accepts is exactly what the process will run with, and the process calls
// them again rather than parsing the text a second way.

// ParseNetworks reads a list of trusted proxies (web.trusted_proxies,
// app.trusted_proxies): CIDRs ("10.0.0.0/16", masked to their network) or
// single addresses ("10.0.0.5", a network of one), spaces around each
// ignored, IPv4-mapped IPv6 addresses read as IPv4. The error quotes the bad
// entry; the caller names the key.
func ParseNetworks(list []string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range list {
		s = strings.TrimSpace(s)
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR or an IP address", s)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// ParseUpstreamURLs reads web.upstreams: each an http or https base URL with
// a host and neither a query nor a fragment, its path's trailing slash
// removed (the proxy appends the request's path), and none listed twice.
// Errors name the key and quote the entry with any password hidden. An empty
// list is no error here: only role web needs upstreams.
func ParseUpstreamURLs(list []string) ([]*url.URL, error) {
	var out []*url.URL
	seen := map[string]bool{}
	for _, raw := range list {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("web.upstreams: %q is not an http(s) URL", redact(raw))
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("web.upstreams: %q: a base URL has no query or fragment", redact(raw))
		}
		u.Path = strings.TrimSuffix(u.Path, "/")
		if seen[u.String()] {
			return nil, fmt.Errorf("web.upstreams: %q is listed twice", redact(raw))
		}
		seen[u.String()] = true
		out = append(out, u)
	}
	return out, nil
}

// ParseSize reads a size in bytes such as web.cache_size: a whole number
// followed by B, KB, MB or GB (1024-based; KiB, MiB and GiB too), or none
// for bytes, case and spaces before the unit ignored. The caller names the
// key.
func ParseSize(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	end := strings.IndexFunc(t, func(c rune) bool { return c < '0' || c > '9' })
	if end < 0 {
		end = len(t)
	}
	if end == 0 || end > 18 {
		return 0, fmt.Errorf("%q is not a size such as 8MB or 512KB", s)
	}
	var n int64
	for _, c := range t[:end] {
		n = n*10 + int64(c-'0')
	}
	shift, ok := sizeUnits[strings.TrimSpace(t[end:])]
	if !ok || n > 1<<62>>shift {
		return 0, fmt.Errorf("%q is not a size such as 8MB or 512KB", s)
	}
	return n << shift, nil
}

var sizeUnits = map[string]uint{"": 0, "B": 0, "KB": 10, "KIB": 10, "MB": 20, "MIB": 20, "GB": 30, "GIB": 30}

// redact hides a password in a URL, so an error can quote it; a URL without
// one is quoted as it was written.
func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		if _, ok := u.User.Password(); !ok {
			return raw
		}
		return u.Redacted()
	}
	if at := strings.LastIndex(raw, "@"); at >= 0 {
		return "xxxxx" + raw[at:]
	}
	return raw
}
