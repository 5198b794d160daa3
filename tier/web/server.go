// Package web is the presentation tier: the embedded static site (the home
// page and /static/) and, under /visitor/, the application tier, reached
// in-process (role all) or through a reverse proxy (role web).
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/guestbook/guestbook/assets"
	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/internal/clientlimit"
	"github.com/guestbook/guestbook/tier/forwarded"
	"github.com/guestbook/guestbook/tier/hops"
	"github.com/guestbook/guestbook/tier/page"
)

// Options are what New needs. Exactly one of App and Upstreams says where
// /visitor/ goes.
type Options struct {
	Instance config.Instance
	Version  string
	Static   *assets.Static // assets.NewStatic() when nil
	Log      *slog.Logger   // slog.Default() when nil
	// App is the app tier in the same process (role all): /visitor/ is
	// handed to it with no TCP hop.
	App http.Handler
	// Ready answers /readyz in role all: nil when the app tier can serve.
	// Nil means always ready. In role web the pool's health answers it.
	Ready func(context.Context) error
	// Upstreams are the app tier's instances (role web): /visitor/ is
	// proxied to them.
	Upstreams *Pool
	// Trusted are the networks whose forwarded headers the proxy and the
	// rate limit believe (web.trusted_proxies).
	Trusted forwarded.Trusted
	// TryTimeout is how long one attempt at an upstream may take to begin
	// its answer (web.try_timeout); 1s when zero.
	TryTimeout time.Duration
	// Observer hears what the proxy does, for metrics; none when nil.
	Observer Observer
	// Admission bounds the /visitor/ requests worked on at once; none when
	// nil (role all, where the app tier's own limit does it).
	Admission page.Admission
	// RateLimit bounds each client's /visitor/ requests a second
	// (web.rate_limit, web.rate_burst); none when nil (the default).
	RateLimit *clientlimit.Table
	// Draining reports that the process is shutting down: /readyz answers
	// 503 while requests are still served. Never when nil.
	Draining func() bool
	// Cache configures the micro-cache of /visitor/ pages (web.cache and
	// its keys); nil: off.
	Cache *CacheOptions
}

// Observer hears what the web tier does, for metrics.
type Observer interface {
	UpstreamResult(upstream string, ok bool) // one attempt at an upstream
	Retried()                                // a request sent again to another upstream
	Unavailable()                            // a 502 for want of an upstream
	Shed(tier string)                        // a request refused over the concurrency limit
	RateLimited(tier string)                 // a request refused over its client's rate limit
}

type noObserver struct{}

func (noObserver) UpstreamResult(string, bool) {}
func (noObserver) Retried()                    {}
func (noObserver) Unavailable()                {}
func (noObserver) Shed(string)                 {}
func (noObserver) RateLimited(string)          {}

// Server is the web tier's http.Handler.
type Server struct {
	opts       Options
	app        http.Handler              // opts.App, or the proxy to opts.Upstreams
	home       map[string]*assets.Blob   // the home page, rendered once per language
	errorPages map[string]map[int][]byte // fail's pages, rendered once per language and status
	errorJSON  map[int][]byte            // fail's JSON under /visitor/api/, made once per status
	mux        *http.ServeMux
	webHop     []string    // this instance's Guestbook-Web value, made once
	cache      *microCache // nil: web.cache off
	offStatus  []string    // the Cache-Status of every answer while it is off
	madeHere   madeHere    // the Cache-Status of the refusals it makes itself
}

