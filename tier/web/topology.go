package web

import (
	"strconv"
	"time"

	"github.com/guestbook/guestbook/tier/hops"
)

// The web tier's part of the topology page. The page is the app tier's: it
// alone knows the database. But only the web tier knows the upstreams it
// balances across, so the proxy hands its view to the app tier in a
// Guestbook-Upstreams header on topology requests (and only there: building
// it costs a little JSON, which no other request should pay), and the app
// tier, believing it only from app.trusted_proxies, draws both in one page
// and one JSON document. The other way, the proxy answering the topology
// itself by merging its view into the app's answer, would mean parsing and
// rewriting the app's JSON and could not reach into its HTML at all.

// Describe is the pool as the topology page shows it, in web.upstreams
// order: each upstream's name, zone, health and recent counts. The name is
// the instance id its health checks report, never its URL (an internal
// address), or upstream-N when they report several (a load balancer).
func (p *Pool) Describe() []hops.Upstream {
	now := time.Now()
	out := make([]hops.Upstream, 0, len(p.upstreams))
	for _, u := range p.upstreams {
		requests, failures, over := u.counts.recent(now)
		d := hops.Upstream{
			Name: "upstream-" + strconv.Itoa(u.index+1), Healthy: u.Available(),
			Requests: requests, Failures: failures, RecentSeconds: int(over.Round(time.Second) / time.Second),
			LatencyMs: u.Latency().Seconds() * 1000, InFlight: u.InFlight(),
		}
		// Behind a load balancer the instance changes from check to check:
		// the upstream keeps its place's name rather than a random one's.
		if inst := u.instance.Load(); inst != nil && !u.balancer.Load() {
			d.Name, d.Zone = inst.ID, inst.Zone
		}
		out = append(out, d)
	}
	return out
}

// wantsUpstreams reports the requests the proxy sends its view with.
func wantsUpstreams(path string) bool {
	return path == hops.TopologyPage || path == hops.TopologyAPI
}
