package store

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/guestbook/guestbook/internal/balance"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// replicasAt is a store with n healthy replicas and no servers behind them,
// choosing with a seeded random source: enough to run pickReplica one step
// at a time.
func replicasAt(n int) *DB {
	db := &DB{rnd: rand.New(rand.NewPCG(1, 2)).IntN}
	for i := range n {
		r := &replica{backend: &backend{name: string(rune('a' + i))}}
		r.healthy.Store(true)
		db.replicas = append(db.replicas, r)
	}
	return db
}

// picks counts which replica pickReplica chooses in n steps at now, each
// read done at once (nothing in flight).
func picks(db *DB, now time.Time, n int) []int {
	count := make([]int, len(db.replicas))
	for range n {
		i := db.pickReplica(now, make([]bool, len(db.replicas)))
		if i < 0 {
			panic("no replica picked")
		}
		count[i]++
	}
	return count
}

func TestEqualReplicasShareTheReadsAboutEvenly(t *testing.T) {
	db := replicasAt(3)
	for _, r := range db.replicas {
		r.est.Observe(t0, 2*time.Millisecond)
	}
	for i, n := range picks(db, t0, 3000) {
		if n < 800 || n > 1200 {
			t.Errorf("replica %d got %d of 3000 reads, want about 1000", i, n)
		}
	}
}

func TestASlowReplicaGetsFewReadsAndItsShareBackWhenFastAgain(t *testing.T) {
	db := replicasAt(2)
	fast, slow := db.replicas[0], db.replicas[1]
	now := t0
	for range 20 { // both measured at 2ms, then the second answers in 150ms
		now = now.Add(10 * time.Millisecond)
		fast.est.Observe(now, 2*time.Millisecond)
		slow.est.Observe(now, 2*time.Millisecond)
	}
	slow.est.Observe(now, 150*time.Millisecond)
	if got := picks(db, now, 1000)[1]; got > 0 {
		t.Errorf("the slow replica got %d of 1000 reads, want none while its estimate is 75 times the other's", got)
	}
	// Fast again: its next answers are quick, and its estimate comes down
	// as it does.
	for range 100 {
		now = now.Add(100 * time.Millisecond)
		fast.est.Observe(now, 2*time.Millisecond)
		slow.est.Observe(now, 2*time.Millisecond)
	}
	if got := picks(db, now, 1000)[1]; got < 350 {
		t.Errorf("recovered, the slow replica got %d of 1000 reads, want about half", got)
	}
}

func TestAnIdleSlowReplicaIsTriedAgainOnceItsEstimateDecays(t *testing.T) {
	db := replicasAt(2)
	db.replicas[0].est.Observe(t0, 2*time.Millisecond)
	db.replicas[1].est.Observe(t0, 150*time.Millisecond)
	// The fast one keeps answering in 2ms; nothing goes to the slow one.
	now := t0
	for range 200 {
		now = now.Add(100 * time.Millisecond)
		db.replicas[0].est.Observe(now, 2*time.Millisecond)
	}
	if got := picks(db, now, 1000)[1]; got == 0 {
		t.Errorf("20s later the idle slow replica got no read of 1000: it would never be found fast again")
	}
}

func TestAReplicaWithReadsInFlightCostsMore(t *testing.T) {
	db := replicasAt(2)
	db.replicas[0].est.Observe(t0, 2*time.Millisecond)
	db.replicas[1].est.Observe(t0, 2*time.Millisecond)
	for range 3 {
		db.replicas[0].est.Start()
	}
	if got := picks(db, t0, 1000)[0]; got > 0 {
		t.Errorf("the replica with 3 reads in flight got %d of 1000, want none against an idle equal", got)
	}
}

func TestPickReplicaSkipsUnhealthyAndTriedReplicas(t *testing.T) {
	db := replicasAt(3)
	db.replicas[1].healthy.Store(false)
	tried := []bool{false, false, false}
	seen := map[int]bool{}
	for {
		i := db.pickReplica(t0, tried)
		if i < 0 {
			break
		}
		if seen[i] {
			t.Fatalf("replica %d picked twice in one read", i)
		}
		seen[i], tried[i] = true, true
	}
	if len(seen) != 2 || seen[1] {
		t.Errorf("one read tried %v, want replicas 0 and 2 once each and never the unhealthy 1", seen)
	}
}

func TestAnUnmeasuredReplicaCostsTheInitialEstimate(t *testing.T) {
	db := replicasAt(1)
	if got := db.replicas[0].est.Latency(t0); got != balance.Initial {
		t.Errorf("a new replica's estimate is %v, want balance.Initial", got)
	}
}

func TestAnAttemptGetsTheQueryTimeoutOrWhatTheCallerHasLeft(t *testing.T) {
	const qt = 2 * time.Second
	now := time.Now() // the contexts' deadlines are on the real clock
	none := context.Background()
	in := func(d time.Duration) context.Context {
		ctx, cancel := context.WithDeadline(context.Background(), now.Add(d))
		t.Cleanup(cancel)
		return ctx
	}
	tests := []struct {
		name string
		ctx  context.Context
		more bool
		want time.Duration
		ok   bool
	}{
		{"no deadline, last server", none, false, qt, true},
		{"no deadline, another server left", none, true, qt, true},
		{"a long deadline", in(time.Minute), true, qt, true},
		{"900ms left, last server", in(900 * time.Millisecond), false, 900 * time.Millisecond, true},
		{"900ms left, another server left: half", in(900 * time.Millisecond), true, 450 * time.Millisecond, true},
		{"5s left, another server left: half is more than query_timeout", in(5 * time.Second), true, qt, true},
		{"no time left", in(0), false, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := attemptTimeout(tt.ctx, now, qt, tt.more)
			if got != tt.want || ok != tt.ok {
				t.Errorf("attemptTimeout = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
