package web

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"time"
)

// Proxy forwards requests to the app tier's upstreams in turn (round-robin:
// app instances are alike and requests are short, so turns spread the load
// evenly without any bookkeeping).
type Proxy struct {
	upstreams []*url.URL
	next      atomic.Uint64
	rp        *httputil.ReverseProxy
}

// NewProxy builds a proxy over the upstreams' base URLs.
func NewProxy(upstreams []string, log *slog.Logger) (*Proxy, error) {
	if len(upstreams) == 0 {
		return nil, fmt.Errorf("web.upstreams: role web needs at least one app tier URL")
	}
	p := &Proxy{}
	for _, raw := range upstreams {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("web.upstreams: %q: %w", raw, err)
		}
		p.upstreams = append(p.upstreams, u)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 256
	transport.ResponseHeaderTimeout = 30 * time.Second
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			target := p.upstreams[p.next.Add(1)%uint64(len(p.upstreams))]
			pr.SetURL(target)
			pr.SetXForwarded()
			// The app tier checks Origin against Host to refuse cross-site
			// posts, so it must see the Host the browser used.
			pr.Out.Host = pr.In.Host
		},
		Transport: transport,
		ErrorLog:  slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			log.Warn("upstream failed", "path", r.URL.Path, "err", err)
			http.Error(w, "the application tier is unavailable", http.StatusBadGateway)
		},
	}
	return p, nil
}

// ServeHTTP forwards r to the next upstream.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.rp.ServeHTTP(w, r)
}
