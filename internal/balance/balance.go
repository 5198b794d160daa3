// Package balance chooses among equivalent servers by what they do, not by
// a fixed turn: each server keeps a peak-sensitive, exponentially weighted
// estimate of its latency and a count of the requests it has in flight, and
// a choice takes two servers at random and sends to the cheaper one (the
// power of two random choices over peak EWMA, as Finagle and Linkerd
// balance). A server that turns slow gets little traffic while it stays in
// rotation, and its share back as its estimate decays once it is fast
// again; equal servers share the load about evenly. Both the web tier's
// upstreams and the store's replicas are balanced with it.
//
// Every method takes the time from its caller, so that a test can run the
// estimate one step at a time without sleeping.
package balance

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// Decay is how fast an estimate forgets: a sample's weight falls to 1/e
// after this long, and so does an idle server's estimate. Linkerd and
// Finagle use 10 s; a shorter one gives a recovered server its share back
// sooner (a server measured at 150 ms among 2 ms ones is tried again after
// about 9 s), while the peak keeps a server that turns slow avoided from
// its first slow answer.
const Decay = 2 * time.Second

// Estimate is one server's latency estimate and in-flight count. The zero
// Estimate has no estimate yet: it costs Initial until its first sample.
type Estimate struct {
	mu       sync.Mutex
	rtt      float64 // nanoseconds
	at       time.Time
	inFlight atomic.Int64
}

// Initial is the latency assumed of a server not yet measured: low, so
// that a new or returning server is tried soon, but not zero, so that its
// first few requests are spread.
const Initial = time.Millisecond

// Start counts a request in flight; the caller calls Done when it ends.
func (e *Estimate) Start() { e.inFlight.Add(1) }

// Done ends a request started with Start: it took rtt, measured at now.
func (e *Estimate) Done(now time.Time, rtt time.Duration) {
	e.inFlight.Add(-1)
	e.Observe(now, rtt)
}

// Observe adds a sample without a request in flight (a timed-out attempt
// counts the time it was given). The estimate starts from what Latency
// shows now (decayed for the time since the last sample). A sample above
// that replaces it at once (the peak), so a server that turns slow is
// avoided from its first slow answer; a lower one is averaged in with a
// weight that grows with the time since the last sample. So a steady
// server's estimate is its latency, a noisy one's the recent peaks, and a
// server tried again after a long idle (because it was slow) and found fast
// is at once as cheap as it answered.
func (e *Estimate) Observe(now time.Time, rtt time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	sample := float64(rtt)
	if e.at.IsZero() {
		e.rtt, e.at = float64(Initial), now
	}
	w := e.weight(now)
	if view := e.rtt * w; sample >= view {
		e.rtt = sample
	} else {
		e.rtt = view*w + sample*(1-w) // above sample, since view is
	}
	if now.After(e.at) {
		e.at = now
	}
}

// weight is how much of the estimate still holds at now: 1 just after a
// sample, 1/e one Decay later. e.mu is held.
func (e *Estimate) weight(now time.Time) float64 {
	return math.Exp(-float64(now.Sub(e.at)) / float64(Decay))
}

// Latency is the estimate at now, decayed towards zero for the time since
// the last sample: a server nobody has sent to for a while (because it was
// slow) becomes cheap enough to be tried again, which is how its recovery
// is noticed.
func (e *Estimate) Latency(now time.Time) time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.at.IsZero() {
		return Initial
	}
	return time.Duration(e.rtt * e.weight(now))
}

// Abandon ends a request started with Start without a sample: it ended for
// reasons of its caller's (the client went away), which say nothing of the
// server.
func (e *Estimate) Abandon() { e.inFlight.Add(-1) }

// Reset forgets the estimate (requests in flight stay counted): a server
// that has just come back (an active check passed after it was taken out)
// starts afresh, as cheap as a new one, rather than as slow as it was when
// it failed.
func (e *Estimate) Reset() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.rtt, e.at = 0, time.Time{}
}

// InFlight is the number of requests started and not yet done.
func (e *Estimate) InFlight() int64 { return e.inFlight.Load() }

// Cost is what sending one more request to the server is expected to cost:
// its latency times the requests it would then have in flight.
func (e *Estimate) Cost(now time.Time) float64 {
	return float64(e.Latency(now)) * float64(e.InFlight()+1)
}

// Costs closer than Slack, or than Tolerance of the larger, are equal: the
// latencies of equal servers differ by noise (0.3 ms against 3 ms when a
// collection or the scheduler delays one answer), and comparing noise would
// send nearly everything to whichever looked a little faster for the next
// few seconds. Equal servers are taken in turn instead. What the balancing
// is for, a server that turns slow by tens or hundreds of milliseconds, is
// far outside both.
const (
	Slack     = float64(5 * time.Millisecond)
	Tolerance = 0.25
)

// Equal reports costs that differ by no more than Slack or Tolerance.
func Equal(a, b float64) bool {
	lo, hi := min(a, b), max(a, b)
	return hi-lo <= max(Slack, hi*Tolerance)
}

// PickTwo chooses among the n candidates for which ok(i) holds: two of them
// at random (rnd(k) returns a uniform integer in [0, k)), the cheaper by
// cost, or, when their costs are Equal, the one whose last(i) is smaller
// (the one chosen less recently, so that equal servers alternate). It
// returns -1 when no candidate is ok. With one candidate it is that one.
func PickTwo(n int, ok func(i int) bool, cost func(i int) float64, last func(i int) uint64, rnd func(k int) int) int {
	var buf [16]int
	idx := buf[:0]
	for i := range n {
		if ok(i) {
			idx = append(idx, i)
		}
	}
	switch len(idx) {
	case 0:
		return -1
	case 1:
		return idx[0]
	}
	a := rnd(len(idx))
	b := rnd(len(idx) - 1)
	if b >= a {
		b++
	}
	i, j := idx[a], idx[b]
	ci, cj := cost(i), cost(j)
	if Equal(ci, cj) {
		if last(j) < last(i) {
			return j
		}
		return i
	}
	if cj < ci {
		return j
	}
	return i
}
