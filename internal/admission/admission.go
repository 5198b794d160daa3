// Package admission bounds the requests a tier works on at once, and turns
// the rest away at once, so that a load past capacity costs refusals
// instead of a queue that grows without limit (congestion collapse: every
// request waits, throughput falls, and memory grows until the collector
// runs all the time).
//
// The bound adapts to what the tier can do, as Netflix's Gradient2 limit
// and Envoy's adaptive concurrency filter do: requests are timed in short
// windows, and a window whose 90th percentile latency has risen over the
// tier's unloaded one (the lowest window's of the last few seconds, times a
// tolerance) means the tier is past capacity, so the limit shrinks in
// proportion; while latency stays near the unloaded one and the limit is
// in use, it grows by about its square root a window, and while it is not
// in use it returns toward the limit it started at. A configured ceiling
// bounds it; a floor keeps a tier that is merely slow from refusing
// everything.
//
// Every method takes the time from the Limiter's clock, so that a test can
// step it without sleeping.
package admission

import (
	"math"
	"sync"
	"time"
)

// Tuning. The window is short enough that a burst is met within a tenth of
// a second, and long enough on a loaded machine to average a few hundred
// requests.
const (
	Window     = 100 * time.Millisecond // latency is measured over this long
	MinSamples = 10                     // a window lasts until it has this many answers (or the limit's number)
	// Percentile is the latency a window is judged by. Not the average:
	// what visitors feel, and what capacity is defined by, is the tail, and
	// an average of 22 ms (what the limit allowed when it judged by the
	// average) let the p99 of what was admitted reach 100 ms and more on
	// a saturated core (docs/benchmarks.md, the overload run). The 90th is
	// high enough to see a queue building and low enough that a window of a
	// few dozen answers measures it.
	Percentile = 0.9
	Tolerance  = 2.0 // latency may rise to this times the unloaded one before the limit shrinks,
	// or by Headroom, whichever is more: a tier whose unloaded answer takes
	// a millisecond is not past capacity at five, only when requests
	// queue for more than ten. The tail of what is admitted follows the
	// 90th percentile the limit holds at about base + Headroom: at 20 ms
	// the p99 of what was admitted at twice capacity was 52-57 ms in the
	// overload benchmark, over the 50 ms that defines capacity.
	Headroom  = 15 * time.Millisecond
	Smoothing = 0.2 // how much of the new limit a window takes
	// BaselineSpan is how far back the unloaded latency is remembered: the
	// lowest window average of this span. A longer span remembers the
	// unloaded latency through a longer overload.
	BaselineSpan = 30 * time.Second
	// Wait is the longest a request waits for a slot before it is refused:
	// long enough to smooth a burst of a few requests, short enough that a
	// refusal is still fast. 2 ms was tried in the overload benchmark (with
	// the front sharing the app roles' CPU): more was refused and nothing
	// got faster, the refusals' tail being the wait for the CPU.
	Wait = 5 * time.Millisecond
)

// Limiter is one tier's adaptive concurrency limit.
type Limiter struct {
	min, max float64
	initial  float64 // where the limit starts, and returns to when not in use
	now      func() time.Time
	wait     time.Duration // Wait; a test may shorten it

	mu       sync.Mutex
	limit    float64
	inFlight int
	waiters  []chan struct{} // first come first served, each woken with a slot

	// The window being measured.
	windowStart time.Time
	latencies   latencies
	peak        int // most in flight during the window
	refused     int // requests refused during the window
	// lastBase is the last unloaded latency found: kept when the span
	// holds no window that was not saturated (a long overload), so that
	// the overloaded latency never becomes the unloaded one.
	lastBase time.Duration

	// baselines are the lowest window average of each second of the last
	// BaselineSpan, a ring.
	baselines [int(BaselineSpan / time.Second)]baseline
}

type baseline struct {
	second int64 // Unix second it is for
	rtt    time.Duration
}

// New is a limiter that starts at initial, never goes under floor and,
// when ceiling is positive, never over it.
func New(initial, floor, ceiling int) *Limiter {
	l := &Limiter{min: float64(floor), max: math.Inf(1), now: time.Now, wait: Wait}
	if ceiling > 0 {
		l.max = float64(ceiling)
	}
	l.limit = math.Min(math.Max(float64(initial), l.min), l.max)
	l.initial = l.limit
	return l
}

// SetClock gives the limiter a clock of the caller's, for tests.
func (l *Limiter) SetClock(now func() time.Time) { l.now = now }

// Limit is the current limit, and InFlight the requests admitted and not
// yet done.
func (l *Limiter) Limit() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int(l.limit)
}

// InFlight is the requests admitted and not yet done.
func (l *Limiter) InFlight() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.inFlight
}

