package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/store"
	"github.com/guestbook/guestbook/store/storetest"
)

// The faults here are gray ones: a server frozen with SIGSTOP keeps its port
// and its connections but answers nothing, and one behind a delaying proxy
// answers, late. Deadlines are short so that the tests are.
const (
	testQueryTimeout = 300 * time.Millisecond
	// margin is what a read or write may take beyond the deadlines it
	// waited: the answer of the next server, scheduling on a busy machine.
	margin = 250 * time.Millisecond
)

// timed runs f and returns how long it took.
func timed(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}

// waitFor polls cond every 10ms until it holds, failing after limit; it
// returns how long that took.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

func TestAFrozenReplicaCostsNoReadAnErrorNorAWaitPastTheQueryTimeout(t *testing.T) {
	// Checks a second apart, so that the reads right after the freeze meet
	// the frozen replica before a check can notice it.
	r := openReplicated(t, func(c *config.Database) {
		c.QueryTimeout, c.HealthInterval, c.MaxReplicaLag = testQueryTimeout, time.Second, 5*time.Second
	})
	if _, err := r.db.CreateEntry(context.Background(), draft(1), "s"); err != nil {
		t.Fatal(err)
	}
	r.replica.WaitCaughtUp(t, r.primary)

	r.replica.Freeze(t)
	for i := range 10 {
		var page store.Page
		var err error
		took := timed(func() { page, err = r.db.ListEntries(context.Background(), 0, 20) })
		if err != nil || len(page.Entries) != 1 {
			t.Fatalf("read %d with the replica frozen: %+v, %v", i, page.Entries, err)
		}
		if took > testQueryTimeout+margin {
			t.Errorf("read %d with the replica frozen took %s, want at most query_timeout (%s) plus %s", i, took, testQueryTimeout, margin)
		}
	}
	if r.replicaStats().Healthy {
		t.Error("a replica that did not answer within query_timeout is still in the rotation")
	}

	r.replica.Thaw(t)
	r.waitReplica(t, true)
	before := r.replicaStats().Reads
	if _, err := r.db.ListEntries(context.Background(), 0, 20); err != nil {
		t.Fatal(err)
	}
	if r.replicaStats().Reads == before {
		t.Error("woken and back in the rotation, the replica gets no read")
	}
}

func TestAFrozenReplicaLeavesTheRotationWithinAHealthIntervalAndTheDeadline(t *testing.T) {
	r := openReplicated(t, func(c *config.Database) {
		c.QueryTimeout, c.HealthInterval, c.MaxReplicaLag = testQueryTimeout, 500*time.Millisecond, 5*time.Second
	})
	r.replica.Freeze(t) // no read meets it: only the checks can tell
	limit := r.cfg.HealthInterval + testQueryTimeout + margin
	waitFor(t, limit, "the frozen replica out of the rotation", func() bool { return !r.replicaStats().Healthy })
	r.replica.Thaw(t)
	waitFor(t, 10*time.Second, "the woken replica back in the rotation", func() bool { return r.replicaStats().Healthy })
}

