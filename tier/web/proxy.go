package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"time"

	"github.com/guestbook/guestbook/tier/forwarded"
	"github.com/guestbook/guestbook/tier/hops"
	"github.com/guestbook/guestbook/tier/page"
)

// Proxy timeouts and pool size. Upstreams are app instances on the same
// network, so a dial that takes a second has failed; the idle pool holds
// enough connections for a few hundred concurrent requests without
// redialing. How long an answer may take to begin is web.try_timeout, per
// attempt (balancer.go).
const (
	DialTimeout         = time.Second
	IdleConnTimeout     = 90 * time.Second
	MaxIdleConnsPerHost = 256
)

// proxy forwards requests to the pool's upstreams. It retries a request that
// could not be delivered on another upstream, but never one that an upstream
// may have begun to act on, so no write is applied twice. Every error it
// meets goes to fail, the web tier's one error adapter.
type proxy struct {
	pool    *Pool
	trusted forwarded.Trusted
	rp      *httputil.ReverseProxy
	fail    func(w http.ResponseWriter, r *http.Request, err error)
	// webHop is this instance's Guestbook-Web value, sent to the app tier.
	webHop []string
	// load is this instance's concurrency limit and in-flight count, for
	// the topology page; false when it has no limit.
	load func() (hops.Load, bool)
}

// newProxy builds a proxy over pool. trusted are the networks whose
// forwarded headers are believed.
func newProxy(pool *Pool, trusted forwarded.Trusted, webHop []string, load func() (hops.Load, bool),
	tryTimeout time.Duration, obs Observer, fail func(http.ResponseWriter, *http.Request, error), log *slog.Logger) *proxy {
	transport := &http.Transport{
		Proxy:                 nil, // never an HTTP_PROXY between the tiers
		DialContext:           (&net.Dialer{Timeout: DialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          4 * MaxIdleConnsPerHost,
		MaxIdleConnsPerHost:   MaxIdleConnsPerHost,
		IdleConnTimeout:       IdleConnTimeout,
		ExpectContinueTimeout: time.Second,
		// Pass the client's Accept-Encoding through untouched rather than
		// asking for gzip and decompressing here.
		DisableCompression: true,
	}
	p := &proxy{pool: pool, trusted: trusted, fail: fail, webHop: webHop, load: load}
	p.rp = &httputil.ReverseProxy{
		Rewrite:   p.rewrite,
		Transport: &balancer{pool: pool, next: transport, obs: obs, tryTimeout: tryTimeout},
		ErrorLog:  slog.NewLogLogger(log.Handler(), slog.LevelWarn),
		// The client gets this tier's X-Request-Id (forwarded.Middleware set
		// it); the app tier's copy would be a second one, or another id.
		// Likewise Guestbook-Web: the web tier answers with its own.
		ModifyResponse: func(resp *http.Response) error {
			resp.Header.Del(forwarded.HeaderRequestID)
			delete(resp.Header, hops.HeaderWeb)
			return bufferSmallBody(resp)
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			if r.Context().Err() != nil {
				err = fmt.Errorf("%w: %w", errClientGone, err)
			} else if !errors.Is(err, errNoUpstream) {
				err = fmt.Errorf("%w: %w", errUpstream, err)
			}
			p.fail(w, r, err)
		},
	}
	return p
}

// ServeHTTP forwards r. The body is read whole first (it is at most
// page.MaxBodyBytes), so a retry sends it again from the start.
func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := p.pool.Ready(r.Context()); err != nil {
		p.fail(w, r, err) // no healthy upstream: answer now, not after dial timeouts
		return
	}
	if r.ContentLength > page.MaxBodyBytes {
		p.fail(w, r, fmt.Errorf("body of %d bytes: %w", r.ContentLength, errTooLarge))
		return
	}
	if r.Body != nil && r.Body != http.NoBody {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, page.MaxBodyBytes))
		if err != nil {
			var mbe *http.MaxBytesError
			if !errors.As(err, &mbe) {
				err = fmt.Errorf("read the request body: %w: %w", errBadRequest, err)
			}
			p.fail(w, r, err)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
		r.ContentLength = int64(len(body))
		if keyed(r, body) {
			r = r.WithContext(context.WithValue(r.Context(), keyedWrite{}, true))
		}
	}
	p.rp.ServeHTTP(w, r)
}

// rewrite sets the headers the app tier reads, as Nginx's proxy_set_header
// lines in the original did. ReverseProxy has already removed hop-by-hop
// headers and the client's X-Forwarded-* from pr.Out.
func (p *proxy) rewrite(pr *httputil.ProxyRequest) {
	in, h := pr.In, pr.Out.Header
	// The app tier checks a browser's Origin against Host: it must see the
	// Host the browser used, not the upstream's address.
	pr.Out.Host = in.Host
	h.Set(forwarded.HeaderFor, p.trusted.ForwardedFor(in))
	h.Set(forwarded.HeaderRealIP, p.trusted.ClientIP(in).String())
	h.Set(forwarded.HeaderProto, p.trusted.Proto(in))
	h.Set(forwarded.HeaderHost, p.trusted.Host(in))
	h.Set(forwarded.HeaderRequestID, forwarded.IDFrom(in.Context()))
	// The path of the request starts here: whatever a client (or a load
	// balancer passing a client's words on) says about it is dropped, and
	// the app tier hears only this instance's Guestbook-Web.
	delete(h, hops.HeaderApp)
	delete(h, hops.HeaderDB)
	delete(h, hops.HeaderUpstreams)
	delete(h, hops.HeaderWebLoad)
	h[hops.HeaderWeb] = p.webHop
	if wantsUpstreams(in.URL.Path) {
		h[hops.HeaderUpstreams] = []string{hops.UpstreamsHeader(p.pool.Describe())}
		if l, ok := p.load(); ok {
			h[hops.HeaderWebLoad] = []string{l.Header()}
		}
	}
	// The balancer sets scheme and host per attempt; keep the path as is.
	pr.Out.URL.Scheme, pr.Out.URL.Host = "http", "upstream"
}

// maxBufferedBody is the largest answer read whole before it is passed on.
const maxBufferedBody = 64 << 10 // the size of a long list page, not a request limit

// bufferSmallBody reads an answer of known, small length whole, so that it
// goes to the client in one write instead of one per segment the upstream's
// own writes happened to arrive in: a 15 KB page otherwise costs the proxy
// four or five write system calls, and a system call on this path costs more
// than the rest of the proxy's own work. Answers of unknown length (streamed
// ones) and large ones are copied as they come, and flushed as they come.
func bufferSmallBody(resp *http.Response) error {
	if resp.ContentLength <= 0 || resp.ContentLength > maxBufferedBody ||
		resp.Body == http.NoBody || resp.Request.Method == http.MethodHead {
		return nil // nothing to read: a HEAD's Content-Length is the GET's
	}
	body := make([]byte, resp.ContentLength)
	_, err := io.ReadFull(resp.Body, body)
	resp.Body.Close()
	if err != nil {
		// The upstream broke off mid-answer: the client gets a clean 502
		// rather than a page that stops short.
		return fmt.Errorf("read the upstream's answer: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return nil
}
