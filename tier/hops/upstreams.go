package hops

import (
	"encoding/json"
)

// Upstream is one app tier instance as the web tier in front of it sees it,
// for the topology page.
type Upstream struct {
	// Name is the instance id the upstream's health checks report in their
	// Guestbook-App header, or upstream-1, upstream-2, ... (in web.upstreams
	// order) until one has: never its URL, which holds an internal address.
	Name    string `json:"name"`
	Zone    string `json:"zone"`
	Healthy bool   `json:"healthy"`
	// Requests and Failures count the attempts the web tier sent it, and
	// those that got no answer, over the last RecentSeconds.
	Requests      uint64 `json:"requests"`
	Failures      uint64 `json:"failures"`
	RecentSeconds int    `json:"recent_seconds"`
	// LatencyMs is the web tier's latency estimate of the upstream, in
	// milliseconds, and InFlight its requests in flight now: what the
	// choice of upstream weighs.
	LatencyMs float64 `json:"latency_ms"`
	InFlight  int64   `json:"in_flight"`
}

// maxUpstreams bounds the list a Guestbook-Upstreams header may carry.
const maxUpstreams = 64

// UpstreamsHeader is the Guestbook-Upstreams value: the list as JSON, which
// holds only words and numbers (Name and Zone are words), so it is a valid
// header value as it is.
func UpstreamsHeader(list []Upstream) string {
	b, _ := json.Marshal(list) // a slice of plain structs always encodes
	return string(b)
}

// ParseUpstreams reads a Guestbook-Upstreams value, refusing one that holds
// more than names, zones, flags and counts.
func ParseUpstreams(v string) ([]Upstream, bool) {
	var list []Upstream
	if err := json.Unmarshal([]byte(v), &list); err != nil || len(list) > maxUpstreams {
		return nil, false
	}
	for _, u := range list {
		if !word(u.Name) || (u.Zone != "" && !word(u.Zone)) || u.LatencyMs < 0 || u.InFlight < 0 {
			return nil, false
		}
	}
	return list, true
}
