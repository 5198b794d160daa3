// Package config defines guestbook's configuration: one typed Config with its
// defaults in one place, loaded from a YAML file, then environment variables,
// then --set flags, and checked by Validate with messages that name the key.
package config

import (
	"fmt"
	"math"
	"net"
	"os"
	"time"
)

// Config is the whole configuration of one guestbook process. Every field has
// a key (its yaml path, such as database.max_open_conns) and an environment
// variable (GUESTBOOK_ and the key in upper case with dots as underscores).
type Config struct {
	Web      Web      `yaml:"web"`
	App      App      `yaml:"app"`
	Database Database `yaml:"database"`
	Instance Instance `yaml:"instance"`
	Log      Log      `yaml:"log"`
	Metrics  Metrics  `yaml:"metrics"`
}

// Metrics configures the Prometheus endpoint.
type Metrics struct {
	// Listen, when set (such as "127.0.0.1:9100"), serves /metrics on a
	// listener of its own and only there. Empty (the default): /metrics is
	// served on the role's own listener.
	Listen string `yaml:"listen"`
}

// Web configures the presentation tier (roles web and all).
type Web struct {
	// Listen is the address of the web and all roles. Default ":8080".
	Listen string `yaml:"listen"`
	// Upstreams are the app tier's base URLs that the web role proxies
	// /visitor/ to, such as http://10.0.2.10:8081.
	Upstreams []string `yaml:"upstreams"`
	// HealthInterval is how often the web role checks each upstream's
	// /healthz. Default 2s.
	HealthInterval time.Duration `yaml:"health_interval"`
	// TryTimeout is how long one attempt at an upstream may take to begin
	// its answer (the response's header). An upstream that takes longer is
	// given up on: it counts a failure and leaves the rotation until an
	// active check passes, and a GET, HEAD, DELETE or keyed write is sent to
	// another upstream. The app tier is told the same budget, so it answers
	// 503 in time when its database is slow. Default 1s.
	TryTimeout time.Duration `yaml:"try_timeout"`
	// MaxConcurrency is the ceiling of the web tier's adaptive limit on the
	// /visitor/ requests it works on at once; past the limit a request is
	// answered 503 with Retry-After at once. 0: adaptive with no ceiling.
	// Default 512.
	MaxConcurrency int `yaml:"max_concurrency"`
	// RateLimit is how many /visitor/ requests a second each client may
	// send on average, counted by the web tier (in roles web and all) per
	// client as forwarded.ClientKey groups them: an IPv4 address, an IPv6
	// /64. Past it a request is answered 429 with Retry-After at once. The
	// home page, static files, /healthz, /readyz and /metrics are never
	// counted. 0 (the default): off.
	RateLimit float64 `yaml:"rate_limit"`
	// RateBurst is how many requests a client may send at once before
	// RateLimit holds it back (a page, a form and a few reloads). 0 (the
	// default): twice RateLimit.
	RateBurst int `yaml:"rate_burst"`
	// TrustedProxies are the networks (CIDRs or addresses) of the load
	// balancers in front of the web tier, whose X-Forwarded-* and
	// X-Request-Id are believed. Default: none.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// TLSCert and TLSKey are PEM files: set both and the web and all roles
	// serve HTTPS on web.listen themselves. Empty (the default): plain HTTP,
	// for a load balancer that terminates TLS in front.
	TLSCert string `yaml:"tls_cert"`
	TLSKey  string `yaml:"tls_key"`
	// Cache is "on" (the default) or "off": the micro-cache of the app
	// tier's pages that their Cache-Control makes shareable (s-maxage), kept
	// by each web instance (roles web and all).
	Cache string `yaml:"cache"`
	// CacheSize bounds the cache's memory, keys and headers counted with
	// the bodies; the entry used least recently leaves first. A size such as
	// 8MB or 512KB (1024-based), 64KB to 1GB. Default 8MB.
	CacheSize string `yaml:"cache_size"`
	// CacheStaleWhileRevalidate is how long past its age an entry is still
	// served while one background request refreshes it (RFC 5861). 0: a
	// stale entry waits for its refill. Default 5s.
	CacheStaleWhileRevalidate time.Duration `yaml:"cache_stale_while_revalidate"`
	// CacheStaleIfError is how long past its age an entry may be served,
	// marked stale, when every upstream is failing or shedding, instead of
	// the 502 or 503. 0: never. Default 10m.
	CacheStaleIfError time.Duration `yaml:"cache_stale_if_error"`
}

