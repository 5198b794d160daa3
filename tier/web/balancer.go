package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/guestbook/guestbook/tier/hops"
	"github.com/guestbook/guestbook/tier/reqlog"
)

// balancer is the proxy's transport: it sends each attempt to the upstream
// the pool chooses, gives the attempt tryTimeout for its answer to begin,
// and decides whether a failed attempt may go to another upstream.
type balancer struct {
	pool       *Pool
	next       http.RoundTripper
	obs        Observer
	tryTimeout time.Duration
}

// errTryTimeout: an upstream did not begin to answer within web.try_timeout.
var errTryTimeout = errors.New("the upstream did not answer in time")

func (b *balancer) RoundTrip(req *http.Request) (*http.Response, error) {
	var (
		tried   []*Upstream
		lastErr error          = errNoUpstream
		shed    *http.Response // the last upstream's refusal, should all refuse
		// acted: an earlier attempt may have been acted on (it was too
		// late, or its connection broke after the request went): a later
		// refusal must not tell the client that nothing was done.
		acted bool
	)
	for req.Context().Err() == nil {
		u := b.pool.pick(tried)
		if u == nil {
			break
		}
		if len(tried) > 0 {
			b.obs.Retried()
		}
		tried = append(tried, u)
		resp, err := b.try(req, u, len(tried) > 1)
		if err == nil && resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get(hops.HeaderShed) != "" {
			// The upstream was over its concurrency limit and did nothing
			// of the request: another may take it, whatever its method.
			// Its health is not in doubt, so it stays in the rotation.
			if shed != nil {
				shed.Body.Close()
			}
			shed = resp
			continue
		}
		if shed != nil {
			shed.Body.Close()
			shed = nil
		}
		if err == nil {
			return resp, nil
		}
		lastErr = fmt.Errorf("upstream %s: %w", u.URL.Host, err)
		acted = acted || !dialFailed(err)
		if !mayResend(req, err) {
			return nil, lastErr
		}
	}
	if shed != nil {
		if !acted {
			return shed, nil // every upstream is shedding: the client hears so, with Retry-After
		}
		shed.Body.Close() // the first attempt's fate is unknown: say that, not "nothing was done"
	}
	return nil, lastErr
}

