package tier

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/guestbook/guestbook/assets"
	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/internal/admission"
	"github.com/guestbook/guestbook/internal/clientlimit"
	"github.com/guestbook/guestbook/store"
	"github.com/guestbook/guestbook/tier/app"
	"github.com/guestbook/guestbook/tier/forwarded"
	"github.com/guestbook/guestbook/tier/metrics"
	"github.com/guestbook/guestbook/tier/web"
)

// Role is one role built whole: the handler it serves, the jobs that run
// beside it (health checks, the store's heartbeat and failover), its
// metrics, and the store it holds open. Open listens, wraps the handler and
// runs the jobs; a test can serve Handler on a listener of its own.
type Role struct {
	Handler http.Handler
	Jobs    []func(context.Context)
	Metrics *metrics.Metrics
	// Trusted are the networks whose forwarded headers the role's edge
	// believes: web.trusted_proxies, or app.trusted_proxies in role app.
	Trusted forwarded.Trusted
	// draining is set while the process drains: both tiers' /readyz
	// answer 503 then.
	draining atomic.Bool
	static   *assets.Static // shared by both tiers in role all
	db       *store.DB
}

// builders build each role.
var builders = map[string]func(context.Context, Options, *Role) error{
	RoleApp: buildApp,
	RoleWeb: buildWeb,
	RoleAll: buildAll,
}