// App configures the application tier.
type App struct {
	// Listen is the address of the app role. Default ":8081".
	Listen string `yaml:"listen"`
	// AdminToken may delete any entry and, as the bearer of an API GET, see
	// entries' emails, which nobody else is shown. Empty (the default)
	// means no admin.
	AdminToken string `yaml:"admin_token" secret:"true"`
	// TrustedProxies are the networks (CIDRs or addresses) of the web tier
	// and load balancers in front of the app tier, whose X-Forwarded-*,
	// X-Request-Id and path headers (Guestbook-Web, Guestbook-Upstreams) are
	// believed. Default: the loopback and private ranges
	// (DefaultAppTrustedProxies), where the web tier and an internal load
	// balancer live, so that the app tier sees each visitor's address
	// rather than the web instance's; an empty list trusts nobody.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// WriteLimit is the most entries one client may create in any
	// WriteWindow, counted on the primary across every app instance; past
	// it a create is answered 429 with Retry-After. The client is the
	// address the forwarded rules trust, IPv6 grouped by its /64. 0 turns
	// the limit off. Default 5.
	WriteLimit int `yaml:"write_limit"`
	// WriteWindow is the window of WriteLimit. Default 1m.
	WriteWindow time.Duration `yaml:"write_window"`
	// Secret, when set, is the key every app instance derives its keyed
	// hashes and signatures from (at least 32 characters; all instances must
	// share it). Empty (the default): the random secret that migrate made
	// in the database.
	Secret string `yaml:"secret" secret:"true"`
	// Moderation is ModerationOff (the default: a new entry is public at
	// once) or ModerationPre (a new entry waits, shown on no public page or
	// API, until the admin approves it at /visitor/admin/).
	Moderation string `yaml:"moderation"`
	// MaxConcurrency is the ceiling of the app tier's adaptive limit on the
	// requests it works on at once; past the limit a request is answered 503
	// with Retry-After at once, before its body is read. 0: adaptive with no
	// ceiling. Default 128.
	MaxConcurrency int `yaml:"max_concurrency"`
	// MaxLinks is the most links (http://, https:// or www.) an entry's
	// content may have; one with more is refused with 422, since links are
	// what spam is written for. 0: no link at all. Default 2.
	MaxLinks int `yaml:"max_links"`
	// FormMinAge is how old the create form's signed form_token must be
	// before the form may be posted: people take seconds to write, bots
	// post at once. 0: no minimum. Default 2s.
	FormMinAge time.Duration `yaml:"form_min_age"`
	// FormMaxAge is how old a form_token may be: a page left open longer
	// is refused and shown again with a fresh token. Default 24h.
	FormMaxAge time.Duration `yaml:"form_max_age"`
	// CacheTTL is how long a shared cache (the web tier's) may keep the
	// pages that are the same for every reader: the list, detail and home
	// pages and the API's public GETs get "Cache-Control: public,
	// s-maxage=" this. Everything that depends on who asks is no-store.
	// 0: no-store on everything. 0 to 1h. Default 1s.
	CacheTTL time.Duration `yaml:"cache_ttl"`
}

