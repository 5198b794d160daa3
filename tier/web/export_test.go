package web

import "time"

// SetRand gives the pool's choice of upstream a random source of the
// test's own, so that a test of the balancing sees the same choices on
// every run.
func (p *Pool) SetRand(rnd func(n int) int) { p.rnd = rnd }

// SetClock gives the pool's choice and latency estimates a clock of the
// test's own.
func (p *Pool) SetClock(now func() time.Time) { p.now = now }
