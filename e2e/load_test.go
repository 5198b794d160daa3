package e2e

import (
	"os"
	"slices"
	"testing"
	"time"
)

// loadDuration is how long the load runs: GBTEST_LOAD_DURATION (a Go
// duration, at most 60s), or 12 seconds, which keeps make test short on a
// small machine.
func loadDuration(t *testing.T) time.Duration {
	t.Helper()
	d := 12 * time.Second
	if v := os.Getenv("GBTEST_LOAD_DURATION"); v != "" {
		var err error
		if d, err = time.ParseDuration(v); err != nil || d <= 0 || d > time.Minute {
			t.Fatalf("GBTEST_LOAD_DURATION=%q: want a duration from 1s to 60s", v)
		}
	}
	return d
}

// TestLoadThroughTheWebTierFailsNothingAndLosesNoWrite runs visitors as fast
// as they can through the balancer and the web tier, nine reads to one
// write. It measures (the figures are logged; machines are too noisy to
// hold them to a number) and asserts that nothing failed and that every
// acknowledged write is stored once.
func TestLoadThroughTheWebTierFailsNothingAndLosesNoWrite(t *testing.T) {
	duration := loadDuration(t)
	tp := startTopology(t, topologyOptions{})
	l := newLedger()
	const visitors = 16
	s := startStream(tp.base, l, streamSpec{detail: tp.first, workers: visitors, writeEvery: 10})
	started := time.Now()
	time.Sleep(duration)
	outcomes := s.stop()
	elapsed := time.Since(started)

	sum := summarize(outcomes, time.Time{})
	var all, reads, writes []time.Duration
	for _, o := range outcomes {
		all = append(all, o.took)
		if o.write {
			writes = append(writes, o.took)
		} else {
			reads = append(reads, o.took)
		}
	}
	t.Logf("load: %d visitors for %s through the web tier: %d requests, %.0f req/s; "+
		"latency p50 %s p99 %s (reads p50 %s p99 %s, writes p50 %s p99 %s); %s",
		visitors, elapsed.Round(time.Millisecond), len(outcomes), float64(len(outcomes))/elapsed.Seconds(),
		percentile(all, 50), percentile(all, 99), percentile(reads, 50), percentile(reads, 99),
		percentile(writes, 50), percentile(writes, 99), sum)
	if len(sum.failures) > 0 {
		t.Errorf("%d of %d requests failed under load:%s", len(sum.failures), len(outcomes), first(sum.failures, 10))
	}
	if share := float64(sum.writes) / float64(len(outcomes)); share < 0.09 || share > 0.11 {
		t.Errorf("the mix was %d reads to %d writes, want nine to one", sum.reads, sum.writes)
	}
	l.check(t, tp.primary, "primary")
	tp.replica.WaitCaughtUp(t, tp.primary)
	l.check(t, tp.replica, "replica")
}

// percentile is the p-th percentile of ds, rounded for reading.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := min(len(s)-1, (len(s)*p+99)/100-1)
	return s[max(i, 0)].Round(10 * time.Microsecond)
}