// Database configures the store.
type Database struct {
	// Driver is "sqlite" (the default) or "mysql".
	Driver string `yaml:"driver"`
	// Primary is the writer: a go-sql-driver DSN for mysql, a file path for
	// sqlite. Default "guestbook.db". Secret: a DSN holds a password.
	Primary string `yaml:"primary" secret:"true"`
	// Replicas are read-only DSNs (mysql only). Secret, as Primary.
	Replicas []string `yaml:"replicas" secret:"true"`
	// PrimaryName is what pages and the Guestbook-Db header call the
	// primary, since they must never show its DSN or host. With several
	// candidates in Primary, each is this name with -1, -2, ... appended.
	// Default "primary".
	PrimaryName string `yaml:"primary_name"`
	// ReplicaNames name the replicas for pages and the Guestbook-Db header,
	// one per entry of Replicas in the same order. Empty (the default):
	// replica-1, replica-2, ...
	ReplicaNames []string `yaml:"replica_names"`
	// ConnectTimeout bounds how long serve and migrate retry a database that
	// does not answer yet. Default 30s.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// MaxOpenConns caps each pool's connections. Default 20.
	MaxOpenConns int `yaml:"max_open_conns"`
	// MaxIdleConns caps each pool's idle connections. Default 10.
	MaxIdleConns int `yaml:"max_idle_conns"`
	// ConnMaxLifetime bounds how long a connection is reused. Default 5m.
	ConnMaxLifetime time.Duration `yaml:"conn_max_lifetime"`
	// HealthInterval is how often the writer writes the heartbeat and each
	// replica's lag is measured. Default 1s.
	HealthInterval time.Duration `yaml:"health_interval"`
	// MaxReplicaLag takes a replica that lags more out of the rotation.
	// Default 5s.
	MaxReplicaLag time.Duration `yaml:"max_replica_lag"`
	// FailoverTimeout is how long writes may fail after the writer is lost
	// before a writable candidate must have been found. Default 10s.
	FailoverTimeout time.Duration `yaml:"failover_timeout"`
	// ReadYourWrites sends a client's reads to the writer for this long after
	// it wrote, so it sees its own write. Default 5s; 0 turns it off.
	ReadYourWrites time.Duration `yaml:"read_your_writes"`
	// QueryTimeout abandons a query that has not answered in this long: a
	// read is then repeated on another server, a write answers 503. The
	// heartbeat and the health checks wait as long, so a frozen server
	// leaves the rotation within HealthInterval plus QueryTimeout. A
	// request's own deadline (the web tier's Guestbook-Timeout-Ms) bounds
	// it further. Default 2s.
	QueryTimeout time.Duration `yaml:"query_timeout"`
}

// Instance names the machine that served a request, as the pages show it.
type Instance struct {
	// ID defaults to the hostname.
	ID string `yaml:"id"`
	// Zone is the availability zone, empty by default.
	Zone string `yaml:"zone"`
	// Subnet is the subnet, empty by default.
	Subnet string `yaml:"subnet"`
	// Metadata says where ID, Zone and Subnet come from. "" or "none" (the
	// default): the three keys above, as configured. "ec2": the EC2 instance
	// metadata service (IMDSv2) at start, which then replaces all three, so
	// one launch template's configuration names every instance correctly.
	Metadata string `yaml:"metadata"`
	// Drain is how long, after SIGTERM, the instance keeps serving while its
	// /readyz answers 503, so that a load balancer stops sending it requests
	// before it closes its listener. Default 0s: close at once.
	Drain time.Duration `yaml:"drain"`
}