// Build builds the role opts names. On error nothing is left open.
func Build(ctx context.Context, opts Options) (_ *Role, err error) {
	build, ok := builders[opts.Role]
	if !ok {
		return nil, fmt.Errorf("--role: %q is not web, app or all", opts.Role)
	}
	r := &Role{Metrics: metrics.New(opts.Version, opts.Commit), static: assets.NewStatic()}
	if err := build(ctx, opts, r); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// Close releases the role's store.
func (r *Role) Close() error {
	if r.db != nil {
		return r.db.Close()
	}
	return nil
}

// The adaptive limits start where a tier on one or two cores is still far
// from full, and may never fall under a floor that keeps a tier that is
// merely slow serving a few requests at a time.
const (
	initialLimit = 32
	floorLimit   = 4
)

// limiter is tier's concurrency limit under ceiling (web.max_concurrency or
// app.max_concurrency; 0: none), published in the role's metrics. In role
// all the app tier's limit alone bounds /visitor/: one process, one limit.
func (r *Role) limiter(tier string, ceiling int) *admission.Limiter {
	l := admission.New(initialLimit, floorLimit, ceiling)
	r.Metrics.Register(metrics.NewLimitCollector(tier, l))
	return l
}

// rateLimit is the web tier's per-client rate limit, nil while
// web.rate_limit is 0 (off). Its table remembers clientlimit.DefaultSize
// clients, about 4.3 MiB when full.
func rateLimit(cfg config.Web) *clientlimit.Table {
	if cfg.RateLimit == 0 {
		return nil
	}
	return clientlimit.New(cfg.RateLimit, cfg.Burst(), clientlimit.DefaultSize)
}

// buildApp is the app tier over its store, believing the web tier in front
// of it from app.trusted_proxies.
func buildApp(ctx context.Context, opts Options, r *Role) (err error) {
	if r.Trusted, err = forwarded.ParseTrusted(opts.Config.App.TrustedProxies); err != nil {
		return err
	}
	appTier, err := openApp(ctx, opts, r, app.Options{TrustedProxies: r.Trusted})
	if err != nil {
		return err
	}
	r.Handler = appTier
	return nil
}

// buildAll is both tiers in one process: the web tier calls the app tier
// in-process, with no TCP hop.
func buildAll(ctx context.Context, opts Options, r *Role) (err error) {
	cfg := opts.Config
	if r.Trusted, err = forwarded.ParseTrusted(cfg.Web.TrustedProxies); err != nil {
		return err
	}
	appTier, err := openApp(ctx, opts, r, app.Options{InProcessWeb: true})
	if err != nil {
		return err
	}
	if len(cfg.Web.Upstreams) > 0 {
		opts.Log.Warn("role all serves the app tier in-process; web.upstreams is ignored")
	}
	webTier, err := web.New(web.Options{
		Instance: cfg.Instance, Version: opts.shownVersion(), Static: r.static, Log: opts.Log,
		App: appTier, Ready: appTier.Ready, Draining: r.draining.Load,
		Trusted: r.Trusted, RateLimit: rateLimit(cfg.Web), Observer: r.Metrics, Cache: cacheOptions(cfg.Web),
	})
	r.Handler = r.withCacheMetrics(webTier)
	return err
}

// buildWeb is the static site and a health-checked proxy to the app tier's
// upstreams, whose checks run as one of the role's jobs.
func buildWeb(ctx context.Context, opts Options, r *Role) (err error) {
	cfg := opts.Config
	if r.Trusted, err = forwarded.ParseTrusted(cfg.Web.TrustedProxies); err != nil {
		return err
	}
	pool, err := web.NewPool(cfg.Web.Upstreams, min(cfg.Web.HealthInterval, time.Second), opts.Log)
	if err != nil {
		return err
	}
	r.Jobs = append(r.Jobs, func(ctx context.Context) { pool.Run(ctx, cfg.Web.HealthInterval) })
	r.Metrics.Register(metrics.NewUpstreamCollector(func() []metrics.Upstream {
		var list []metrics.Upstream
		for _, u := range pool.Upstreams() {
			list = append(list, u)
		}
		return list
	}))
	webTier, err := web.New(web.Options{
		Instance: cfg.Instance, Version: opts.shownVersion(), Static: r.static, Log: opts.Log,
		Upstreams: pool, Trusted: r.Trusted, TryTimeout: cfg.Web.TryTimeout, Observer: r.Metrics, Draining: r.draining.Load,
		Admission: r.limiter("web", cfg.Web.MaxConcurrency), RateLimit: rateLimit(cfg.Web), Cache: cacheOptions(cfg.Web),
	})
	r.Handler = r.withCacheMetrics(webTier)
	return err
}

// cacheOptions are the web tier's cache keys, nil while web.cache is off.
// Validate has parsed web.cache_size already.
func cacheOptions(cfg config.Web) *web.CacheOptions {
	if !cfg.CacheOn() {
		return nil
	}
	size, _ := config.ParseSize(cfg.CacheSize)
	return &web.CacheOptions{Size: size, StaleWhileRevalidate: cfg.CacheStaleWhileRevalidate, StaleIfError: cfg.CacheStaleIfError}
}

// withCacheMetrics publishes the web tier's cache, when it has one, and
// gives back the tier as the role's handler.
func (r *Role) withCacheMetrics(w *web.Server) http.Handler {
	if w == nil {
		return nil
	}
	if _, on := w.CacheStats(); on {
		r.Metrics.Register(metrics.NewCacheCollector(func() metrics.CacheCounts {
			s, _ := w.CacheStats()
			return metrics.CacheCounts(s)
		}))
	}
	return w
}

// openApp opens the store and builds the app tier over it with what roles
// app and all share; extra says how the web tier in front is known.
func openApp(ctx context.Context, opts Options, r *Role, extra app.Options) (*app.Server, error) {
	cfg := opts.Config
	// One clock for the app tier and its store, so that both agree on what
	// day it is.
	now := time.Now
	db, err := openStore(ctx, cfg.Database, opts.Migrate, store.Options{Log: opts.Log, Now: now})
	if err != nil {
		return nil, err
	}
	r.db = db
	if extra.Secret, err = appSecret(ctx, cfg.App, db); err != nil {
		return nil, err
	}
	r.Jobs = append(r.Jobs, db.Run) // heartbeat, replica health, failover
	r.Metrics.Register(metrics.NewStoreCollector(db))
	extra.Instance, extra.AdminToken, extra.Version = cfg.Instance, cfg.App.AdminToken, opts.shownVersion()
	extra.WriteLimit, extra.WriteWindow = cfg.App.WriteLimit, cfg.App.WriteWindow
	extra.MaxLinks = cfg.App.MaxLinks
	extra.PreModeration = cfg.App.Moderation == config.ModerationPre
	extra.Static, extra.Log, extra.Now = r.static, opts.Log, now
	extra.ReadYourWrites, extra.Observer, extra.Draining = cfg.Database.ReadYourWrites, r.Metrics, r.draining.Load
	extra.Admission = r.limiter("app", cfg.App.MaxConcurrency)
	extra.FormMinAge, extra.FormMaxAge = cfg.App.FormMinAge, cfg.App.FormMaxAge
	extra.CacheTTL = cfg.App.CacheTTL
	return app.New(db, extra), nil
}

// appSecret is the secret the app tier derives its keys from: app.secret
// when it is set, else the random one migrate made in the database, which
// every instance reads alike.
func appSecret(ctx context.Context, cfg config.App, db *store.DB) ([]byte, error) {
	if cfg.Secret != "" {
		return []byte(cfg.Secret), nil
	}
	return db.Secret(ctx)
}

// openStore migrates when asked (or on SQLite, so that the embedded default
// needs no step of its own), opens the store, and refuses a schema that is
// behind this binary.
func openStore(ctx context.Context, cfg config.Database, migrate bool, opts store.Options) (*store.DB, error) {
	if migrate || cfg.Dialect().MigratesItself {
		mg, err := store.OpenMigrator(ctx, cfg, opts.Log)
		if err != nil {
			return nil, err
		}
		err = mg.Up(ctx)
		mg.Close()
		if err != nil {
			return nil, err
		}
	}
	db, err := store.Open(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}
	if err := db.CheckSchema(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
