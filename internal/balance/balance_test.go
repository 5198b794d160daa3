package balance

import (
	"math/rand/v2"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestASlowAnswerRaisesTheEstimateAtOnce(t *testing.T) {
	var e Estimate
	for i := range 20 {
		e.Observe(t0.Add(time.Duration(i)*10*time.Millisecond), 2*time.Millisecond)
	}
	now := t0.Add(200 * time.Millisecond)
	e.Observe(now, 150*time.Millisecond)
	if got := e.Latency(now); got != 150*time.Millisecond {
		t.Errorf("after one 150ms answer the estimate is %v, want 150ms (the peak)", got)
	}
}

func TestFastAnswersBringTheEstimateDownGradually(t *testing.T) {
	var e Estimate
	e.Observe(t0, 150*time.Millisecond)
	now := t0
	for range 10 {
		now = now.Add(100 * time.Millisecond)
		e.Observe(now, 2*time.Millisecond)
	}
	got := e.Latency(now)
	if got >= 150*time.Millisecond || got <= 2*time.Millisecond {
		t.Errorf("after a second of 2ms answers the estimate is %v, want between 2ms and 150ms", got)
	}
	for range 300 {
		now = now.Add(100 * time.Millisecond)
		e.Observe(now, 2*time.Millisecond)
	}
	if got := e.Latency(now); got > 3*time.Millisecond {
		t.Errorf("after 20s of 2ms answers the estimate is %v, want about 2ms", got)
	}
}

func TestAnIdleEstimateDecaysSoTheServerIsTriedAgain(t *testing.T) {
	var e Estimate
	e.Observe(t0, time.Second)
	if got := e.Latency(t0.Add(Decay)); got > 370*time.Millisecond || got < 365*time.Millisecond {
		t.Errorf("one Decay after a 1s sample the estimate is %v, want 1s/e", got)
	}
	if got := e.Latency(t0.Add(6 * Decay)); got > 3*time.Millisecond {
		t.Errorf("six Decays after the sample the estimate is %v, want near zero", got)
	}
}

func TestTheCostCountsRequestsInFlight(t *testing.T) {
	var e Estimate
	e.Observe(t0, 10*time.Millisecond)
	idle := e.Cost(t0)
	e.Start()
	e.Start()
	if got := e.Cost(t0); got != 3*idle {
		t.Errorf("cost with two in flight = %v, want 3 × %v", got, idle)
	}
	e.Done(t0, 10*time.Millisecond)
	if e.InFlight() != 1 {
		t.Errorf("in flight = %d after one of two is done", e.InFlight())
	}
}

func TestCostsWithinNoiseAreEqualAndOthersAreNot(t *testing.T) {
	ms := float64(time.Millisecond)
	tests := []struct {
		a, b float64
		want bool
	}{
		{0.3 * ms, 3 * ms, true},  // noise on one network
		{2 * ms, 7 * ms, true},    // within the slack
		{40 * ms, 50 * ms, true},  // within a quarter
		{40 * ms, 60 * ms, false}, // beyond both
		{2 * ms, 150 * ms, false}, // a slow server
		{150 * ms, 2 * ms, false}, // either way round
	}
	for _, tt := range tests {
		if got := Equal(tt.a, tt.b); got != tt.want {
			t.Errorf("Equal(%v, %v) = %v, want %v", time.Duration(tt.a), time.Duration(tt.b), got, tt.want)
		}
	}
}

func TestEqualServersAreTakenInTurn(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	last := []uint64{0, 0}
	var seq uint64
	var order []int
	for range 6 {
		i := PickTwo(2, func(int) bool { return true }, func(i int) float64 { return float64(i) * 1000 },
			func(i int) uint64 { return last[i] }, rnd.IntN)
		seq++
		last[i] = seq
		order = append(order, i)
	}
	for k := 1; k < len(order); k++ {
		if order[k] == order[k-1] {
			t.Fatalf("two equal servers were chosen %v, want them in turn", order)
		}
	}
}

func TestPickTwoTakesTheCheaperOfTwoAndNeverOneThatIsNotOK(t *testing.T) {
	ms := float64(time.Millisecond)
	costs := []float64{10 * ms, 1 * ms, 90 * ms}
	rnd := rand.New(rand.NewPCG(1, 2))
	seen := map[int]int{}
	for range 3000 {
		i := PickTwo(3, func(i int) bool { return i != 1 }, func(i int) float64 { return costs[i] }, never, rnd.IntN)
		seen[i]++
	}
	if seen[1] != 0 {
		t.Errorf("picked the excluded candidate %d times", seen[1])
	}
	if seen[2] != 0 || seen[0] != 3000 {
		t.Errorf("picks %v: with two candidates left the cheaper must always win", seen)
	}
	if got := PickTwo(3, func(int) bool { return false }, nil, never, rnd.IntN); got != -1 {
		t.Errorf("no candidate: got %d, want -1", got)
	}
}

// never is last for candidates none of which was ever chosen.
func never(int) uint64 { return 0 }

func TestEqualServersShareTheLoadAboutEvenly(t *testing.T) {
	rnd := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{2, 3, 4} {
		seen := make([]int, n)
		for range 30000 {
			seen[PickTwo(n, func(int) bool { return true }, func(int) float64 { return 1 }, never, rnd.IntN)]++
		}
		for i, c := range seen {
			if share := float64(c) / 30000; share < 0.9/float64(n) || share > 1.1/float64(n) {
				t.Errorf("%d equal servers: server %d got %.1f%% of the picks, want about %.1f%%", n, i, 100*share, 100/float64(n))
			}
		}
	}
}

// A slow server among fast ones gets little of the load while it is slow,
// and its share back once it is fast again: run as a simulation, one
// request a millisecond, each answered at once with its server's latency.
func TestASlowServerLosesItsShareAndGetsItBackWhenFast(t *testing.T) {
	rnd := rand.New(rand.NewPCG(5, 6))
	servers := make([]Estimate, 2)
	latency := []time.Duration{2 * time.Millisecond, 2 * time.Millisecond}
	now := t0
	last := make([]uint64, len(servers))
	var seq uint64
	run := func(d time.Duration) []int {
		seen := make([]int, len(servers))
		for end := now.Add(d); now.Before(end); now = now.Add(time.Millisecond) {
			i := PickTwo(len(servers), func(int) bool { return true },
				func(i int) float64 { return servers[i].Cost(now) }, func(i int) uint64 { return last[i] }, rnd.IntN)
			seq++
			last[i] = seq
			seen[i]++
			servers[i].Observe(now, latency[i])
		}
		return seen
	}
	run(5 * time.Second)
	latency[1] = 150 * time.Millisecond
	slow := run(5 * time.Second)
	if share := float64(slow[1]) / float64(slow[0]+slow[1]); share > 0.10 {
		t.Errorf("while slow, server 1 got %.1f%% of requests, want under 10%%", 100*share)
	}
	latency[1] = 2 * time.Millisecond
	run(10 * time.Second) // an idle 150ms estimate decays to 2ms in about 9s
	back := run(5 * time.Second)
	if share := float64(back[1]) / float64(back[0]+back[1]); share < 0.4 {
		t.Errorf("once fast again, server 1 got %.1f%% of requests, want its share (about half)", 100*share)
	}
}

func TestAResetEstimateIsAsCheapAsANewOne(t *testing.T) {
	var e Estimate
	e.Observe(t0, time.Second)
	e.Reset()
	if got := e.Latency(t0); got != Initial {
		t.Errorf("after Reset the estimate is %v, want Initial (%v)", got, Initial)
	}
}
