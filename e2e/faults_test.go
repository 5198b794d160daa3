package e2e

import (
	"strings"
	"syscall"
	"testing"
	"time"
)

// Faults while visitors keep coming. Each test has a system of its own,
// since each breaks it, and ends by holding the database to what the
// visitors were told.

func TestAKilledAppInstanceFailsNoReadAfterOneHealthInterval(t *testing.T) {
	tp := startTopology(t, topologyOptions{})
	l := newLedger()
	s := startStream(tp.base, l, streamSpec{detail: tp.first, workers: 4, writeEvery: 10, pause: 5 * time.Millisecond})
	s.waitFor(t, 100)

	killed := time.Now()
	tp.apps[0].signal(t, syscall.SIGKILL)
	time.Sleep(10 * webHealthInterval)
	outcomes := s.stop()

	settled := killed.Add(webHealthInterval)
	after := summarize(outcomes, settled)
	t.Logf("app-1 killed; in the first health interval: %s; after it: %s",
		summarize(before(outcomes, settled), killed), after)
	if after.reads < 50 {
		t.Fatalf("only %d reads after the kill: the stream did not run", after.reads)
	}
	if failed := after.failedReads(); len(failed) > 0 {
		t.Errorf("%d reads failed after the first health interval:%s", len(failed), first(failed, 10))
	}
	for _, o := range outcomes {
		// A page from the web tier's cache names the instance that made it
		// then: only what an app instance served now counts.
		if o.start.After(settled) && !o.cached && strings.HasPrefix(o.path, "/visitor/") && o.instance != "" && o.instance != "app-2" {
			t.Errorf("%s was served by %s after app-1 was killed", o.path, o.instance)
			break
		}
	}
	l.check(t, tp.primary, "primary")
}

// before keeps the outcomes that started before t.
func before(outcomes []outcome, t time.Time) []outcome {
	var out []outcome
	for _, o := range outcomes {
		if o.start.Before(t) {
			out = append(out, o)
		}
	}
	return out
}

func TestReadsGoOnFromThePrimaryWhenTheReplicasHostIsCutOff(t *testing.T) {
	tp := startTopology(t, topologyOptions{})
	l := newLedger()
	replica := tp.replica.Addr()
	s := startStream(tp.base, l, streamSpec{detail: tp.first, workers: 4, writeEvery: 10, pause: 5 * time.Millisecond, uncached: true})
	s.waitFor(t, 100)
	readsBefore := primaryReads(t, tp)

	cut := time.Now()
	tp.cutOff(t, "db-2")
	for _, app := range tp.apps {
		waitMetric(t, app, `guestbook_replica_healthy{replica="`+replica+`"} 0`, 15*time.Second)
	}
	left := time.Now() // both apps have taken db-2 out of the read rotation
	s.waitFor(t, 200)
	outcomes := s.stop()

	after := summarize(outcomes, left)
	t.Logf("db-2 cut off; until both apps took it out of the rotation (%s): %s; after: %s",
		left.Sub(cut).Round(time.Millisecond), summarize(before(outcomes, left), cut), after)
	if len(after.failures) > 0 {
		t.Errorf("%d requests failed with the replica cut off and out of the rotation:%s", len(after.failures), first(after.failures, 10))
	}
	if n := primaryReads(t, tp) - readsBefore; n < 50 {
		t.Errorf("the primary served %d reads while the replica was cut off, want the reads", n)
	}
	t.Run("reads under way when the link goes down get their answer from the primary", func(t *testing.T) {
		if during := summarize(before(outcomes, left), cut); len(during.failures) > 0 {
			t.Errorf("%d requests failed as the link went down:%s", len(during.failures), first(during.failures, 10))
		}
	})

	// With its link back, the replica catches up and rejoins the rotation.
	tp.reconnect(t, "db-2")
	tp.replica.WaitCaughtUp(t, tp.primary)
	for _, app := range tp.apps {
		waitMetric(t, app, `guestbook_replica_healthy{replica="`+replica+`"} 1`, 30*time.Second)
	}
	l.check(t, tp.primary, "primary")
	l.check(t, tp.replica, "replica")
}

// primaryReads sums, over the app instances, the reads they sent to db-1.
func primaryReads(t *testing.T, tp *topology) int {
	t.Helper()
	n := 0
	for _, app := range tp.apps {
		n += int(metricValue(t, app, `guestbook_store_queries_total{backend="`+tp.primary.Addr()+`",kind="read"}`))
	}
	return n
}

func TestWritesResumeAfterThePrimaryFailsAndTheReplicaIsPromoted(t *testing.T) {
	// Semi-synchronous replication: with asynchronous replication a write
	// acknowledged in the instant before the primary fails can be missing
	// on the replica, as README.md says, and this test would rightly fail.
	tp := startTopology(t, topologyOptions{semiSync: true})
	l := newLedger()
	s := startStream(tp.base, l, streamSpec{detail: tp.first, workers: 4, writeEvery: 3, pause: 10 * time.Millisecond})
	s.waitFor(t, 60)

	tp.cutOff(t, "db-1")
	promoteReplica(t, tp)
	promoted := time.Now()
	resumed := s.firstAckedWrite(t, promoted, failoverTimeout+10*time.Second)
	s.waitFor(t, 60)
	outcomes := s.stop()

	t.Logf("db-1 cut off and db-2 promoted; writes resumed %s after the promotion; %s",
		resumed.Sub(promoted).Round(time.Millisecond), summarize(outcomes, time.Time{}))
	if took := resumed.Sub(promoted); took > failoverTimeout {
		t.Errorf("writes resumed %s after the promotion, more than database.failover_timeout (%s)", took, failoverTimeout)
	}
	// Only the test starts these processes, so one that is still running is
	// the one that was: none exited to be restarted around the failover.
	for _, p := range append(tp.apps, tp.webs...) {
		if !p.running() {
			t.Errorf("guestbook %s stopped during the failover", p.name)
		}
	}
	for _, app := range tp.apps {
		waitMetric(t, app, `guestbook_store_writer{candidate="`+tp.replica.Addr()+`"} 1`, 5*time.Second)
	}
	l.check(t, tp.replica, "the promoted replica")
}

// promoteReplica makes db-2 the primary as an operator would: once it has
// applied every transaction it received from db-1, so that none is lost.
func promoteReplica(t *testing.T, tp *topology) {
	t.Helper()
	received := tp.replica.SlaveStatus(t)["Gtid_IO_Pos"]
	if got := tp.replica.QueryString(t, "SELECT MASTER_GTID_WAIT(?, 30)", received); got != "0" {
		t.Fatalf("db-2 did not apply what it received (%s) within 30s", received)
	}
	tp.replica.Promote(t)
}

// firstAckedWrite waits until a write that started after since is
// acknowledged and returns when it was, failing the test after timeout.
func (s *stream) firstAckedWrite(t *testing.T, since time.Time, timeout time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s.mu.Lock()
		var at time.Time
		for _, o := range s.outcomes {
			if o.write && !o.failed() && o.start.After(since) && (at.IsZero() || o.start.Add(o.took).Before(at)) {
				at = o.start.Add(o.took)
			}
		}
		s.mu.Unlock()
		if !at.IsZero() {
			return at
		}
		if time.Now().After(deadline) {
			t.Fatalf("no write acknowledged within %s of the promotion", timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
