// Package tier assembles the tiers that one guestbook process serves (role
// web, app or all) with their store and listener, and runs them until told to
// stop.
package tier

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/guestbook/guestbook/assets"
	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/store"
	"github.com/guestbook/guestbook/tier/app"
	"github.com/guestbook/guestbook/tier/forwarded"
	"github.com/guestbook/guestbook/tier/metrics"
	"github.com/guestbook/guestbook/tier/web"
)

// Roles a process can take.
const (
	RoleWeb = "web"
	RoleApp = "app"
	RoleAll = "all"
)

// Server timeouts: a slow or idle client can't hold a connection forever,
// and a request in flight gets ShutdownTimeout to finish on SIGTERM.
const (
	ReadHeaderTimeout = 5 * time.Second
	ReadTimeout       = 30 * time.Second
	WriteTimeout      = 60 * time.Second
	IdleTimeout       = 120 * time.Second
	ShutdownTimeout   = 30 * time.Second
)

// Options say what a process serves.
type Options struct {
	// Config is the whole configuration, loaded and validated.
	Config config.Config
	// Role is RoleWeb, RoleApp or RoleAll.
	Role string
	// Migrate applies pending migrations before serving (always done on
	// SQLite, the embedded default).
	Migrate bool
	// Version is what the pages and logs show as the build.
	Version string
	// Commit is the VCS revision the binary was built from, for
	// guestbook_build_info; "unknown" when not known.
	Commit string
	// Log receives the access log and everything else; never nil.
	Log *slog.Logger
}

// Process is one running guestbook: its listener, its HTTP server and, for
// roles app and all, its store.
type Process struct {
	log      *slog.Logger
	db       *store.DB
	listener net.Listener
	server   *http.Server
	// The /metrics listener and server, when metrics.listen is set.
	metricsListener net.Listener
	metricsServer   *http.Server
	// jobs run beside the server for as long as it runs (health checks).
	jobs []func(context.Context)
	// drain is instance.drain; draining is set while it runs.
	drain    time.Duration
	draining atomic.Bool
}

// Open prepares everything a role needs and binds its listener, so a test can
// start it on port 0 and read Addr. On error nothing is left open.
func Open(ctx context.Context, opts Options) (_ *Process, err error) {
	cfg := opts.Config
	p := &Process{log: opts.Log} // not the named result: "return nil, err" must not hide it from the cleanup
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	static := assets.NewStatic()
	m := metrics.New(strings.SplitN(opts.Version, " ", 2)[0], opts.Commit)

	// The process's edge is the web tier, except in role app.
	addr, trustedKeys := cfg.Web.Listen, cfg.Web.TrustedProxies
	if opts.Role == RoleApp {
		addr, trustedKeys = cfg.App.Listen, cfg.App.TrustedProxies
	}
	trusted, err := forwarded.ParseTrusted(trustedKeys)
	if err != nil {
		return nil, err
	}

	var handler http.Handler
	switch opts.Role {
	case RoleApp, RoleAll:
		// One clock for the app tier and its store, so that both agree on
		// what day it is.
		now := time.Now
		if p.db, err = openStore(ctx, cfg.Database, opts.Migrate, store.Options{Log: opts.Log, Now: now}); err != nil {
			return nil, err
		}
		p.jobs = append(p.jobs, p.db.Run) // heartbeat, replica health, failover
		m.Register(metrics.NewStoreCollector(p.db))
		appOpts := app.Options{
			Instance: cfg.Instance, AdminToken: cfg.App.AdminToken,
			Version: opts.Version, Static: static, Log: opts.Log,
			ReadYourWrites: cfg.Database.ReadYourWrites, Observer: m, Now: now,
		}
		if opts.Role == RoleApp {
			appOpts.TrustedProxies = trusted // app.trusted_proxies: the web tier may say who it is
		} else {
			appOpts.InProcessWeb = true // role all: the web tier is this process
		}
		appTier := app.New(p.db, appOpts)
		handler = appTier
		if opts.Role == RoleApp {
			break
		}
		if len(cfg.Web.Upstreams) > 0 {
			opts.Log.Warn("role all serves the app tier in-process; web.upstreams is ignored")
		}
		// The web tier calls the app tier in-process: no TCP hop.
		if handler, err = web.New(web.Options{
			Instance: cfg.Instance, Version: opts.Version, Static: static, Log: opts.Log,
			App: appTier, Ready: appTier.Ready,
		}); err != nil {
			return nil, err
		}
	case RoleWeb:
		if handler, err = p.openWeb(cfg, opts, static, trusted, m); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("--role: %q is not web, app or all", opts.Role)
	}
	handler = m.Middleware(handler.(metrics.Router), handler)
	if cfg.Metrics.Listen == "" {
		handler = withMetricsAt("/metrics", m.Handler(), handler)
	} else {
		if p.metricsListener, err = net.Listen("tcp", cfg.Metrics.Listen); err != nil {
			return nil, fmt.Errorf("metrics.listen: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", m.Handler())
		p.metricsServer = newServer(mux, opts.Log)
	}
	if p.listener, err = net.Listen("tcp", addr); err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	if opts.Role != RoleApp && cfg.Web.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.Web.TLSCert, cfg.Web.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("web.tls_cert/web.tls_key: %w", err)
		}
		p.listener = tls.NewListener(p.listener, &tls.Config{
			Certificates: []tls.Certificate{cert},
			MinVersion:   tls.VersionTLS12,
			NextProtos:   []string{"http/1.1"},
		})
	}
	p.drain = cfg.Instance.Drain
	p.server = newServer(closeAfterChunked(trusted.Middleware(accessLog(opts.Log, p.drainAware(handler)))), opts.Log)
	return p, nil
}

func newServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		ReadTimeout:       ReadTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// closeAfterChunked closes the connection after answering a request whose
// body came chunked. net/http lets Transfer-Encoding override a
// Content-Length sent beside it (and drops the latter) but keeps the
// connection open, so bytes a front end counted as body would be read here
// as a next request: the shape of request smuggling. RFC 9112 (6.3) says to
// close after such a request; net/http no longer shows whether a
// Content-Length came too, so every chunked request closes its connection.
// Browsers don't send chunked bodies, so it costs them nothing.
func closeAfterChunked(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if slices.Contains(r.TransferEncoding, "chunked") {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// drainAware answers /readyz with 503 while the process drains, whatever the
// tier would say, and passes everything else on.
func (p *Process) drainAware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" && p.draining.Load() {
			w.Header().Set("Cache-Control", "no-store")
			http.Error(w, "draining", http.StatusServiceUnavailable)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// withMetricsAt serves metrics at path on the role's own listener.
func withMetricsAt(path string, metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == path && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			metrics.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// MetricsAddr is the address of the /metrics listener, or "" when /metrics
// is on the role's own listener.
func (p *Process) MetricsAddr() string {
	if p.metricsListener == nil {
		return ""
	}
	return p.metricsListener.Addr().String()
}

// openWeb builds the web role: the static site, and a health-checked proxy
// to the app tier's upstreams whose checks run as one of p's jobs.
func (p *Process) openWeb(cfg config.Config, opts Options, static *assets.Static, trusted forwarded.Trusted, m *metrics.Metrics) (http.Handler, error) {
	pool, err := web.NewPool(cfg.Web.Upstreams, min(cfg.Web.HealthInterval, time.Second), opts.Log)
	if err != nil {
		return nil, err
	}
	p.jobs = append(p.jobs, func(ctx context.Context) { pool.Run(ctx, cfg.Web.HealthInterval) })
	m.Register(metrics.NewUpstreamCollector(func() []metrics.Upstream {
		var list []metrics.Upstream
		for _, u := range pool.Upstreams() {
			list = append(list, u)
		}
		return list
	}))
	proxy := web.NewProxy(pool, trusted, opts.Log)
	proxy.Observe(m)
	return web.New(web.Options{
		Instance: cfg.Instance, Version: opts.Version, Static: static, Log: opts.Log,
		App: proxy, Ready: pool.Ready,
	})
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

// Addr is the address the listener is bound to.
func (p *Process) Addr() string { return p.listener.Addr().String() }

// Run serves until ctx ends, then stops taking connections and lets requests
// in flight finish (up to ShutdownTimeout), so no acknowledged write is lost.
func (p *Process) Run(ctx context.Context) error {
	p.log.Info("listening", "addr", p.Addr())
	jobsCtx, stopJobs := context.WithCancel(ctx)
	var jobs sync.WaitGroup
	for _, job := range p.jobs {
		jobs.Add(1)
		go func() { defer jobs.Done(); job(jobsCtx) }()
	}
	defer func() { stopJobs(); jobs.Wait() }()
	errc := make(chan error, 1)
	go func() { errc <- p.server.Serve(p.listener) }()
	if p.metricsServer != nil {
		p.log.Info("metrics listening", "addr", p.MetricsAddr())
		go p.metricsServer.Serve(p.metricsListener)
		defer p.metricsServer.Close()
	}
	if err := notifySystemd("READY=1"); err != nil {
		p.log.Warn("could not tell systemd we are ready", "err", err)
	}
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	notifySystemd("STOPPING=1")
	if p.drain > 0 {
		p.draining.Store(true)
		p.log.Info("draining: /readyz answers 503 while requests are still served", "for", p.drain)
		time.Sleep(p.drain)
	}
	p.log.Info("shutting down", "grace", ShutdownTimeout)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	if err := p.server.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	p.log.Info("stopped")
	return nil
}

// Close releases the listener (already closed if Run returned) and the store.
func (p *Process) Close() error {
	if p.listener != nil {
		p.listener.Close()
	}
	if p.metricsListener != nil {
		p.metricsListener.Close()
	}
	if p.db != nil {
		return p.db.Close()
	}
	return nil
}
