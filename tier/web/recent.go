package web

import (
	"sync"
	"sync/atomic"
	"time"
)

// recentRounds is how many health rounds the recent counts cover: a minute
// at the default web.health_interval of 2s.
const recentRounds = 30

// counts are an upstream's attempts and failures: totals the proxy adds to
// with one or two atomic adds per attempt, and the totals as they were at
// each of the last recentRounds health rounds, so that the topology page can
// show recent numbers without the proxy doing any more per request.
type counts struct {
	requests, failures atomic.Uint64

	mu    sync.Mutex
	marks [recentRounds]mark // a ring: next is the oldest once full
	next  int
	full  bool
}

// mark is the totals at one moment.
type mark struct {
	at                 time.Time
	requests, failures uint64
}

// add counts one attempt; failed when it got no answer.
func (c *counts) add(failed bool) {
	c.requests.Add(1)
	if failed {
		c.failures.Add(1)
	}
}

// round remembers the totals at now, once per health round.
func (c *counts) round(now time.Time) {
	m := mark{at: now, requests: c.requests.Load(), failures: c.failures.Load()}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.marks[c.next] = m
	c.next = (c.next + 1) % recentRounds
	c.full = c.full || c.next == 0
}

// recent is what was counted since the oldest remembered round, and how long
// ago that was; before the first round, everything since start.
func (c *counts) recent(now time.Time) (requests, failures uint64, over time.Duration) {
	requests, failures = c.requests.Load(), c.failures.Load()
	c.mu.Lock()
	defer c.mu.Unlock()
	oldest := 0
	if c.full {
		oldest = c.next
	}
	if !c.full && c.next == 0 {
		return requests, failures, 0
	}
	m := c.marks[oldest]
	return requests - m.requests, failures - m.failures, now.Sub(m.at)
}
