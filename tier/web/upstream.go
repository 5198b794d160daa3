package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/internal/balance"
	"github.com/guestbook/guestbook/tier/hops"
)

// Upstream is one app-tier instance behind the proxy.
type Upstream struct {
	URL     *url.URL
	name    string // URL redacted, made once: it labels every request
	healthy atomic.Bool
	// For the topology page: the instance its health checks say answers
	// (nil until one has), its place in web.upstreams, and its counts.
	instance atomic.Pointer[hops.Instance]
	balancer atomic.Bool // its checks have met more than one instance
	index    int
	counts   counts
	// est is its latency estimate and requests in flight, which the
	// choice of upstream weighs; picked is when it was last chosen (the
	// pool's sequence number), so that equal upstreams take turns.
	est    balance.Estimate
	picked atomic.Uint64
}

// Available reports whether the upstream is in the rotation: its last active
// check passed and no connection to it has failed since.
func (u *Upstream) Available() bool { return u.healthy.Load() }

// Name is the upstream's base URL with any password hidden, for logs and
// metrics.
func (u *Upstream) Name() string { return u.name }

// Latency is the upstream's latency estimate now, rounded to 10µs (the
// topology page's and the metrics' precision, and no more detail than an
// estimate has).
func (u *Upstream) Latency() time.Duration {
	return u.est.Latency(time.Now()).Round(10 * time.Microsecond)
}

// InFlight is the number of attempts at the upstream waiting for an answer
// to begin.
func (u *Upstream) InFlight() int64 { return u.est.InFlight() }

// Pool is the set of upstreams, with the choice of the next one and their
// health.
//
// The choice is the power of two random choices over each upstream's
// latency estimate and requests in flight (package balance): an upstream
// that turns slow but still answers gets little traffic while it stays in
// the rotation, and its share back when it recovers; equal upstreams share
// the load about evenly, so that refreshing a page still shows the
// balancing, as it did behind the original's load balancer.
type Pool struct {
	upstreams []*Upstream
	log       *slog.Logger
	check     *http.Client
	// now and rnd are the clock and the random source of the choice; a test
	// sets its own to step the choice without sleeping.
	now func() time.Time
	rnd func(n int) int
	seq atomic.Uint64 // choices made
}

// NewPool builds a pool over the upstreams' base URLs. Every upstream starts
// in the rotation; the first health round runs as soon as Run starts.
func NewPool(baseURLs []string, checkTimeout time.Duration, log *slog.Logger) (*Pool, error) {
	if len(baseURLs) == 0 {
		return nil, errors.New("web.upstreams: role web needs at least one app tier URL")
	}
	p := &Pool{log: log, now: time.Now, rnd: rand.IntN, check: &http.Client{
		Timeout: checkTimeout,
		// Checks must not follow a redirect to somewhere else and call it healthy.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	urls, err := config.ParseUpstreamURLs(baseURLs)
	if err != nil {
		return nil, err
	}
	for _, u := range urls {
		up := &Upstream{URL: u, name: u.Redacted(), index: len(p.upstreams)}
		up.healthy.Store(true)
		p.upstreams = append(p.upstreams, up)
	}
	return p, nil
}

// Upstreams lists the pool's upstreams in configuration order.
func (p *Pool) Upstreams() []*Upstream { return p.upstreams }

// pick chooses an available upstream not in tried, or nil when none is
// left.
func (p *Pool) pick(tried []*Upstream) *Upstream {
	now := p.now()
	i := balance.PickTwo(len(p.upstreams),
		func(i int) bool { return p.upstreams[i].Available() && !slices.Contains(tried, p.upstreams[i]) },
		func(i int) float64 { return p.upstreams[i].est.Cost(now) },
		func(i int) uint64 { return p.upstreams[i].picked.Load() },
		p.rnd)
	if i < 0 {
		return nil
	}
	u := p.upstreams[i]
	u.picked.Store(p.seq.Add(1))
	return u
}

// Ready returns nil while at least one upstream is in the rotation.
func (p *Pool) Ready(context.Context) error {
	for _, u := range p.upstreams {
		if u.Available() {
			return nil
		}
	}
	return errNoUpstream
}

var errNoUpstream = errors.New("no healthy app tier upstream")

// markDown takes u out of the rotation at once (a passive check: a
// connection to it failed); the next passing active check brings it back.
func (p *Pool) markDown(u *Upstream, reason error) {
	if u.healthy.CompareAndSwap(true, false) {
		p.log.Warn("upstream down", "upstream", u.name, "err", reason)
	}
}

// markUp brings u back into the rotation after an active check passed,
// with a fresh latency estimate: the failures that took it out are past.
func (p *Pool) markUp(u *Upstream) {
	if u.healthy.CompareAndSwap(false, true) {
		u.est.Reset()
		p.log.Info("upstream up", "upstream", u.name)
	}
}

// Run checks every upstream now and then every interval until ctx ends.
func (p *Pool) Run(ctx context.Context, interval time.Duration) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		p.CheckAll(ctx)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// CheckAll runs one round of active checks, all upstreams at once, and
// returns when every check has finished. Tests call it to run a round
// without waiting for the ticker.
func (p *Pool) CheckAll(ctx context.Context) {
	var wg sync.WaitGroup
	for _, u := range p.upstreams {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if v := recover(); v != nil {
					p.log.Error("health check panicked", "upstream", u.name, "panic", v)
				}
			}()
			err := p.checkOne(ctx, u)
			u.counts.round(time.Now())
			switch {
			case ctx.Err() != nil: // shutting down: the check says nothing
			case err != nil:
				p.markDown(u, err)
			default:
				p.markUp(u)
			}
		}()
	}
	wg.Wait()
}

// checkOne is GET /healthz on u: 200 within the check timeout passes.
func (p *Pool) checkOne(ctx context.Context, u *Upstream) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.URL.String()+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := p.check.Do(req)
	if err != nil {
		return fmt.Errorf("health check: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health check: status %d", resp.StatusCode)
	}
	if inst, ok := hops.ParseInstance(resp.Header.Get(hops.HeaderApp)); ok {
		if old := u.instance.Swap(&inst); old != nil && old.ID != inst.ID {
			// Two instances answer at this address: it is a load balancer
			// (the internal ALB in deploy/terraform), not one app instance.
			u.balancer.Store(true)
		}
	}
	return nil
}
