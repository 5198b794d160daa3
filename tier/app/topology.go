package app

import (
	"net/http"
	"time"

	"github.com/guestbook/guestbook/store"
	"github.com/guestbook/guestbook/tier/hops"
	"github.com/guestbook/guestbook/tier/page"
)

// The live topology: GET /visitor/topology draws the three tiers as this
// request found them, and GET /visitor/api/topology gives the same facts as
// JSON. The web instance and the upstreams it balances across come from the
// web tier in front (Guestbook-Web and Guestbook-Upstreams, believed only
// from app.trusted_proxies: see tier/web/topology.go for why the web tier
// hands its view over rather than merging answers); the database servers
// come from this instance's store. Only names, zones, roles, health, counts
// and lags go in: never a DSN, a host, a token or an error message.

// topology is what both forms show.
type topology struct {
	Web       []hops.Instance `json:"web"`       // the web instances on this request's path
	WebLoad   *hops.Load      `json:"web_load"`  // that web instance's concurrency limit and in-flight count, if it said
	WebCache  *hops.CacheView `json:"web_cache"` // that web instance's cache, if it has one and said
	Upstreams []topoUpstream  `json:"upstreams"` // every app instance the web instance balances across
	App       topoApp         `json:"app"`       // the app instance that answered
	Database  topoDatabase    `json:"database"`  // that instance's view of the database servers
}

type topoUpstream struct {
	hops.Upstream
	Answered bool `json:"answered"` // this is the app instance that answered
}

type topoApp struct {
	hops.Instance
	Version string     `json:"version"`
	Load    *hops.Load `json:"load"` // its concurrency limit and requests in flight; null without a limit
}

type topoDatabase struct {
	Writer    *string      `json:"writer"`     // the writer's name; null while a failover looks for one
	ReadsFrom []string     `json:"reads_from"` // where reads go now: the healthy replicas, else the writer
	Servers   []topoServer `json:"servers"`
}

type topoServer struct {
	Name       string   `json:"name"`
	Role       string   `json:"role"` // primary or replica
	Healthy    bool     `json:"healthy"`
	Writer     bool     `json:"writer"`
	LagSeconds float64  `json:"lag_seconds"` // a replica's lag at its last check; 0 for a primary
	Reads      uint64   `json:"reads"`
	Writes     uint64   `json:"writes"`
	LatencyMs  float64  `json:"latency_ms"` // the latency estimate reads are balanced by, to 0.1 ms
	InFlight   int64    `json:"in_flight"`  // its queries running now
	Pool       topoPool `json:"pool"`
}

// topoPool is a server's connection pool in use.
type topoPool struct {
	Open    int `json:"open"`
	InUse   int `json:"in_use"`
	Idle    int `json:"idle"`
	MaxOpen int `json:"max_open"`
}

func (s *Server) handleTopology(w http.ResponseWriter, r *http.Request) {
	lang := page.Lang(r)
	t := s.topology(r)
	s.render(w, r, http.StatusOK, "topology", page.T(lang, "topology.title"), "", topologyPage{
		topology: t, Map: drawTopology(t, lang), InProcess: s.opts.InProcessWeb,
	})
}

func (s *Server) handleAPITopology(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.topology(r))
}

// topologyPage is the topology page's data: the facts and their picture.
type topologyPage struct {
	topology
	Map       topoMap
	InProcess bool // the web tier runs in this process (role all)
}

// topology gathers what this request can know of the system now.
func (s *Server) topology(r *http.Request) topology {
	t := topology{
		Web: []hops.Instance{}, Upstreams: []topoUpstream{},
		App:      topoApp{Instance: s.self, Version: s.opts.Version, Load: s.load()},
		Database: databaseOf(s.entries.Stats()),
	}
	if web, ok := s.webHop(r); ok {
		t.Web = append(t.Web, web)
	}
	if s.opts.TrustedProxies.FromTrusted(r) {
		if l, ok := hops.ParseLoad(r.Header.Get(hops.HeaderWebLoad)); ok {
			t.WebLoad = &l
		}
		if c, ok := hops.ParseCacheView(r.Header.Get(hops.HeaderWebCache)); ok {
			t.WebCache = &c
		}
		if list, ok := hops.ParseUpstreams(r.Header.Get(hops.HeaderUpstreams)); ok {
			for _, u := range list {
				t.Upstreams = append(t.Upstreams, topoUpstream{Upstream: u, Answered: u.Name == s.self.ID})
			}
		}
	}
	return t
}

// load is this instance's concurrency limit and requests in flight, or nil
// when it has no limit.
func (s *Server) load() *hops.Load {
	a := s.opts.Admission
	if a == nil {
		return nil
	}
	return &hops.Load{Limit: a.Limit(), InFlight: a.InFlight()}
}

// databaseOf is the store's routing by the servers' configured names. It
// shows BackendStats.Label, never Name (a host), and no error. A primary
// candidate that is not the writer but is also a replica (listed in both so
// that a failover can promote it) is shown once, as the replica it is now.
func databaseOf(st store.Stats) topoDatabase {
	d := topoDatabase{ReadsFrom: []string{}, Servers: []topoServer{}}
	replicaHosts := map[string]bool{}
	for _, b := range st.Backends {
		if b.Role == store.RoleReplica {
			replicaHosts[b.Name] = true
		}
	}
	for _, b := range st.Backends {
		if b.Role == store.RolePrimary && !b.Writer && replicaHosts[b.Name] {
			continue
		}
		d.Servers = append(d.Servers, topoServer{
			Name: b.Label, Role: b.Role, Healthy: b.Healthy, Writer: b.Writer,
			LagSeconds: b.Lag.Round(time.Millisecond).Seconds(), Reads: b.Reads, Writes: b.Writes,
			LatencyMs: float64(b.Latency.Round(100*time.Microsecond)) / float64(time.Millisecond), InFlight: b.InFlight,
			Pool: topoPool{Open: b.Pool.OpenConnections, InUse: b.Pool.InUse, Idle: b.Pool.Idle, MaxOpen: b.Pool.MaxOpenConnections},
		})
		if b.Writer {
			name := b.Label
			d.Writer = &name
		}
		if b.Role == store.RoleReplica && b.Healthy {
			d.ReadsFrom = append(d.ReadsFrom, b.Label)
		}
	}
	if len(d.ReadsFrom) == 0 && d.Writer != nil { // the store's rule: no healthy replica, reads go to the writer
		d.ReadsFrom = append(d.ReadsFrom, *d.Writer)
	}
	return d
}

// reads reports whether reads go to the server named name now.
func (d topoDatabase) reads(name string) bool {
	for _, n := range d.ReadsFrom {
		if n == name {
			return true
		}
	}
	return false
}