// Log configures log/slog.
type Log struct {
	// Format is "text" (the default) or "json".
	Format string `yaml:"format"`
	// Level is "debug", "info" (the default), "warn" or "error".
	Level string `yaml:"level"`
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	host, _ := os.Hostname()
	return Config{
		Web: Web{Listen: ":8080", HealthInterval: 2 * time.Second, TryTimeout: time.Second, MaxConcurrency: 512,
			Cache: "on", CacheSize: "8MB", CacheStaleWhileRevalidate: 5 * time.Second, CacheStaleIfError: 10 * time.Minute},
		App: App{Listen: ":8081", MaxConcurrency: 128, TrustedProxies: DefaultAppTrustedProxies(),
			WriteLimit: 5, WriteWindow: time.Minute, MaxLinks: 2,
			FormMinAge: 2 * time.Second, FormMaxAge: 24 * time.Hour, Moderation: ModerationOff, CacheTTL: time.Second},
		Database: Database{
			Driver:          SQLite.Name,
			Primary:         "guestbook.db",
			PrimaryName:     "primary",
			ConnectTimeout:  30 * time.Second,
			MaxOpenConns:    20,
			MaxIdleConns:    10,
			ConnMaxLifetime: 5 * time.Minute,
			HealthInterval:  time.Second,
			MaxReplicaLag:   5 * time.Second,
			FailoverTimeout: 10 * time.Second,
			ReadYourWrites:  5 * time.Second,
			QueryTimeout:    2 * time.Second,
		},
		Instance: Instance{ID: host},
		Log:      Log{Format: "text", Level: "info"},
	}
}

