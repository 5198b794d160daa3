package e2e

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/guestbook/guestbook/store/storetest"
)

// The settings every topology runs with. The intervals are short so that
// faults show within a second, not the defaults' several.
const (
	webHealthInterval = 200 * time.Millisecond // web.health_interval
	dbHealthInterval  = 200 * time.Millisecond // database.health_interval
	failoverTimeout   = 10 * time.Second       // database.failover_timeout (its default)
	// dbReadTimeout is the app's read and write timeout on a database
	// connection (the DSN's readTimeout and writeTimeout, 30s by default):
	// a query on a server whose link was cut gets no answer, not even a
	// reset, and this is how long the app waits before it moves on.
	dbReadTimeout = 3 * time.Second
	// webTryTimeout (web.try_timeout, 1s by default) and dbQueryTimeout
	// (database.query_timeout, 2s by default) are halved, so that a frozen
	// instance costs each test half a second, not one, and they stay far
	// above what a healthy answer takes here (a few milliseconds).
	webTryTimeout  = 500 * time.Millisecond
	dbQueryTimeout = time.Second
)

// Database accounts, as docs/deploy.md creates them: the serving app may
// read and write rows; only migrate may change the schema.
const (
	dbName          = "guestbook"
	appUser         = "guestbook"
	appPassword     = "app-secret"
	migrateUser     = "guestbook_migrate"
	migratePassword = "migrate-secret"
)

// adminToken is the app instances' app.admin_token.
const adminToken = "e2e-admin-token-0123456789abcdef-long"

// topology is the original's machines, with the guestbook as real processes
// of the built binary: a MariaDB primary (db-1) and its GTID replica (db-2),
// two app instances (app-1, app-2) that use both, two web instances (web-1,
// web-2) in front of both apps, and a load balancer in front of both webs.
type topology struct {
	net     *lan
	primary *storetest.Server // db-1
	replica *storetest.Server // db-2
	apps    []*process        // app-1, app-2
	webs    []*process        // web-1, web-2
	lb      *balancer
	base    string          // the balancer's URL: where a visitor's browser goes
	first   int64           // the id of the first entry, written at the start
	cut     map[string]bool // database hosts cut off now
	// app1Delay is in front of app-1 when topologyOptions.delayApp1 is set:
	// both web instances reach app-1 through it.
	app1Delay *delayProxy
}

// topologyOptions change one topology's settings.
type topologyOptions struct {
	drain    time.Duration // instance.drain of the web instances
	semiSync bool          // semi-synchronous replication, lossless (AFTER_SYNC)
	// tryTimeout and queryTimeout are web.try_timeout and
	// database.query_timeout; 0: webTryTimeout and dbQueryTimeout.
	tryTimeout, queryTimeout time.Duration
	// delayApp1 puts a delaying proxy of the test's own (tp.app1Delay) in
	// front of app-1, so that a test can make it slow.
	delayApp1 bool
	// webMaxConcurrency and appMaxConcurrency are web.max_concurrency and
	// app.max_concurrency, the ceilings of the tiers' adaptive limits; 0:
	// their defaults.
	webMaxConcurrency, appMaxConcurrency int
	// writeLimit and writeWindow are app.write_limit and app.write_window.
	// 0: no limit, which every other test needs: all the topology's
	// clients are the test process, one address, and they write far more
	// than a few entries a minute.
	writeLimit  int
	writeWindow time.Duration
	// web1TrustsClient makes the test client a trusted proxy of web-1 (a
	// load balancer that says who the client is in X-Forwarded-For) and of
	// the app tier; web-2 still believes nobody's headers.
	web1TrustsClient bool
	// formMinAge is app.form_min_age; 0 (no minimum), so that the tests
	// can post forms the moment they have them.
	formMinAge time.Duration
	// formMaxAge is app.form_max_age; 0: its default (24h).
	formMaxAge time.Duration
	// adminToken and moderation are app.admin_token and app.moderation;
	// empty: their defaults (no admin; entries public at once).
	adminToken, moderation string
}

