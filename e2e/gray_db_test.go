package e2e

import (
	"net/http"
	"testing"
	"time"
)

// Gray failures of the database tier: a server that still holds its
// connections open but answers nothing (SIGSTOP: a stalled disk, a frozen
// VM). The app tier abandons each query after database.query_timeout, or
// sooner when the web tier's budget for the attempt runs out.

// dbReadPaths are pages that each run a query (read uncached, so that
// each does).
var dbReadPaths = []string{"/visitor/visitor_list/", "/visitor/api/entries?limit=5"}

func TestAFrozenReplicaFailsNoReadAndRejoinsWhenWoken(t *testing.T) {
	tp := startTopology(t, topologyOptions{})
	l := newLedger()
	replica := tp.replica.Addr()
	s := startStream(tp.base, l, streamSpec{detail: tp.first, workers: 4, writeEvery: 10, pause: 5 * time.Millisecond, paths: dbReadPaths, uncached: true})
	s.waitFor(t, 100)

	frozen := time.Now()
	tp.replica.Freeze(t)
	for _, app := range tp.apps {
		waitMetric(t, app, `guestbook_replica_healthy{replica="`+replica+`"} 0`, dbHealthInterval+dbQueryTimeout+time.Second)
	}
	left := time.Now()
	s.waitFor(t, 200)
	thawed := time.Now()
	tp.replica.Thaw(t)
	tp.replica.WaitCaughtUp(t, tp.primary)
	for _, app := range tp.apps {
		waitMetric(t, app, `guestbook_replica_healthy{replica="`+replica+`"} 1`, 15*time.Second)
	}
	rejoined := time.Now()
	s.waitFor(t, 100)
	outcomes := s.stop()

	limit := dbQueryTimeout + 300*time.Millisecond
	frozenReads := readsOf(between(outcomes, frozen, thawed))
	fromReplica := 0
	for _, o := range after(outcomes, rejoined) {
		if !o.write && o.db == "replica-1" {
			fromReplica++
		}
	}
	t.Logf("db-2 frozen; both apps took it out of the rotation in %s; frozen: %s, reads p99 %s, slowest %s; "+
		"woken, it rejoined in %s and served %d reads after", left.Sub(frozen).Round(time.Millisecond),
		summarize(between(outcomes, frozen, thawed), time.Time{}), percentile(durations(frozenReads), 99),
		slowest(durations(frozenReads)), rejoined.Sub(thawed).Round(time.Millisecond), fromReplica)
	if failed := summarize(outcomes, time.Time{}).failedReads(); len(failed) > 0 {
		t.Errorf("%d reads failed with the replica frozen:%s", len(failed), first(failed, 10))
	}
	if slow := slowerThan(frozenReads, limit); len(slow) > 0 {
		t.Errorf("%d reads took longer than database.query_timeout (%s) and a margin with the replica frozen:%s",
			len(slow), dbQueryTimeout, firstTimed(slow, 10))
	}
	if fromReplica == 0 {
		t.Errorf("db-2 served no read after it rejoined the rotation")
	}
	l.check(t, tp.primary, "primary")
	tp.replica.WaitCaughtUp(t, tp.primary)
	l.check(t, tp.replica, "replica")
}

func TestAFrozenPrimaryRefusesWritesInTimeAndReadsGoOnFromTheReplica(t *testing.T) {
	tp := startTopology(t, topologyOptions{})
	l := newLedger()
	s := startStream(tp.base, l, streamSpec{detail: tp.first, workers: 4, writeEvery: 3, pause: 5 * time.Millisecond, paths: dbReadPaths, uncached: true})
	s.waitFor(t, 60)

	// Frozen for longer than database.max_replica_lag (2s): the replica's
	// lag, read from the heartbeat the frozen primary no longer takes,
	// passes it, and it must go on serving reads all the same.
	frozen := time.Now()
	tp.primary.Freeze(t)
	time.Sleep(time.Second)
	// Keyed writes too are refused: the web tier passes a 503 on rather
	// than send it to another instance, whose database is the same.
	retriesBefore := webRetries(t, tp)
	burst := writeBurst(tp.base, l, 4)
	retried := webRetries(t, tp) - retriesBefore
	time.Sleep(2 * time.Second)
	// An app instance whose database is frozen answers: it stays in the
	// rotation.
	for _, w := range tp.webs {
		for _, app := range tp.apps {
			if v := metricValue(t, w, `guestbook_upstream_healthy{upstream="http://`+app.addr+`"}`); v != 1 {
				t.Errorf("%s took %s out of the rotation because its database was frozen", w.name, app.name)
			}
		}
	}
	thawed := time.Now()
	tp.primary.Thaw(t)
	resumed := s.firstAckedWrite(t, thawed, failoverTimeout)
	s.waitFor(t, 60)
	outcomes := append(s.stop(), burst...)

	limit := dbQueryTimeout + 300*time.Millisecond
	var writes, refused, fromReplica int
	var bad, late []outcome
	for _, o := range between(outcomes, frozen, thawed) {
		switch {
		case !o.write:
			if o.db == "replica-1" {
				fromReplica++
			}
		case o.start.Add(o.took).After(thawed):
			// Answered once the primary was back: it may rightly be stored.
		default:
			writes++
			if o.err != nil || o.status != http.StatusServiceUnavailable || o.retryAfter == "" {
				bad = append(bad, o)
			} else {
				refused++
			}
			if o.took > limit {
				late = append(late, o)
			}
		}
	}
	frozenReads := readsOf(between(outcomes, frozen, thawed))
	t.Logf("db-1 frozen for 3s: %d writes answered meanwhile, %d of them 503 with Retry-After, p50 %s, slowest %s; "+
		"%d reads, %d of them from db-2, slowest %s; writes resumed %s after it was woken; "+
		"the web tier sent %d attempts again during a burst of keyed writes",
		writes, refused, percentile(durations(writesOf(between(outcomes, frozen, thawed))), 50),
		slowest(durations(writesOf(between(outcomes, frozen, thawed)))), len(frozenReads), fromReplica,
		slowest(durations(frozenReads)), resumed.Sub(thawed).Round(time.Millisecond), retried)
	if writes < 10 {
		t.Fatalf("only %d writes were answered while the primary was frozen: the stream did not run", writes)
	}
	if len(bad) > 0 {
		t.Errorf("%d writes with the primary frozen got something else than 503 with Retry-After:%s", len(bad), firstTimed(bad, 10))
	}
	if len(late) > 0 {
		t.Errorf("%d writes took longer than database.query_timeout (%s) and a margin to be refused:%s",
			len(late), dbQueryTimeout, firstTimed(late, 10))
	}
	if failed := summarize(outcomes, time.Time{}).failedReads(); len(failed) > 0 {
		t.Errorf("%d reads failed with the primary frozen:%s", len(failed), first(failed, 10))
	}
	if len(frozenReads) < 50 || fromReplica < len(frozenReads) {
		t.Errorf("db-2 served %d of %d reads while the primary was frozen, want them", fromReplica, len(frozenReads))
	}
	// Every acknowledged write is there once; a refused one at most once (the
	// frozen server may apply what it had received when it wakes).
	l.check(t, tp.primary, "primary")
}

func writesOf(outcomes []outcome) []outcome {
	var out []outcome
	for _, o := range outcomes {
		if o.write {
			out = append(out, o)
		}
	}
	return out
}