// New renders the web tier's pages once per language, builds the proxy
// when it has upstreams, and the routes.
func New(opts Options) (*Server, error) {
	if (opts.App == nil) == (opts.Upstreams == nil) {
		return nil, errors.New("web: exactly one of an in-process app tier and upstreams must be given")
	}
	if opts.Static == nil {
		opts.Static = assets.NewStatic()
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Observer == nil {
		opts.Observer = noObserver{}
	}
	if opts.Draining == nil {
		opts.Draining = func() bool { return false }
	}
	hop := hops.Of(opts.Instance)
	s := &Server{opts: opts, home: map[string]*assets.Blob{}, errorPages: map[string]map[int][]byte{}, errorJSON: map[int][]byte{},
		mux: http.NewServeMux(), webHop: []string{hop.Header()}[:1:1]}
	if err := s.renderPages(hop); err != nil {
		return nil, err
	}
	s.app = opts.App
	if opts.Upstreams != nil {
		if opts.TryTimeout <= 0 {
			opts.TryTimeout = time.Second
		}
		s.app = newProxy(opts.Upstreams, opts.Trusted, s.webHop, s.load, opts.TryTimeout, opts.Observer, s.fail, opts.Log)
		s.opts.Ready = opts.Upstreams.Ready
	}
	s.offStatus = []string{cacheStatusName(hop.ID) + "; fwd=bypass; detail=off"}[:1:1]
	s.madeHere = newMadeHere(cacheStatusName(hop.ID))
	if opts.Cache != nil {
		// A miss waits for another's fill as long as the fill may take to
		// begin its answer on two upstreams, then goes upstream itself.
		s.cache = newMicroCache(*opts.Cache, http.HandlerFunc(s.serveAdmitted), hop.ID,
			2*max(opts.TryTimeout, time.Second), s.fail)
	}
	if p, ok := s.app.(*proxy); ok && s.cache != nil {
		p.cacheView = s.cache.view
		// With every upstream down this instance still serves the pages it
		// keeps, stale: it stays ready, or the load balancer in front
		// would take it out and nothing would be served at all.
		s.opts.Ready = func(ctx context.Context) error {
			err := opts.Upstreams.Ready(ctx)
			if err != nil && s.cache.servesStale() {
				return nil
			}
			return err
		}
	}
	s.routes()
	return s, nil
}

// renderPages makes the web tier's own pages, the same bytes for every
// request of a language: the home page and the error pages. Their path is
// this instance alone, since they go no further. The home page fetches
// nothing more with a script: what it would show is the path of another
// request, which the guestbook pages and the topology page show as their
// own.
func (s *Server) renderPages(hop hops.Instance) error {
	tmpl := page.Parse(s.opts.Static, nil, "web/index.html", "web/error.html")
	path := hops.Path{Web: hop}
	home := &url.URL{Path: "/"}
	for _, lang := range []string{page.Ko, page.En} {
		v := page.NewView(lang, home, s.opts.Instance, s.opts.Version, page.T(lang, "web.title"), "home", nil)
		v.Path = path
		body, err := page.Execute(tmpl["web/index.html"], v)
		if err != nil {
			return fmt.Errorf("render home page: %w", err)
		}
		s.home[lang] = assets.NewBlob(body, "text/html; charset=utf-8")
		s.errorPages[lang] = map[int][]byte{}
		for _, status := range failStatuses {
			s.errorJSON[status] = errorJSON(status)
			data := errorPage{Status: status, Heading: failTitle(lang, status), Message: failMessage(lang, status)}
			v := page.NewView(lang, home, s.opts.Instance, s.opts.Version, data.Heading, "", data)
			v.Path = path
			if s.errorPages[lang][status], err = page.Execute(tmpl["web/error.html"], v); err != nil {
				return fmt.Errorf("render %d page: %w", status, err)
			}
		}
	}
	return nil
}

// ServeHTTP serves the web tier. Its own pages get the security headers; the
// app tier's (under /visitor/) come with their own, and static files carry
// nosniff alone (a policy for a stylesheet or an image protects nothing, and
// every header costs on the hottest path). A path that is not clean is
// refused before the mux would redirect it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := uncleanPath(r); err != nil {
		s.fail(w, r, err)
		return
	}
	if p := r.URL.Path; !strings.HasPrefix(p, "/visitor/") && !strings.HasPrefix(p, "/static/") && p != "/favicon.ico" {
		page.SetSecurityHeaders(w.Header())
	}
	page.Dispatch(s.mux, w, r, func(code int) {
		err := errNotFound
		if code == http.StatusMethodNotAllowed {
			err = errMethod
		}
		s.fail(w, r, fmt.Errorf("%s %s: %w", r.Method, r.URL.Path, err))
	})
}

var (
	varyLanguage = []string{"Accept-Language, Cookie"}[:1:1]
	cachePrivate = assets.NewCacheControl("private, no-cache")
)

// handleHome serves the prepared home page in the reader's language. It is
// the same bytes for every reader of a language, so its ETag makes a reload
// a 304.
func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) {
	page.RememberLang(w, r)
	w.Header()["Vary"] = varyLanguage
	w.Header()[hops.HeaderWeb] = s.webHop
	s.home[page.Lang(r)].Serve(w, r, cachePrivate)
}

// load is this instance's concurrency limit and requests in flight, when
// it has a limit.
func (s *Server) load() (hops.Load, bool) {
	a := s.opts.Admission
	if a == nil {
		return hops.Load{}, false
	}
	return hops.Load{Limit: a.Limit(), InFlight: a.InFlight()}, true
}

// handleStatic serves an embedded file, or the web tier's 404.
func (s *Server) handleStatic(w http.ResponseWriter, r *http.Request) {
	if !s.opts.Static.Serve(w, r) {
		s.fail(w, r, fmt.Errorf("static file %s: %w", r.URL.Path, errNotFound))
	}
}

// handleApp passes a /visitor/ request to the app tier, in-process or
// through the proxy, and answers it with this instance's Guestbook-Web; the
// app tier adds Guestbook-App and Guestbook-Db.
//
// Past its client's rate limit, or the web tier's concurrency limit, the
// request is refused at once with prepared bytes, before its body is read:
// a refusal must cost far less than the request it turns away. The rate
// comes first, so that a client over its rate takes no slot from others.
// The cache comes between them: a page served from it takes no slot, and
// a fill takes one as any request upstream does.
func (s *Server) handleApp(w http.ResponseWriter, r *http.Request) {
	w.Header()[hops.HeaderWeb] = s.webHop
	if err := s.checkRate(r); err != nil {
		s.fail(w, r, err)
		return
	}
	if s.cache != nil {
		s.cache.ServeHTTP(w, r)
		return
	}
	w.Header()["Age"], w.Header()["Cache-Status"] = ageZero, s.offStatus
	s.serveAdmitted(w, r)
}

// serveAdmitted sends r to the app tier within the concurrency limit.
func (s *Server) serveAdmitted(w http.ResponseWriter, r *http.Request) {
	if a := s.opts.Admission; a != nil {
		if !a.Admit() {
			s.fail(w, r, errShed)
			return
		}
		start := time.Now()
		defer func() { a.Done(time.Since(start)) }()
	}
	s.app.ServeHTTP(w, r)
}

func (s *Server) handleHealthz(w http.ResponseWriter, r *http.Request) {
	page.WriteHealth(w, nil, "")
}

// handleReadyz answers 200 while the web tier can serve /visitor/ (role web:
// an upstream is healthy; role all: the app tier is ready), and 503 while
// it can't or while the process drains.
func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	if s.opts.Draining() {
		page.WriteHealth(w, errDraining, "draining")
		return
	}
	var err error
	if s.opts.Ready != nil {
		err = s.opts.Ready(r.Context())
	}
	if err != nil {
		s.opts.Log.Debug("not ready", "err", err)
	}
	page.WriteHealth(w, err, "not ready")
}

var errDraining = errors.New("draining")