// Admit admits a request, or reports false when the limit is reached and
// no slot came free within Wait. An admitted request must call Done once,
// when it has been answered.
func (l *Limiter) Admit() bool {
	l.mu.Lock()
	if l.inFlight < int(l.limit) && len(l.waiters) == 0 {
		l.admitLocked()
		l.mu.Unlock()
		return true
	}
	if len(l.waiters) >= int(l.limit) { // as many waiting as working: waiting won't help
		l.refused++
		l.mu.Unlock()
		return false
	}
	ch := make(chan struct{}, 1)
	l.waiters = append(l.waiters, ch)
	l.mu.Unlock()

	t := time.NewTimer(l.wait)
	defer t.Stop()
	select {
	case <-ch:
		return true // Done handed its slot over, already counted
	case <-t.C:
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, w := range l.waiters {
		if w == ch {
			l.waiters = append(l.waiters[:i], l.waiters[i+1:]...)
			l.refused++
			return false
		}
	}
	return true // handed a slot as the timer fired
}

func (l *Limiter) admitLocked() {
	l.inFlight++
	l.peak = max(l.peak, l.inFlight)
}

// Done ends an admitted request that took took to answer. A request that
// failed for reasons of its own (the client went away) may pass 0 to count
// it without a sample.
func (l *Limiter) Done(took time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.inFlight--
	if took > 0 {
		l.sample(took)
	}
	for len(l.waiters) > 0 && l.inFlight < int(l.limit) {
		w := l.waiters[0]
		l.waiters = l.waiters[1:]
		l.admitLocked()
		w <- struct{}{}
	}
}

// sample adds one answer's latency to the window, and closes the window
// when it is over: l.mu is held.
func (l *Limiter) sample(took time.Duration) {
	now := l.now()
	if l.windowStart.IsZero() {
		l.windowStart = now
	}
	l.latencies.add(took)
	// A window lasts Window, and longer until it has enough answers to say
	// something (a small limit gives few): under a light load a window is
	// longer, rather than dropped, so that a limit an overload shrank
	// still returns once the load is light (an app instance behind two
	// web instances may see a few dozen requests a second).
	if now.Sub(l.windowStart) < Window || l.latencies.n < min(MinSamples, int(l.limit)) {
		return
	}
	// A window that refused requests or filled the limit measured a tier
	// at capacity: its latency is no candidate for the unloaded one.
	saturated := l.refused > 0 || l.peak >= int(l.limit)
	l.adjust(now, l.latencies.quantile(Percentile), saturated)
	l.windowStart, l.latencies, l.peak, l.refused = now, latencies{}, l.inFlight, 0
}

// adjust moves the limit by the window's latency (its Percentile): l.mu is
// held.
func (l *Limiter) adjust(now time.Time, latency time.Duration, saturated bool) {
	base := l.remember(now, latency, !saturated)
	target := max(Tolerance*float64(base), float64(base+Headroom))
	gradient := math.Max(0.5, math.Min(1, target/float64(latency)))
	next := l.limit * gradient
	switch {
	case gradient < 1:
	case float64(l.peak) >= l.limit/2:
		// Latency is near the unloaded one and the limit is in use: room
		// to grow. A limit nobody reaches says nothing of what the tier
		// could take, so it does not grow past where it started.
		next += math.Sqrt(l.limit)
	case l.limit < l.initial:
		// Latency is near the unloaded one and the limit is not in use:
		// the overload that shrank it is over. Held where the overload left
		// it (a few requests), the limit would refuse the ordinary bursts
		// of a light load (a pause of the core, a collection) for as long
		// as that load lasts, since a light load never fills it to grow;
		// so it goes back toward where it started, a fifth of the way a
		// window (Smoothing): most of the way within a second.
		next = l.initial
	}
	l.limit = l.limit*(1-Smoothing) + next*Smoothing
	l.limit = math.Min(math.Max(l.limit, l.min), l.max)
}

// remember records latency as a window's at now, when record says the
// window is a candidate, and returns the unloaded latency: the lowest
// candidate of the span, or the last one found when the span has none.
func (l *Limiter) remember(now time.Time, latency time.Duration, record bool) time.Duration {
	sec := now.Unix()
	slot := &l.baselines[int(sec%int64(len(l.baselines)))]
	if record && (slot.second != sec || latency < slot.rtt) {
		if slot.second != sec {
			slot.rtt = latency
		}
		slot.second = sec
		slot.rtt = min(slot.rtt, latency)
	}
	var lowest time.Duration
	for _, b := range l.baselines {
		if b.second > sec-int64(len(l.baselines)) && b.rtt > 0 && (lowest == 0 || b.rtt < lowest) {
			lowest = b.rtt
		}
	}
	switch {
	case lowest > 0:
	case l.lastBase > 0:
		lowest = l.lastBase // a long overload: keep what was last known
	default:
		lowest = latency // nothing measured yet: this window is all there is
	}
	l.lastBase = lowest
	return lowest
}

// latencies are one window's answers, counted in buckets that each reach a
// fifth further than the last, from 100 µs to past 10 s: a percentile costs
// no sort and the window no memory that grows with its answers, and is
// within a fifth of the true one, far finer than the tolerance it is held
// to.
type latencies struct {
	n      int
	counts [latencyBuckets]int32
}

const (
	latencyBuckets = 64
	latencyFloor   = 100 * time.Microsecond // the first bucket's bound
	latencyGrowth  = 1.2                    // each bucket's bound over the last's
)

var logGrowth = math.Log(latencyGrowth)

func (w *latencies) add(d time.Duration) {
	k := 0
	if d > latencyFloor {
		k = min(int(math.Ceil(math.Log(float64(d)/float64(latencyFloor))/logGrowth)), latencyBuckets-1)
	}
	w.counts[k]++
	w.n++
}

// quantile is the bound of the bucket that holds the q-th answer of the
// window (nearest rank).
func (w *latencies) quantile(q float64) time.Duration {
	rank := int32(math.Ceil(q * float64(w.n)))
	var seen int32
	for k, c := range w.counts {
		if seen += c; seen >= rank && c > 0 {
			return time.Duration(float64(latencyFloor) * math.Pow(latencyGrowth, float64(k)))
		}
	}
	return time.Duration(float64(latencyFloor) * math.Pow(latencyGrowth, latencyBuckets-1))
}