// DefaultAppTrustedProxies is app.trusted_proxies' default: the loopback
// and private ranges (Rails' default trusted proxies), where the web tier
// and the internal load balancer in front of the app tier live. The web
// tier's web.trusted_proxies has no such default: it faces the internet.
func DefaultAppTrustedProxies() []string {
	return []string{"127.0.0.0/8", "::1", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"}
}

// The values of app.moderation.
const (
	ModerationOff = "off"
	ModerationPre = "pre"
)

// MinSecret is the shortest app.secret and app.admin_token accepted, in
// bytes: 256 bits of randomness written as text. The admin token is
// guessed online (a right one shows every entry's email), so it must be
// far beyond guessing, whatever limits the guesses.
const MinSecret = 32

// Validate checks every value, naming the key of the first bad one.
func (c Config) Validate() error {
	if err := checkListen("web.listen", c.Web.Listen); err != nil {
		return err
	}
	if err := checkListen("app.listen", c.App.Listen); err != nil {
		return err
	}
	if _, err := ParseUpstreamURLs(c.Web.Upstreams); err != nil {
		return err
	}
	if c.Web.TLSCert != "" && c.Web.TLSKey == "" {
		return fmt.Errorf("web.tls_key: must be set with web.tls_cert")
	}
	if c.Web.TLSKey != "" && c.Web.TLSCert == "" {
		return fmt.Errorf("web.tls_cert: must be set with web.tls_key")
	}
	if c.Web.HealthInterval < 100*time.Millisecond {
		return fmt.Errorf("web.health_interval: %s is shorter than 100ms", c.Web.HealthInterval)
	}
	if c.Web.TryTimeout < 50*time.Millisecond || c.Web.TryTimeout > time.Minute {
		return fmt.Errorf("web.try_timeout: %s is not between 50ms and 1m", c.Web.TryTimeout)
	}
	if err := checkConcurrency("web.max_concurrency", c.Web.MaxConcurrency); err != nil {
		return err
	}
	if err := checkConcurrency("app.max_concurrency", c.App.MaxConcurrency); err != nil {
		return err
	}
	if err := c.Web.checkRate(); err != nil {
		return err
	}
	if err := c.Web.checkCache(); err != nil {
		return err
	}
	if c.App.CacheTTL < 0 || c.App.CacheTTL > time.Hour || c.App.CacheTTL%time.Second != 0 {
		return fmt.Errorf("app.cache_ttl: %s is not whole seconds between 0s (no-store) and 1h (s-maxage counts seconds)", c.App.CacheTTL)
	}
	if c.App.MaxLinks < 0 {
		return fmt.Errorf("app.max_links: %d is negative (0 allows no link)", c.App.MaxLinks)
	}
	if c.App.FormMinAge < 0 || c.App.FormMinAge > time.Hour {
		return fmt.Errorf("app.form_min_age: %s is not between 0s and 1h", c.App.FormMinAge)
	}
	if c.App.FormMaxAge <= c.App.FormMinAge {
		return fmt.Errorf("app.form_max_age: %s is not longer than app.form_min_age (%s)", c.App.FormMaxAge, c.App.FormMinAge)
	}
	if _, err := ParseNetworks(c.Web.TrustedProxies); err != nil {
		return fmt.Errorf("web.trusted_proxies: %w", err)
	}
	if _, err := ParseNetworks(c.App.TrustedProxies); err != nil {
		return fmt.Errorf("app.trusted_proxies: %w", err)
	}
	if c.App.WriteLimit < 0 || c.App.WriteLimit > 100000 {
		return fmt.Errorf("app.write_limit: %d is not 0 (no limit) or between 1 and 100000", c.App.WriteLimit)
	}
	if c.App.WriteWindow < time.Second || c.App.WriteWindow > 24*time.Hour {
		return fmt.Errorf("app.write_window: %s is not between 1s and 24h", c.App.WriteWindow)
	}
	if c.App.Secret != "" && len(c.App.Secret) < MinSecret {
		// The message never quotes the value: it is a secret.
		return fmt.Errorf("app.secret: %d characters is too short; set at least %d (such as `openssl rand -base64 32`), or leave it empty to use the database's",
			len(c.App.Secret), MinSecret)
	}
	if c.App.AdminToken != "" && len(c.App.AdminToken) < MinSecret {
		return fmt.Errorf("app.admin_token: %d characters is too short; set at least %d (such as `openssl rand -base64 32`), or leave it empty for no admin",
			len(c.App.AdminToken), MinSecret)
	}
	if c.App.Moderation != ModerationOff && c.App.Moderation != ModerationPre {
		return fmt.Errorf("app.moderation: %q is not %s (entries public at once) or %s (each waits for the admin's approval)",
			c.App.Moderation, ModerationOff, ModerationPre)
	}
	dialect, err := LookupDialect(c.Database.Driver)
	if err != nil {
		return err
	}
	if !dialect.Replicated && len(c.Database.Replicas) > 0 {
		return fmt.Errorf("database.replicas: replicas need database.driver %s",
			dialectNames(func(d Dialect) bool { return d.Replicated }))
	}
	if len(c.Database.Candidates()) == 0 {
		return fmt.Errorf("database.primary: must be set")
	}
	if err := c.Database.checkNames(); err != nil {
		return err
	}
	if c.Database.ConnectTimeout <= 0 {
		return fmt.Errorf("database.connect_timeout: must be positive, got %s", c.Database.ConnectTimeout)
	}
	if c.Database.MaxOpenConns < 1 {
		return fmt.Errorf("database.max_open_conns: %d is less than 1", c.Database.MaxOpenConns)
	}
	if c.Database.MaxIdleConns < 0 {
		return fmt.Errorf("database.max_idle_conns: %d is negative", c.Database.MaxIdleConns)
	}
	if c.Database.ConnMaxLifetime <= 0 {
		return fmt.Errorf("database.conn_max_lifetime: must be positive, got %s", c.Database.ConnMaxLifetime)
	}
	if c.Database.HealthInterval < 50*time.Millisecond {
		return fmt.Errorf("database.health_interval: %s is shorter than 50ms", c.Database.HealthInterval)
	}
	if c.Database.MaxReplicaLag <= c.Database.HealthInterval {
		return fmt.Errorf("database.max_replica_lag: %s must be longer than database.health_interval (%s), the heartbeat's own period",
			c.Database.MaxReplicaLag, c.Database.HealthInterval)
	}
	if c.Database.FailoverTimeout <= 0 {
		return fmt.Errorf("database.failover_timeout: must be positive, got %s", c.Database.FailoverTimeout)
	}
	if c.Database.QueryTimeout <= 0 {
		return fmt.Errorf("database.query_timeout: must be positive, got %s (it bounds every query and health check; "+
			"a frozen server leaves the rotation within database.health_interval plus this)", c.Database.QueryTimeout)
	}
	if c.Database.ReadYourWrites < 0 {
		return fmt.Errorf("database.read_your_writes: %s is negative", c.Database.ReadYourWrites)
	}
	if c.Instance.Drain < 0 {
		return fmt.Errorf("instance.drain: %s is negative", c.Instance.Drain)
	}
	switch c.Instance.Metadata {
	case "", "none", "ec2":
	default:
		return fmt.Errorf("instance.metadata: %q is not none or ec2", c.Instance.Metadata)
	}
	if c.Metrics.Listen != "" {
		if err := checkListen("metrics.listen", c.Metrics.Listen); err != nil {
			return err
		}
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return fmt.Errorf("log.format: %q is not text or json", c.Log.Format)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("log.level: %q is not debug, info, warn or error", c.Log.Level)
	}
	return nil
}

// MinRateLimit is the lowest web.rate_limit that is not 0 (off): one
// request in 100 seconds. Slower would be a ban, not a rate, and a
// Retry-After of hours.
const MinRateLimit = 0.01

// Burst is how many requests a client may send at once: web.rate_burst, or
// when it is 0, twice web.rate_limit.
func (w Web) Burst() float64 {
	if w.RateBurst > 0 {
		return float64(w.RateBurst)
	}
	return 2 * w.RateLimit
}

// checkRate checks web.rate_limit and web.rate_burst: a limit that is off
// or a rate a bucket can keep, and a burst that lets at least one request
// through.
func (w Web) checkRate() error {
	if math.IsNaN(w.RateLimit) || math.IsInf(w.RateLimit, 0) || w.RateLimit < 0 ||
		(w.RateLimit > 0 && w.RateLimit < MinRateLimit) {
		return fmt.Errorf("web.rate_limit: %g is not 0 (off) or a number of requests a second of at least %g", w.RateLimit, MinRateLimit)
	}
	if w.RateBurst < 0 {
		return fmt.Errorf("web.rate_burst: %d is negative", w.RateBurst)
	}
	if w.RateLimit > 0 && w.Burst() < 1 {
		return fmt.Errorf("web.rate_burst: 0 means twice web.rate_limit, %g, which lets no request through: set it to at least 1", w.Burst())
	}
	return nil
}

// Bounds of web.cache_size: room for a few pages, and far less than a web
// instance's memory.
const (
	MinCacheSize = 64 << 10
	MaxCacheSize = 1 << 30
)

// CacheOn says whether web.cache is on.
func (w Web) CacheOn() bool { return w.Cache == "on" }

// checkCache checks the web tier's cache keys.
func (w Web) checkCache() error {
	switch w.Cache {
	case "on", "off":
	default:
		return fmt.Errorf("web.cache: %q is not on or off", w.Cache)
	}
	size, err := ParseSize(w.CacheSize)
	if err != nil {
		return fmt.Errorf("web.cache_size: %w", err)
	}
	if size < MinCacheSize || size > MaxCacheSize {
		return fmt.Errorf("web.cache_size: %s is not between 64KB and 1GB", w.CacheSize)
	}
	if w.CacheStaleWhileRevalidate < 0 || w.CacheStaleWhileRevalidate > time.Hour {
		return fmt.Errorf("web.cache_stale_while_revalidate: %s is not between 0s and 1h", w.CacheStaleWhileRevalidate)
	}
	if w.CacheStaleIfError < 0 || w.CacheStaleIfError > 7*24*time.Hour {
		return fmt.Errorf("web.cache_stale_if_error: %s is not between 0s and 168h", w.CacheStaleIfError)
	}
	return nil
}

// checkConcurrency checks a concurrency ceiling: 0 (none) or at least the
// limiter's floor, and not absurd.
func checkConcurrency(key string, n int) error {
	if n != 0 && (n < 4 || n > 100000) {
		return fmt.Errorf("%s: %d is not 0 (no ceiling) or between 4 and 100000", key, n)
	}
	return nil
}

func checkListen(key, addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("%s: %q is not host:port", key, addr)
	}
	return nil
}
