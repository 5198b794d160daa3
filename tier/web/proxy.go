package web

import (
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
//
// MaxConnsPerHost bounds the connections to one upstream, so that an
// upstream that stops answering can't make this tier open connections (and
// their goroutines and buffers) as fast as requests arrive. It is near the
// web role's default concurrency ceiling (512), so that spread over two
// upstreams no admitted request waits for a connection (a wait would count
// against the attempt's budget and make the upstream look slow), and over
// three times the app role's default ceiling, past which the app tier
// refuses at once anyway. Two web instances' full pools and their health
// checks fit under an app instance's tier.MaxConnections (1,024), so that
// the app never has to close their idle connections.
const (
	DialTimeout         = time.Second
	IdleConnTimeout     = 90 * time.Second
	MaxIdleConnsPerHost = 256
	MaxConnsPerHost     = 448
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
	// cacheView is this instance's cache, for the topology page; nil
	// while web.cache is off.
	cacheView func() hops.CacheView
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
		MaxConnsPerHost:       MaxConnsPerHost,
		IdleConnTimeout:       IdleConnTimeout,
		ExpectContinueTimeout: time.Second,
		// Pass the client's Accept-Encoding through untouched rather than
		// asking for gzip and decompressing here.
		DisableCompression: true,
	}
	p := &proxy{pool: pool, trusted: trusted, fail: fail, webHop: webHop, load: load}
	p.rp = &httputil.ReverseProxy{
		Rewrite:    p.rewrite,
		Transport:  &balancer{pool: pool, next: transport, obs: obs, tryTimeout: tryTimeout},
		BufferPool: copyBuffers{},
		ErrorLog:   slog.NewLogLogger(log.Handler(), slog.LevelWarn),
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
// page.MaxBodyBytes), into a pooled buffer, so a retry sends it again from
// the start; the buffer goes back when the request is done and the
// transport has closed every copy of the body it was given.
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
		body, err := readBody(w, r)
		if err != nil {
			p.fail(w, r, err)
			return
		}
		defer body.Release()
		if len(body.Bytes()) == 0 { // a chunked body of nothing
			r.Body, r.GetBody = http.NoBody, func() (io.ReadCloser, error) { return http.NoBody, nil }
			r.ContentLength = 0
			p.rp.ServeHTTP(w, r)
			return
		}
		if r.Body, err = body.NewReader(); err != nil {
			p.fail(w, r, err) // not reached: the body is still held
			return
		}
		r.GetBody = body.NewReader
		r.ContentLength = int64(len(body.Bytes()))
		if keyed(r, body.Bytes()) {
			r = r.WithContext(context.WithValue(r.Context(), keyedWrite{}, true))
		}
	}
	p.rp.ServeHTTP(w, r)
}

// readBody reads r's body whole into a pooled buffer: of its length when it
// says one, else of the largest allowed.
func readBody(w http.ResponseWriter, r *http.Request) (*pooledBody, error) {
	size := r.ContentLength
	if size < 0 {
		size = page.MaxBodyBytes
	}
	body := newPooledBody(int(size))
	src := http.MaxBytesReader(w, r.Body, page.MaxBodyBytes)
	n, err := io.ReadFull(src, body.Bytes())
	if r.ContentLength < 0 {
		switch err {
		case io.EOF, io.ErrUnexpectedEOF:
			err = nil // it ended before the limit
		case nil:
			// It reached the limit: MaxBytesReader refuses a byte more.
			var one [1]byte
			if _, err = io.ReadFull(src, one[:]); err == io.EOF {
				err = nil
			}
		}
	}
	if err != nil {
		body.Release()
		var mbe *http.MaxBytesError
		if !errors.As(err, &mbe) {
			err = fmt.Errorf("read the request body: %w: %w", errBadRequest, err)
		}
		return nil, err
	}
	body.Truncate(n)
	return body, nil
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
	delete(h, hops.HeaderWebCache)
	// Go's transport resends on its own a request that carries either of
	// these headers when a reused connection breaks after it was written
	// (http.Request's isReplayable). The app tier honours Idempotency-Key
	// only on the API's create: anywhere else neither may reach it, or an
	// unkeyed write could be stored twice.
	delete(h, "X-Idempotency-Key")
	if in.URL.Path != apiCreatePath {
		delete(h, headerIdempotencyKey)
	}
	h[hops.HeaderWeb] = p.webHop
	if wantsUpstreams(in.URL.Path) {
		h[hops.HeaderUpstreams] = []string{hops.UpstreamsHeader(p.pool.Describe())}
		if l, ok := p.load(); ok {
			h[hops.HeaderWebLoad] = []string{l.Header()}
		}
		if p.cacheView != nil {
			h[hops.HeaderWebCache] = []string{p.cacheView().Header()}
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
// The answer is held in a pooled buffer that goes back when the
// ReverseProxy closes the body, after writing it to the client.
func bufferSmallBody(resp *http.Response) error {
	if resp.ContentLength <= 0 || resp.ContentLength > maxBufferedBody ||
		resp.Body == http.NoBody || resp.Request.Method == http.MethodHead {
		return nil // nothing to read: a HEAD's Content-Length is the GET's
	}
	body := newPooledBody(int(resp.ContentLength))
	defer body.Release() // the reader made below holds it from here
	_, err := io.ReadFull(resp.Body, body.Bytes())
	resp.Body.Close()
	if err != nil {
		// The upstream broke off mid-answer: the client gets a clean 502
		// rather than a page that stops short.
		return fmt.Errorf("read the upstream's answer: %w", err)
	}
	resp.Body, err = body.NewReader()
	return err
}