// try sends req to u and waits at most tryTimeout (or what is left of the
// request's own deadline) for the answer to begin; the app tier is told
// that budget in Guestbook-Timeout-Ms. An upstream that is too late counts
// a failure, its estimate takes the whole budget, and it leaves the
// rotation until an active check passes: a frozen process still accepts
// connections, so only a deadline finds it. Once the answer has begun, the
// deadline no longer applies: a streamed page may take its time.
func (b *balancer) try(req *http.Request, u *Upstream, retry bool) (*http.Response, error) {
	budget := b.tryTimeout
	if d, ok := req.Context().Deadline(); ok {
		budget = min(budget, time.Until(d))
	}
	ctx, cancel := context.WithCancel(req.Context())
	var late atomic.Bool
	timer := time.AfterFunc(budget, func() { late.Store(true); cancel() })
	out, err := attempt(req.WithContext(ctx), u, retry)
	if err != nil {
		timer.Stop()
		cancel()
		return nil, err
	}
	out.Header[hops.HeaderTimeout] = []string{strconv.FormatInt(budget.Milliseconds(), 10)}
	reqlog.SetUpstream(req.Context(), u.Name())

	start := b.pool.now()
	u.est.Start()
	resp, err := b.next.RoundTrip(out)
	if !timer.Stop() && err == nil {
		// The deadline passed as the answer arrived: its body is cut off.
		resp.Body.Close()
		err = context.Canceled
	}
	now := b.pool.now()
	took := now.Sub(start)
	if late.Load() {
		err = fmt.Errorf("%w within %s: %w", errTryTimeout, budget, err)
	}
	switch {
	case err != nil && !late.Load() && req.Context().Err() != nil:
		// The client went away (or its own time ran out): no verdict on
		// the upstream, no sample, no failure.
		u.est.Abandon()
		cancel()
		return nil, err
	case err != nil:
		// A failure costs as much as the longest wait: an upstream that
		// drops connections must not look fast for failing fast.
		u.est.Done(now, max(took, budget))
	case resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get(hops.HeaderShed) != "":
		// A refusal is fast because nothing was done: it must not make a
		// shedding upstream look cheaper than it is.
		u.est.Done(now, max(took, u.est.Latency(now)))
	default:
		u.est.Done(now, took)
	}
	b.obs.UpstreamResult(u.Name(), err == nil)
	u.counts.add(err != nil)
	if err != nil {
		cancel()
		if errors.Is(err, errTryTimeout) || unreachable(err) {
			b.pool.markDown(u, err)
		}
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelOnClose ends an attempt's context when its answer has been read.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// attempt is req addressed to u. A retry gets a fresh copy of the body: the
// failed attempt may have read or closed the first.
func attempt(req *http.Request, u *Upstream, retry bool) (*http.Request, error) {
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host = u.URL.Scheme, u.URL.Host
	out.URL.Path = u.URL.Path + req.URL.Path
	if req.URL.RawPath != "" {
		out.URL.RawPath = u.URL.Path + req.URL.RawPath
	}
	if retry && req.GetBody != nil {
		body, err := req.GetBody()
		if err != nil {
			return nil, err
		}
		out.Body = body
	}
	return out, nil
}

// mayResend says whether a failed attempt may go to another upstream. A
// failed dial sent nothing, so any request may go again. A request that is
// safe to repeat (resendable) may also go again when its upstream was too
// late or the connection broke before any answer. Anything else (a write
// without a key on a connection that broke after it was written, or whose
// upstream was too late) may have been acted on: never sent again, so no
// write is applied twice.
func mayResend(req *http.Request, err error) bool {
	if req.Context().Err() != nil {
		return false // the client is gone, or the request's own time is up
	}
	if dialFailed(err) {
		return true
	}
	return resendable(req) && (errors.Is(err, errTryTimeout) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.EPIPE))
}

// resendable reports a request that the app tier applies at most once
// however often it is sent: a read (GET, HEAD), a DELETE (a second one
// finds the entry gone), and a keyed write, whose idempotency key the app
// tier stores with the entry under a unique index.
func resendable(req *http.Request) bool {
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodDelete:
		return true
	}
	keyed, _ := req.Context().Value(keyedWrite{}).(bool)
	return keyed
}

// keyedWrite marks a request's context as a keyed write (see keyed).
type keyedWrite struct{}

// The names under which a write carries its idempotency key, and the only
// routes that honour them: the JSON API's create takes the header (the IETF
// httpapi draft's name), the create form the field. Anywhere else a key
// proves nothing: the app tier would store each copy.
const (
	headerIdempotencyKey = "Idempotency-Key"
	fieldIdempotencyKey  = "idempotency_key"
	apiCreatePath        = "/visitor/api/entries"
	formCreatePath       = "/visitor/visitor_create/"
)

// keyed reports a write that carries an idempotency key where the app tier
// honours it: an Idempotency-Key header on the API's create, or an
// idempotency_key field in the create form's body. Whether the key is well
// formed is the app tier's to judge: one it refuses stores nothing, however
// often it is sent.
func keyed(r *http.Request, body []byte) bool {
	if r.Method != http.MethodPost {
		return false
	}
	switch r.URL.Path {
	case apiCreatePath:
		return r.Header.Get(headerIdempotencyKey) != ""
	case formCreatePath:
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
			return false
		}
		form, err := url.ParseQuery(string(body))
		return err == nil && form.Get(fieldIdempotencyKey) != ""
	}
	return false
}

// unreachable reports errors that say the upstream can't be reached: a
// passive health failure. A reset is not one: an app instance closes idle
// keep-alive connections when its listener is full, and a request that
// meets one of those is resent (when it may be) without taking a healthy
// instance out; a process that died refuses the next dial.
func unreachable(err error) bool {
	return dialFailed(err) || errors.Is(err, syscall.ECONNREFUSED)
}

func dialFailed(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