func TestAFrozenPrimaryFailsWritesInTimeAndReadsGoOnFromTheReplica(t *testing.T) {
	r := openReplicated(t, func(c *config.Database) { c.QueryTimeout = testQueryTimeout })
	if _, err := r.db.CreateEntry(context.Background(), draft(1), "s"); err != nil {
		t.Fatal(err)
	}
	r.replica.WaitCaughtUp(t, r.primary)

	r.primary.Freeze(t)
	frozen := time.Now()
	var err error
	took := timed(func() { _, err = r.db.CreateEntry(context.Background(), draft(2), "s") })
	if !errors.Is(err, store.ErrUnavailable) {
		t.Errorf("a write to the frozen primary: %v, want ErrUnavailable (503, try again)", err)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a write to the frozen primary: %v: the store's own deadline must not look like the caller's", err)
	}
	if took > testQueryTimeout+margin {
		t.Errorf("a write to the frozen primary took %s, want at most query_timeout (%s) plus %s", took, testQueryTimeout, margin)
	}
	limit := r.cfg.HealthInterval + testQueryTimeout + margin
	waitFor(t, limit-time.Since(frozen), "the frozen writer forgotten (a failover search)", func() bool { return r.db.Stats().Writer == "" })
	for i := range 5 {
		var page store.Page
		took := timed(func() { page, err = r.db.ListEntries(context.Background(), 0, 20) })
		if err != nil || len(page.Entries) != 1 {
			t.Fatalf("read %d with the primary frozen: %+v, %v", i, page.Entries, err)
		}
		if took > testQueryTimeout+margin {
			t.Errorf("read %d with the primary frozen took %s", i, took)
		}
	}

	r.primary.Thaw(t)
	waitFor(t, 10*time.Second, "the woken primary found as the writer again", func() bool { return r.db.Stats().Writer != "" })
	if _, err := r.db.CreateEntry(context.Background(), draft(3), "s"); err != nil {
		t.Errorf("a write after the primary woke: %v", err)
	}
}

func TestASlowReplicaGetsFewReadsAndEqualOnesShareThem(t *testing.T) {
	cfg, primary, replica := storetest.PairConfig(t)
	// Two replicas: the one server, straight and through a proxy that can
	// make it slow, so each read's replica is known by its name.
	proxy := storetest.StartProxy(t, replica.Addr())
	c, err := mysql.ParseDSN(cfg.Replicas[0])
	if err != nil {
		t.Fatal(err)
	}
	c.Addr = proxy.Addr()
	cfg.Replicas = append(cfg.Replicas, c.FormatDSN())
	cfg.ReplicaNames = []string{"straight", "proxied"}
	cfg.QueryTimeout = time.Second // a new connection through a slow proxy takes a few of its delays
	db := openRunning(t, cfg)
	if _, err := db.CreateEntry(context.Background(), draft(1), "s"); err != nil {
		t.Fatal(err)
	}
	replica.WaitCaughtUp(t, primary)
	reads := func() map[string]uint64 {
		m := map[string]uint64{}
		for _, b := range db.Stats().Backends {
			if b.Role == store.RoleReplica {
				if !b.Healthy {
					t.Fatalf("replica %s out of the rotation: %+v", b.Label, db.Stats())
				}
				m[b.Label] = b.Reads
			}
		}
		return m
	}
	waitFor(t, 10*time.Second, "both replicas in the rotation", func() bool {
		n := 0
		for _, b := range db.Stats().Backends {
			if b.Role == store.RoleReplica && b.Healthy {
				n++
			}
		}
		return n == 2
	})
	// The proxied replica's share of n reads by 8 clients at once: a load,
	// under which queries in flight count as well as latency. (One client
	// reading in a tight loop would see one replica take every read for a
	// while: within a fraction of balance.Decay two estimates barely move.)
	share := func(n int) float64 {
		before := reads()
		errs := make(chan error, n)
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range n / 8 {
					_, err := db.ListEntries(context.Background(), 0, 20)
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		after := reads()
		straight, proxied := after["straight"]-before["straight"], after["proxied"]-before["proxied"]
		return float64(proxied) / float64(straight+proxied)
	}
	s := share(400)
	t.Logf("equal replicas: the proxied one got %.0f%% of the reads", 100*s)
	if s < 0.15 || s > 0.85 {
		t.Errorf("two equal replicas: the second got %.0f%% of the reads, want both used, about half each", 100*s)
	}
	proxy.SetDelay(100 * time.Millisecond)
	s = share(400)
	t.Logf("slowed by 100ms: the proxied one got %.1f%% of the reads", 100*s)
	if s > 0.05 {
		t.Errorf("a replica 100ms slower than the other got %.0f%% of the reads, want under 5%%", 100*s)
	}
}