// startTopology starts the whole system and returns once every tier is
// ready. Everything stops when the test ends, whatever happened.
func startTopology(t *testing.T, opts topologyOptions) *topology {
	t.Helper()
	storetest.RequireServer(t)
	guestbookBinary(t)
	tp := &topology{net: newLAN(t), cut: map[string]bool{}}
	db1, db2 := tp.net.hosts["db-1"], tp.net.hosts["db-2"]
	tp.primary, tp.replica = storetest.StartPairWith(t,
		[]storetest.Option{storetest.WithBindAddress(db1.addr), storetest.WithCommandPrefix(db1.prefix()...)},
		[]storetest.Option{storetest.WithBindAddress(db2.addr), storetest.WithCommandPrefix(db2.prefix()...)})
	if opts.semiSync {
		tp.enableSemiSync(t)
	}
	tp.createAccounts(t)

	tp.migrate(t)
	for _, name := range []string{"app-1", "app-2"} {
		tp.apps = append(tp.apps, tp.startApp(t, name, opts))
	}
	if opts.delayApp1 {
		tp.app1Delay = startDelayProxy(t, tp.net.client, tp.apps[0].addr)
	}
	for _, p := range tp.apps { // both start at once; waiting in turn costs nothing
		p.waitReady(t, 30*time.Second)
	}
	for _, name := range []string{"web-1", "web-2"} {
		tp.webs = append(tp.webs, tp.startWeb(t, name, opts))
	}
	for _, p := range tp.webs {
		p.waitReady(t, 30*time.Second)
	}
	tp.lb = startBalancer(t, tp.webs[0].addr, tp.webs[1].addr)
	tp.base = tp.lb.URL()
	tp.first = tp.writeFirstEntry(t)
	return tp
}

// writeFirstEntry writes the guestbook's first entry through the balancer,
// with the API, and returns its id. It has no marker: no ledger counts it.
func (tp *topology) writeFirstEntry(t *testing.T) int64 {
	t.Helper()
	r, err := newVisitor(tp.base, false).do("POST", "/visitor/api/entries",
		strings.NewReader(`{"name":"관리자","email":"admin@example.com","content":"방명록을 열었습니다."}`),
		http.Header{"Content-Type": {"application/json"}})
	var created struct {
		ID int64 `json:"id"`
	}
	if err != nil || r.status != http.StatusCreated || json.Unmarshal([]byte(r.body), &created) != nil || created.ID == 0 {
		t.Fatalf("write the first entry: %d %v\n%s", r.status, err, excerpt(r.body))
	}
	tp.replica.WaitCaughtUp(t, tp.primary) // so that every reader finds it
	return created.ID
}

