package tier_test

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/store/storetest"
	"github.com/guestbook/guestbook/tier"
	"github.com/guestbook/guestbook/tier/hops"
)

// threeTiers is the original's system on loopback: a web instance in front
// of two app instances, both on one MariaDB primary and replica with named
// servers, each process on a real listener.
type threeTiers struct {
	web              string // base URL of the web instance
	apps             [2]*tier.Process
	stopApp          [2]func()
	waitApp          [2]func(time.Duration) error
	primary, replica *storetest.Server
	dbUser, dbPass   string
	healthInterval   time.Duration // the web tier's
}

const testAdminToken = "admin-token-f00dfeed"

func startThreeTiers(t *testing.T) *threeTiers {
	t.Helper()
	db, primary, replica := storetest.PairConfig(t)
	db.PrimaryName, db.ReplicaNames = "db-seoul-a", []string{"db-seoul-c"}
	s := &threeTiers{primary: primary, replica: replica, dbUser: "gbapp", dbPass: "app-pw", healthInterval: 300 * time.Millisecond}
	var upstreams []string
	for i, inst := range []config.Instance{
		{ID: "app-1", Zone: "ap-northeast-2a"},
		{ID: "app-2", Zone: "ap-northeast-2c"},
	} {
		cfg := config.Default()
		cfg.Database, cfg.Instance = db, inst
		cfg.App.TrustedProxies = []string{"127.0.0.1"} // the web instance
		cfg.App.AdminToken = testAdminToken
		s.apps[i], s.stopApp[i], s.waitApp[i] = start(t, tier.RoleApp, cfg)
		upstreams = append(upstreams, "http://"+s.apps[i].Addr())
	}
	cfg := config.Default()
	cfg.Instance = config.Instance{ID: "web-1", Zone: "ap-northeast-2a"}
	cfg.Web.Upstreams, cfg.Web.HealthInterval = upstreams, s.healthInterval
	// These tests watch each refresh's own path (the balancing, a replica
	// leaving): with the cache, a refresh within app.cache_ttl shows the
	// path of the page kept (tier/web's cache tests).
	cfg.Web.Cache = "off"
	web, _, _ := start(t, tier.RoleWeb, cfg)
	s.web = "http://" + web.Addr()
	s.settle(t)
	return s
}

