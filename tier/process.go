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
	"sync"
	"time"

	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/tier/reqlog"
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
	// Version is the build's version ("v1.2.3", "dev").
	Version string
	// Commit is the VCS revision the binary was built from, for
	// guestbook_build_info and the pages; "unknown" or empty when not known.
	Commit string
	// Log receives the access log and everything else; never nil.
	Log *slog.Logger
}

// shownVersion is the build as pages and logs show it.
func (o Options) shownVersion() string { return VersionString(o.Version, o.Commit) }

// VersionString is version with the commit it was built from, when known:
// "v1.2.3 (0123456789ab)".
func VersionString(version, commit string) string {
	if commit == "" || commit == "unknown" {
		return version
	}
	return version + " (" + commit + ")"
}

// Process is one running guestbook: its role, its listener and its HTTP
// server.
type Process struct {
	log      *slog.Logger
	role     *Role
	listener net.Listener
	server   *http.Server
	// The /metrics listener and server, when metrics.listen is set.
	metricsListener net.Listener
	metricsServer   *http.Server
	// drain is instance.drain.
	drain time.Duration
}

// Open builds the role, binds its listener and wraps its handler with what
// every request gets, so a test can start it on port 0 and read Addr. On
// error nothing is left open.
func Open(ctx context.Context, opts Options) (_ *Process, err error) {
	cfg := opts.Config
	p := &Process{log: opts.Log, drain: cfg.Instance.Drain} // not the named result: "return nil, err" must not hide it from the cleanup
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	if p.role, err = Build(ctx, opts); err != nil {
		return nil, err
	}
	m := p.role.Metrics
	handler := p.role.Handler
	if cfg.Metrics.Listen == "" {
		handler = withMetricsAt("/metrics", m.Handler(), handler)
	} else {
		l, err := net.Listen("tcp", cfg.Metrics.Listen)
		if err != nil {
			return nil, fmt.Errorf("metrics.listen: %w", err)
		}
		limited := limitConns(l, MaxMetricsConnections, MaxMetricsConnections/4)
		p.metricsListener = limited
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", m.Handler())
		p.metricsServer = newServer(mux, limited, opts.Log)
	}
	// The process's edge is the web tier, except in role app.
	addr := cfg.Web.Listen
	if opts.Role == RoleApp {
		addr = cfg.App.Listen
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	limited := limitConns(l, MaxConnections, MaxOverflowConnections) // under TLS, so that net/http still sees a *tls.Conn
	p.listener = limited
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
	p.server = newServer(closeAfterChunked(p.role.Trusted.Middleware(observe(opts.Log, m, handler))), limited, opts.Log)
	return p, nil
}

// newServer is the server for l's connections: it tells l which are idle,
// and closes those let in past the limit after a request.
func newServer(h http.Handler, l *limitListener, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           closeOverflow(h),
		ConnState:         l.ConnState,
		ConnContext:       l.ConnContext,
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

// withMetricsAt serves metrics at path on the role's own listener.
func withMetricsAt(path string, metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == path && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			reqlog.SetRoute(r.Context(), "GET "+path)
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

// Addr is the address the listener is bound to.
func (p *Process) Addr() string { return p.listener.Addr().String() }

// Run serves until ctx ends, then stops taking connections and lets requests
// in flight finish (up to ShutdownTimeout), so no acknowledged write is lost.
func (p *Process) Run(ctx context.Context) error {
	p.log.Info("listening", "addr", p.Addr())
	jobsCtx, stopJobs := context.WithCancel(ctx)
	var jobs sync.WaitGroup
	for _, job := range p.role.Jobs {
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
		p.role.draining.Store(true)
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

// Close releases the listener (already closed if Run returned) and the
// role's store.
func (p *Process) Close() error {
	if p.listener != nil {
		p.listener.Close()
	}
	if p.metricsListener != nil {
		p.metricsListener.Close()
	}
	if p.role != nil {
		return p.role.Close()
	}
	return nil
}
