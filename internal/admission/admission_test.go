package admission

import (
	"sync"
	"testing"
	"time"
)

// clock is a test's clock, moved by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newTestLimiter(initial, floor, ceiling int) (*Limiter, *clock) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := New(initial, floor, ceiling)
	l.SetClock(c.now)
	l.wait = 0 // the clock is the test's: no real waiting for a slot
	return l, c
}

// window runs one window of n requests, each admitted together (so that
// the limit is in use) and each taking took.
func window(l *Limiter, c *clock, n int, took time.Duration) (admitted int) {
	return windowOf(l, c, n, func(int) time.Duration { return took })
}

// windowOf is window with the ith request taking took(i).
func windowOf(l *Limiter, c *clock, n int, took func(i int) time.Duration) (admitted int) {
	var ok []bool
	for range n {
		ok = append(ok, l.Admit())
	}
	c.t = c.t.Add(Window)
	for i, a := range ok {
		if a {
			admitted++
			l.Done(took(i))
		}
	}
	return admitted
}

func TestRequestsOverTheLimitAreRefusedAtOnce(t *testing.T) {
	l, _ := newTestLimiter(4, 1, 0)
	l.wait = Wait
	for i := range 4 {
		if !l.Admit() {
			t.Fatalf("request %d refused under the limit of 4", i+1)
		}
	}
	start := time.Now()
	if l.Admit() {
		t.Fatal("a fifth request was admitted over the limit of 4")
	}
	if took := time.Since(start); took > 50*time.Millisecond {
		t.Errorf("the refusal took %v, want about Wait (%v)", took, Wait)
	}
	if l.InFlight() != 4 {
		t.Errorf("in flight = %d, want the 4 admitted", l.InFlight())
	}
}

func TestAWaitingRequestGetsTheSlotThatIsFreed(t *testing.T) {
	l, _ := newTestLimiter(1, 1, 0)
	l.wait = time.Second // this one waits for real
	l.Admit()
	var wg sync.WaitGroup
	var got bool
	wg.Go(func() { got = l.Admit() })
	time.Sleep(time.Millisecond) // let it wait
	l.Done(0)
	wg.Wait()
	if !got {
		t.Error("a request waiting when a slot came free was refused")
	}
	if l.InFlight() != 1 {
		t.Errorf("in flight = %d, want the waiter's 1", l.InFlight())
	}
}

func TestTheLimitGrowsWhileLatencyStaysLowAndItIsInUse(t *testing.T) {
	l, c := newTestLimiter(10, 1, 0)
	for range 20 {
		window(l, c, l.Limit(), 2*time.Millisecond)
	}
	if got := l.Limit(); got <= 20 {
		t.Errorf("after 2s at the unloaded latency with the limit in use, the limit is %d, want it grown from 10", got)
	}
}

func TestALimitNobodyReachesDoesNotGrow(t *testing.T) {
	l, c := newTestLimiter(10, 1, 0)
	for range 20 {
		window(l, c, 3, 2*time.Millisecond)
	}
	if got := l.Limit(); got != 10 {
		t.Errorf("with 3 of 10 in use the limit went to %d, want it kept at 10", got)
	}
}

func TestTheLimitShrinksWhenLatencyRisesPastTheUnloadedOne(t *testing.T) {
	l, c := newTestLimiter(100, 4, 0)
	for range 10 {
		window(l, c, 60, 2*time.Millisecond) // the unloaded latency: 2ms
	}
	before := l.Limit()
	for range 10 {
		window(l, c, l.Limit(), 60*time.Millisecond) // past capacity: queueing for tens of milliseconds
	}
	if got := l.Limit(); got > before/2 {
		t.Errorf("after 1s at 30x the unloaded latency the limit is %d (from %d), want it at most halved", got, before)
	}
	shrunk := l.Limit()
	for range 30 {
		window(l, c, l.Limit(), 2*time.Millisecond)
	}
	if got := l.Limit(); got <= shrunk {
		t.Errorf("once latency is back the limit stayed at %d, want it growing again", got)
	}
}