// enableSemiSync turns on lossless semi-synchronous replication as
// README.md says to: the primary acknowledges a commit only once the replica
// has it. It waits until the primary counts the replica as a semi-sync
// client.
func (tp *topology) enableSemiSync(t *testing.T) {
	t.Helper()
	tp.primary.Exec(t, "SET GLOBAL rpl_semi_sync_master_enabled = ON")
	tp.primary.Exec(t, "SET GLOBAL rpl_semi_sync_master_wait_point = AFTER_SYNC")
	tp.primary.Exec(t, "SET GLOBAL rpl_semi_sync_master_timeout = 10000")
	tp.replica.Exec(t, "SET GLOBAL rpl_semi_sync_slave_enabled = ON")
	tp.replica.Exec(t, "STOP SLAVE IO_THREAD")
	tp.replica.Exec(t, "START SLAVE IO_THREAD")
	deadline := time.Now().Add(30 * time.Second)
	for tp.primary.QueryString(t, "SELECT VARIABLE_VALUE FROM information_schema.global_status "+
		"WHERE VARIABLE_NAME = 'Rpl_semi_sync_master_clients'") != "1" {
		if time.Now().After(deadline) {
			t.Fatal("the replica did not become a semi-synchronous client of the primary")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// createAccounts makes the database and its two users on the primary, each
// allowed only from the app machines, as the deployment guide does.
func (tp *topology) createAccounts(t *testing.T) {
	t.Helper()
	tp.primary.CreateDatabase(t, dbName)
	for _, h := range []*host{tp.net.hosts["app-1"], tp.net.hosts["app-2"]} {
		app := fmt.Sprintf("'%s'@'%s'", appUser, h.addr)
		migrator := fmt.Sprintf("'%s'@'%s'", migrateUser, h.addr)
		if h.netns == "" && h.name == "app-2" {
			break // on loopback both hosts are 127.0.0.1: one account each
		}
		tp.primary.Exec(t, "CREATE USER "+app+" IDENTIFIED BY '"+appPassword+"'")
		tp.primary.Exec(t, "GRANT SELECT, INSERT, UPDATE, DELETE ON "+dbName+".* TO "+app)
		tp.primary.Exec(t, "CREATE USER "+migrator+" IDENTIFIED BY '"+migratePassword+"'")
		tp.primary.Exec(t, "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP ON "+dbName+".* TO "+migrator)
	}
	tp.replica.WaitCaughtUp(t, tp.primary)
}

// dsn is user's DSN for the guestbook database on s, with the app's
// timeouts.
func dsn(t *testing.T, s *storetest.Server, user, password string) string {
	t.Helper()
	c, err := mysql.ParseDSN(s.DSN(user, password, dbName))
	if err != nil {
		t.Fatal(err)
	}
	c.Timeout, c.ReadTimeout, c.WriteTimeout = time.Second, dbReadTimeout, dbReadTimeout
	return c.FormatDSN()
}

// candidates is database.primary: both servers, of which the writable one
// is the writer, so that a promotion needs no restart.
func (tp *topology) candidates(t *testing.T, user, password string) string {
	return dsn(t, tp.primary, user, password) + "," + dsn(t, tp.replica, user, password)
}

// migrate runs `guestbook migrate` on app-1 as the migration user, as the
// guestbook-migrate unit does before the app starts.
func (tp *topology) migrate(t *testing.T) {
	t.Helper()
	p := startProcess(t, "migrate", tp.net.hosts["app-1"], environ(
		"GUESTBOOK_DATABASE_DRIVER=mysql",
		"GUESTBOOK_DATABASE_PRIMARY="+tp.candidates(t, migrateUser, migratePassword),
		"GUESTBOOK_DATABASE_CONNECT_TIMEOUT=20s",
		"GUESTBOOK_LOG_LEVEL=info",
	), "migrate")
	if code := p.wait(t, time.Minute); code != 0 {
		t.Fatalf("guestbook migrate exited with %d:\n%s", code, p.out.tail(20))
	}
}

func (tp *topology) startApp(t *testing.T, name string, opts topologyOptions) *process {
	t.Helper()
	h := tp.net.hosts[name]
	addr := h.listen(t, 8081)
	var webs []string
	for _, w := range []string{"web-1", "web-2"} {
		webs = append(webs, tp.net.hosts[w].addr)
	}
	if opts.delayApp1 || opts.web1TrustsClient {
		webs = append(webs, tp.net.client) // where the delaying proxy forwards from; the proxy in front of web-1
	}
	env := environ(
		"GUESTBOOK_DATABASE_DRIVER=mysql",
		"GUESTBOOK_DATABASE_PRIMARY="+tp.candidates(t, appUser, appPassword),
		"GUESTBOOK_DATABASE_REPLICAS="+dsn(t, tp.replica, appUser, appPassword),
		"GUESTBOOK_DATABASE_HEALTH_INTERVAL="+dbHealthInterval.String(),
		"GUESTBOOK_DATABASE_MAX_REPLICA_LAG=2s",
		"GUESTBOOK_DATABASE_FAILOVER_TIMEOUT="+failoverTimeout.String(),
		"GUESTBOOK_DATABASE_CONNECT_TIMEOUT=20s",
		"GUESTBOOK_DATABASE_QUERY_TIMEOUT="+cmp.Or(opts.queryTimeout, dbQueryTimeout).String(),
		"GUESTBOOK_APP_LISTEN="+addr,
		"GUESTBOOK_APP_FORM_MIN_AGE="+opts.formMinAge.String(),
		"GUESTBOOK_APP_FORM_MAX_AGE="+cmp.Or(opts.formMaxAge, 24*time.Hour).String(),
		"GUESTBOOK_APP_TRUSTED_PROXIES="+strings.Join(unique(webs), ","),
		"GUESTBOOK_APP_ADMIN_TOKEN="+adminToken,
		"GUESTBOOK_INSTANCE_ID="+name,
		"GUESTBOOK_INSTANCE_ZONE="+zone(name),
		"GUESTBOOK_LOG_LEVEL=info",
	)
	env = append(env, ceiling("GUESTBOOK_APP_MAX_CONCURRENCY", opts.appMaxConcurrency)...)
	env = append(env, "GUESTBOOK_APP_WRITE_LIMIT="+strconv.Itoa(opts.writeLimit))
	if opts.writeWindow != 0 {
		env = append(env, "GUESTBOOK_APP_WRITE_WINDOW="+opts.writeWindow.String())
	}
	if opts.adminToken != "" {
		env = append(env, "GUESTBOOK_APP_ADMIN_TOKEN="+opts.adminToken)
	}
	if opts.moderation != "" {
		env = append(env, "GUESTBOOK_APP_MODERATION="+opts.moderation)
	}
	p := startProcess(t, name, h, env, "serve", "--role=app")
	p.addr = addr
	return p
}

func (tp *topology) startWeb(t *testing.T, name string, opts topologyOptions) *process {
	t.Helper()
	h := tp.net.hosts[name]
	addr := h.listen(t, 8080)
	app1 := tp.apps[0].addr
	if tp.app1Delay != nil {
		app1 = tp.app1Delay.addr()
	}
	env := environ(
		"GUESTBOOK_WEB_LISTEN="+addr,
		"GUESTBOOK_WEB_UPSTREAMS=http://"+app1+",http://"+tp.apps[1].addr,
		"GUESTBOOK_WEB_HEALTH_INTERVAL="+webHealthInterval.String(),
		"GUESTBOOK_WEB_TRY_TIMEOUT="+cmp.Or(opts.tryTimeout, webTryTimeout).String(),
		"GUESTBOOK_INSTANCE_ID="+name,
		"GUESTBOOK_INSTANCE_ZONE="+zone(name),
		"GUESTBOOK_INSTANCE_DRAIN="+opts.drain.String(),
		"GUESTBOOK_LOG_LEVEL=info",
	)
	env = append(env, ceiling("GUESTBOOK_WEB_MAX_CONCURRENCY", opts.webMaxConcurrency)...)
	if opts.web1TrustsClient && name == "web-1" {
		env = append(env, "GUESTBOOK_WEB_TRUSTED_PROXIES="+tp.net.client)
	}
	p := startProcess(t, name, h, env, "serve", "--role=web")
	p.addr = addr
	return p
}

// ceiling is the variable that sets a tier's max_concurrency to n, or none
// (the default) when n is 0.
func ceiling(name string, n int) []string {
	if n == 0 {
		return nil
	}
	return []string{name + "=" + strconv.Itoa(n)}
}

// zone puts the first instance of each tier in one availability zone and
// the second in another, as the original did.
func zone(name string) string {
	if strings.HasSuffix(name, "-1") {
		return "ap-northeast-2a"
	}
	return "ap-northeast-2c"
}

func unique(list []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// cutOff takes a database host off the network: its link is cut (ip link
// set down) when the hosts are namespaces. On loopback, where there is no
// link to cut, the server is frozen instead (SIGSTOP), which looks the same
// from outside: connections stay open and nothing answers.
//
// A server still cut off when the test ends is killed, as the failed
// machine it stands for: a clean shutdown would wait on clients and
// replicas it can no longer reach.
func (tp *topology) cutOff(t *testing.T, name string) {
	t.Helper()
	s := tp.server(name)
	if tp.net.namespaced() {
		tp.net.setLink(t, name, false)
	} else {
		s.Freeze(t)
	}
	tp.cut[name] = true
	t.Cleanup(func() {
		if tp.cut[name] {
			s.Kill(t)
		}
	})
}

// reconnect undoes cutOff.
func (tp *topology) reconnect(t *testing.T, name string) {
	t.Helper()
	if tp.net.namespaced() {
		tp.net.setLink(t, name, true)
	} else {
		tp.server(name).Thaw(t)
	}
	tp.cut[name] = false
}

func (tp *topology) server(name string) *storetest.Server {
	if name == "db-1" {
		return tp.primary
	}
	return tp.replica
}