// settle waits until every part has been checked once: the web tier knows
// both upstreams by name, and both app instances have the replica in their
// rotation with a lag. Until then a page may come from the primary, and the
// tests that expect the replica would fail for the start-up's sake.
func (s *threeTiers) settle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for inARow := 0; inARow < 4; { // round-robin: both app instances, twice
		topo, body := s.topology(t)
		settled := !strings.Contains(body, `"name":"upstream-`) && len(topo.Database.Servers) == 2
		for _, server := range topo.Database.Servers {
			settled = settled && server.Healthy && (server.Role != "replica" || server.Lag > 0)
		}
		if settled {
			inARow++
			continue
		}
		inARow = 0
		if time.Now().After(deadline) {
			t.Fatalf("the system has not settled: %s", body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// visit is one page through the web tier, as a browser that refreshes.
type visit struct {
	web, app, db string // the response's path headers
	footer       string
	body         string
}

func (s *threeTiers) get(t *testing.T, path string, header ...string) visit {
	t.Helper()
	req, err := http.NewRequest("GET", s.web+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d", path, resp.StatusCode)
	}
	v := visit{web: resp.Header.Get(hops.HeaderWeb), app: resp.Header.Get(hops.HeaderApp), db: resp.Header.Get(hops.HeaderDB), body: string(body)}
	if m := regexp.MustCompile(`(?s)<footer.*</footer>`).FindString(v.body); m != "" {
		v.footer = m
	}
	return v
}

// waitDB refreshes the list until both app instances say their read was
// answered by want ("db-seoul-a; role=primary") and the footer agrees.
func (s *threeTiers) waitDB(t *testing.T, want, footerName string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	agreeing := map[string]bool{}
	for len(agreeing) < 2 {
		v := s.get(t, "/visitor/visitor_list/")
		if strings.HasPrefix(v.db, want+"; lag=") && strings.Contains(v.footer, `<b class="hop-name">`+footerName+`</b>`) {
			agreeing[v.app] = true
		} else {
			agreeing = map[string]bool{}
		}
		if time.Now().After(deadline) {
			t.Fatalf("Guestbook-Db is still %q (footer %q), want %s from both app instances", v.db, v.footer, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The replica's hop in the header and the footer, its lag in seconds.
var (
	replicaHeader = regexp.MustCompile(`^db-seoul-c; role=replica; lag=[0-9]+(\.[0-9]{1,3})?$`)
	replicaFooter = regexp.MustCompile(`<b class="hop-name">db-seoul-c</b> <span class="role">replica · lag [0-9]+(\.[0-9]{1,3})?s</span>`)
)

func TestEveryPageShowsBothAppInstancesAndTheDatabaseServerThatAnswered(t *testing.T) {
	s := startThreeTiers(t)
	apps := map[string]bool{}
	for range 6 {
		v := s.get(t, "/visitor/visitor_list/")
		if v.web != "web-1; zone=ap-northeast-2a" {
			t.Errorf("Guestbook-Web %q", v.web)
		}
		id, _, _ := strings.Cut(v.app, ";")
		if !strings.Contains(v.footer, `data-hop="app"><span class="tier">app</span> <b class="hop-name">`+id+`</b>`) {
			t.Errorf("Guestbook-App says %q but the footer does not show %s:\n%s", v.app, id, v.footer)
		}
		if !strings.Contains(v.footer, `<b class="hop-name">web-1</b>`) {
			t.Errorf("the footer does not show the web instance:\n%s", v.footer)
		}
		if !replicaHeader.MatchString(v.db) || !replicaFooter.MatchString(v.footer) {
			t.Errorf("Guestbook-Db %q, footer %q: want the replica db-seoul-c with its lag", v.db, v.footer)
		}
		apps[v.app] = true
	}
	if !apps["app-1; zone=ap-northeast-2a"] || !apps["app-2; zone=ap-northeast-2c"] {
		t.Errorf("refreshing showed the app instances %v, want both", apps)
	}

	s.replica.Stop(t)
	s.waitDB(t, "db-seoul-a; role=primary", "db-seoul-a")
	s.replica.Start(t)
	s.waitDB(t, "db-seoul-c; role=replica", "db-seoul-c")
}

func TestAClientCannotPutAPathOfItsOwnOnThePages(t *testing.T) {
	s := startThreeTiers(t)
	spoof := []string{
		"Guestbook-Web", "evil-web; zone=evil",
		"Guestbook-App", "evil-app",
		"Guestbook-Db", "evil-db; role=primary; lag=0",
		"Guestbook-Upstreams", `[{"name":"evil-upstream","healthy":true}]`,
	}
	for _, path := range []string{"/visitor/visitor_list/", "/visitor/visitor_list/", hops.TopologyPage, hops.TopologyAPI} {
		v := s.get(t, path, spoof...)
		if strings.Contains(v.body, "evil") || strings.Contains(v.web+v.app+v.db, "evil") {
			t.Errorf("%s repeats the client's path: web %q app %q db %q", path, v.web, v.app, v.db)
		}
		if v.web != "web-1; zone=ap-northeast-2a" || !strings.HasPrefix(v.app, "app-") {
			t.Errorf("%s: path headers web %q app %q, want the real ones", path, v.web, v.app)
		}
	}
}

// topologyJSON is what the tests read of /visitor/api/topology.
type topologyJSON struct {
	Web       []struct{ Name, Zone string } `json:"web"`
	Upstreams []struct {
		Name               string
		Healthy, Answered  bool
		Requests, Failures int
	} `json:"upstreams"`
	WebLoad *loadJSON `json:"web_load"`
	App     struct {
		Name string
		Load *loadJSON `json:"load"`
	} `json:"app"`
	Database struct {
		Writer  *string `json:"writer"`
		Servers []struct {
			Name, Role string
			Healthy    bool
			Lag        float64 `json:"lag_seconds"`
		} `json:"servers"`
	} `json:"database"`
}

// loadJSON is a tier instance's concurrency limit and requests in flight.
type loadJSON struct {
	Limit    int `json:"limit"`
	InFlight int `json:"in_flight"`
}

func (s *threeTiers) topology(t *testing.T) (topologyJSON, string) {
	t.Helper()
	v := s.get(t, hops.TopologyAPI)
	var topo topologyJSON
	if err := json.Unmarshal([]byte(v.body), &topo); err != nil {
		t.Fatalf("topology JSON: %v\n%s", err, v.body)
	}
	return topo, v.body
}

func TestTheTopologyShowsTheWholeSystemAndNoSecret(t *testing.T) {
	s := startThreeTiers(t)
	topo, body := s.topology(t)
	if len(topo.Web) != 1 || topo.Web[0].Name != "web-1" {
		t.Errorf("web %+v, want web-1", topo.Web)
	}
	if len(topo.Upstreams) != 2 || topo.Upstreams[0].Name != "app-1" || topo.Upstreams[1].Name != "app-2" ||
		!topo.Upstreams[0].Healthy || !topo.Upstreams[1].Healthy {
		t.Errorf("upstreams %+v, want app-1 and app-2, healthy", topo.Upstreams)
	}
	for _, u := range topo.Upstreams {
		if u.Answered != (u.Name == topo.App.Name) {
			t.Errorf("upstream %s answered=%v, but %s answered", u.Name, u.Answered, topo.App.Name)
		}
	}
	// Each tier's concurrency limit (32 at start) and what is in flight:
	// this request, at the web instance and at the app instance.
	if l := topo.WebLoad; l == nil || l.Limit < 4 || l.InFlight < 1 {
		t.Errorf("web load %+v, want the web instance's limit and this request in flight", l)
	}
	if l := topo.App.Load; l == nil || l.Limit < 4 || l.InFlight < 1 {
		t.Errorf("app load %+v, want the app instance's limit and this request in flight", l)
	}
	if w := topo.Database.Writer; w == nil || *w != "db-seoul-a" {
		t.Errorf("writer %v, want db-seoul-a", w)
	}
	if ss := topo.Database.Servers; len(ss) != 2 || ss[1].Name != "db-seoul-c" || ss[1].Role != "replica" || !ss[1].Healthy || ss[1].Lag <= 0 {
		t.Errorf("database servers %+v, want db-seoul-a and the healthy replica db-seoul-c with its lag", ss)
	}

	page := s.get(t, hops.TopologyPage).body
	secrets := []string{
		s.dbPass, s.dbUser + ":", "tcp(", s.primary.Addr(), s.replica.Addr(), testAdminToken,
		s.apps[0].Addr(), s.apps[1].Addr(),
	}
	for what, text := range map[string]string{"JSON": body, "page": page} {
		for _, secret := range secrets {
			if strings.Contains(text, secret) {
				t.Errorf("the topology %s contains %q", what, secret)
			}
		}
	}
}

func TestTheTopologyListsAStoppedUpstreamAsDownWithinTwoHealthIntervals(t *testing.T) {
	s := startThreeTiers(t)
	s.stopApp[1]()
	if err := s.waitApp[1](10 * time.Second); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	for {
		topo, _ := s.topology(t)
		if u := topo.Upstreams[1]; u.Name == "app-2" && !u.Healthy {
			break
		}
		if time.Since(stopped) > 2*s.healthInterval {
			t.Fatalf("%s after app-2 stopped the topology still shows %+v", time.Since(stopped), topo.Upstreams)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(s.get(t, hops.TopologyPage).body, `<g class="box down"><title>app-2</title>`) {
		t.Error("the topology page does not draw app-2 as down")
	}
}