// After an overload a light load never fills the limit to make it grow;
// held where the overload left it, the limit would refuse the light load's
// ordinary bursts.
func TestALimitAnOverloadShrankReturnsOnceLatencyIsBackThoughLittleOfItIsInUse(t *testing.T) {
	l, c := newTestLimiter(64, 4, 0)
	for range 10 {
		window(l, c, 40, 2*time.Millisecond) // the unloaded latency: 2ms
	}
	for range 10 {
		window(l, c, 2*l.Limit(), 60*time.Millisecond) // an overload
	}
	shrunk := l.Limit()
	if shrunk > 32 {
		t.Fatalf("the overload left the limit at %d, want it at most halved from 64", shrunk)
	}
	for range 20 { // 2 s of a light load: 3 at once, at the unloaded latency
		window(l, c, 3, 2*time.Millisecond)
	}
	if got := l.Limit(); got < 48 {
		t.Errorf("2 s after the overload the limit is %d (it was %d), want it most of the way back to the 64 it started at", got, shrunk)
	}
	for range 50 {
		window(l, c, 3, 2*time.Millisecond)
	}
	if got := l.Limit(); got > 64 {
		t.Errorf("a light load grew the limit to %d, past the 64 it started at", got)
	}
}

func TestALatencyWithinTheHeadroomDoesNotShrinkTheLimit(t *testing.T) {
	l, c := newTestLimiter(40, 4, 40)
	for range 10 {
		window(l, c, 20, time.Millisecond)
	}
	for range 20 {
		window(l, c, l.Limit(), 8*time.Millisecond) // busy, not queueing
	}
	if got := l.Limit(); got != 40 {
		t.Errorf("at 8ms against an unloaded 1ms the limit went to %d, want it kept at 40", got)
	}
}

func TestTheLimitKeepsToItsFloorAndCeiling(t *testing.T) {
	l, c := newTestLimiter(10, 4, 12)
	for range 50 {
		window(l, c, l.Limit(), time.Millisecond)
	}
	if got := l.Limit(); got != 12 {
		t.Errorf("limit %d, want the ceiling 12", got)
	}
	for range 50 {
		window(l, c, l.Limit(), time.Second)
	}
	if got := l.Limit(); got != 4 {
		t.Errorf("limit %d, want the floor 4", got)
	}
}

// An overload longer than the span the unloaded latency is remembered over
// must not make the overloaded latency the unloaded one: the limit would
// grow back into the overload.
func TestALongOverloadDoesNotBecomeTheUnloadedLatency(t *testing.T) {
	l, c := newTestLimiter(64, 4, 0)
	for range 20 {
		window(l, c, 40, 2*time.Millisecond) // unloaded: 2ms
	}
	for range int(2 * BaselineSpan / Window) { // a minute past capacity: every window full and refusing
		window(l, c, 3*l.Limit(), 60*time.Millisecond)
	}
	if got := l.Limit(); got > 8 {
		t.Errorf("after a minute at 30x the unloaded latency the limit is %d, want it kept down near the floor", got)
	}
}

// A queue shows first in the tail: a fifth of the answers waiting 80 ms
// while the rest take 1 ms is an average of 17 ms, within the headroom, but
// a p99 of 80 ms, past the bound that defines capacity. The limit is judged
// by the tail.
func TestASlowTailShrinksTheLimitThoughTheAverageIsWithinTheHeadroom(t *testing.T) {
	l, c := newTestLimiter(100, 4, 0)
	for range 10 {
		window(l, c, 60, time.Millisecond)
	}
	before := l.Limit()
	for range 10 {
		windowOf(l, c, l.Limit(), func(i int) time.Duration { // a fifth slow
			if i%10 < 2 {
				return 80 * time.Millisecond
			}
			return time.Millisecond
		})
	}
	if got := l.Limit(); got > before*3/4 {
		t.Errorf("with a fifth of the answers at 80 ms the limit is %d (from %d), want it shrunk by a quarter at least", got, before)
	}
}

func TestAWindowsPercentileIsWithinAFifthOfTheTrueOne(t *testing.T) {
	var w latencies
	for i := 1; i <= 1000; i++ {
		w.add(time.Duration(i) * 100 * time.Microsecond) // 0.1 ms to 100 ms, evenly
	}
	for _, tt := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.9, 90 * time.Millisecond}, {0.99, 99 * time.Millisecond}} {
		got := w.quantile(tt.q)
		if got < tt.want || float64(got) > 1.2*float64(tt.want) {
			t.Errorf("quantile(%v) = %s, want %s to a fifth over it", tt.q, got, tt.want)
		}
	}
	var tiny latencies
	tiny.add(10 * time.Microsecond)
	if got := tiny.quantile(0.9); got != latencyFloor {
		t.Errorf("a window of 10 µs answers has its percentile at %s, want the floor %s", got, latencyFloor)
	}
}
