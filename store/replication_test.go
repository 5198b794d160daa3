package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/store"
	"github.com/guestbook/guestbook/store/storetest"
)

// replicated is a store on a private primary and replica pair with real
// GTID replication, connected as an application user with no SUPER and no
// REPLICATION CLIENT.
type replicated struct {
	primary, replica *storetest.Server
	cfg              config.Database
	db               *store.DB
}

func openReplicated(t *testing.T, change func(*config.Database)) *replicated {
	t.Helper()
	cfg, primary, replica := storetest.PairConfig(t)
	if change != nil {
		change(&cfg)
	}
	r := &replicated{primary: primary, replica: replica, cfg: cfg}
	r.db = openRunning(t, cfg)
	if len(cfg.Replicas) > 0 {
		r.waitReplica(t, true)
	}
	return r
}

// openRunning opens a store and runs its health loop until the test ends.
func openRunning(t *testing.T, cfg config.Database) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), cfg, store.Options{Log: storetest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { db.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done; db.Close() })
	return db
}

func (r *replicated) replicaStats() store.BackendStats {
	for _, b := range r.db.Stats().Backends {
		if b.Role == "replica" {
			return b
		}
	}
	panic("no replica in stats")
}

// waitReplica waits until the replica is (or is not) in the read rotation.
func (r *replicated) waitReplica(t *testing.T, healthy bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for r.replicaStats().Healthy != healthy {
		if time.Now().After(deadline) {
			t.Fatalf("replica healthy = %v after 10s, want %v (stats %+v)", !healthy, healthy, r.db.Stats())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestReadsGoToTheReplicaAndWritesToThePrimary(t *testing.T) {
	r := openReplicated(t, nil)
	// A row only the replica has (root may write on a read-only server):
	// seeing it proves the read went there.
	r.replica.Exec(t, "INSERT INTO gb.entries (id, name, email, day, content, created_at, delete_hash) "+
		"VALUES (1000000, 'only-on-replica', 'r@example.com', 'd', 'c', UTC_TIMESTAMP(6), '')")
	page, err := r.db.ListEntries(context.Background(), 0, 20)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) != 1 || page.Entries[0].Name != "only-on-replica" {
		t.Fatalf("list read %+v, want the replica's own row", page.Entries)
	}
	e, err := r.db.CreateEntry(context.Background(), draft(1), "s")
	if err != nil {
		t.Fatal(err)
	}
	if got := r.primary.QueryString(t, fmt.Sprintf("SELECT name FROM gb.entries WHERE id = %d", e.ID)); got != e.Name {
		t.Errorf("the write is not on the primary: %q", got)
	}
	if s := r.replicaStats(); s.Reads == 0 || s.Writes != 0 {
		t.Errorf("replica stats %+v: want reads and no writes", s)
	}
	if lag := r.replicaStats().Lag; lag <= 0 || lag > time.Second {
		t.Errorf("replica lag %s: want it measured, small and positive", lag)
	}
}

func TestAStoppedReplicaCostsNoReadAnError(t *testing.T) {
	// Checks 2 s apart: the reads below come right after the kill, before
	// the next check, so only the failed reads themselves can notice.
	r := openReplicated(t, func(c *config.Database) {
		c.HealthInterval, c.MaxReplicaLag = 2*time.Second, 10*time.Second // the lag allowance must exceed a heartbeat's period
	})
	if _, err := r.db.CreateEntry(context.Background(), draft(1), "s"); err != nil {
		t.Fatal(err)
	}
	r.replica.WaitCaughtUp(t, r.primary)
	r.replica.Kill(t)
	for i := 0; i < 20; i++ {
		page, err := r.db.ListEntries(context.Background(), 0, 20)
		if err != nil || len(page.Entries) != 1 {
			t.Fatalf("read %d with the replica dead: %+v, %v", i, page.Entries, err)
		}
	}
	if r.replicaStats().Healthy {
		t.Error("a replica that does not answer is still in the rotation")
	}
}

func TestALaggingReplicaLeavesTheRotationAndComesBack(t *testing.T) {
	r := openReplicated(t, nil)
	r.replica.PauseReplication(t)
	r.waitReplica(t, false) // lag passes database.max_replica_lag (1s)
	e, err := r.db.CreateEntry(context.Background(), draft(1), "s")
	if err != nil {
		t.Fatal(err)
	}
	// With the replica out, reads are the primary's: the new entry shows.
	if got, err := r.db.GetEntry(context.Background(), e.ID); err != nil || got.ID != e.ID {
		t.Fatalf("read while the replica lags: %+v, %v", got, err)
	}
	r.replica.ResumeReplication(t)
	r.replica.WaitCaughtUp(t, r.primary)
	r.waitReplica(t, true)
}

func TestReadYourWritesWhileReplicationIsPaused(t *testing.T) {
	// A lag allowance long enough that the paused replica stays in rotation.
	r := openReplicated(t, func(c *config.Database) { c.MaxReplicaLag = time.Minute })
	r.replica.PauseReplication(t)
	e, err := r.db.CreateEntry(context.Background(), draft(1), "s")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.db.GetEntry(store.ReadPrimary(context.Background()), e.ID); err != nil {
		t.Errorf("the writer does not see its own entry: %v", err)
	}
	if _, err := r.db.GetEntry(context.Background(), e.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("another client sees the entry before it is replicated (err %v): the read did not go to the replica", err)
	}
	r.replica.ResumeReplication(t)
	r.replica.WaitCaughtUp(t, r.primary)
	if _, err := r.db.GetEntry(context.Background(), e.ID); err != nil {
		t.Errorf("after replication caught up: %v", err)
	}
}

// writer creates entries one after another until stopped, and remembers
// which the store acknowledged.
type writer struct {
	mu    sync.Mutex
	acked []store.Entry
	fails int
	stop  chan struct{}
	done  chan struct{}
}

func startWriter(t *testing.T, db *store.DB, from int) *writer {
	w := &writer{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		for i := from; ; i++ {
			select {
			case <-w.stop:
				return
			default:
			}
			e, err := db.CreateEntry(context.Background(), draft(i), "s")
			w.mu.Lock()
			if err == nil {
				w.acked = append(w.acked, e)
			} else {
				if !errors.Is(err, store.ErrUnavailable) {
					t.Errorf("write %d failed with %v, want ErrUnavailable", i, err)
				}
				w.fails++
			}
			w.mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return w
}

func (w *writer) halt() { close(w.stop); <-w.done }

func (w *writer) ackedCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.acked)
}

func TestFailoverToAPromotedReplicaKeepsEveryAcknowledgedWriteOnce(t *testing.T) {
	r := openReplicated(t, nil)
	// Both servers are candidates for the writer; the store picks the
	// writable one, now and after the failover.
	cfg := r.cfg
	cfg.Primary = r.cfg.Primary + "," + r.cfg.Replicas[0]
	cfg.FailoverTimeout = 5 * time.Second
	db := openRunning(t, cfg)

	before := startWriter(t, db, 1)
	time.Sleep(300 * time.Millisecond)
	before.halt()
	// Asynchronous replication: only what reached the replica survives the
	// primary (see README, "The window asynchronous replication leaves").
	r.replica.WaitCaughtUp(t, r.primary)

	r.primary.Kill(t)
	during := startWriter(t, db, 10000) // fails until a writer is found
	// Reads go on from the replica while nobody is writable, even once the
	// heartbeat it holds is older than the lag allowance (1s).
	for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if _, err := db.ListEntries(context.Background(), 0, 20); err != nil {
			t.Fatalf("a read failed while the primary was down: %v", err)
		}
	}
	promoted := time.Now()
	r.replica.Promote(t)
	deadline := promoted.Add(cfg.FailoverTimeout)
	n := during.ackedCount()
	for during.ackedCount() == n {
		if time.Now().After(deadline) {
			t.Fatalf("no write succeeded within %s of the promotion (stats %+v)", cfg.FailoverTimeout, db.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("writes resumed %s after the promotion", time.Since(promoted).Round(time.Millisecond))
	time.Sleep(200 * time.Millisecond)
	during.halt()
	if during.fails == 0 {
		t.Error("no write failed while there was no writer: the test did not see the outage")
	}
	if db.Stats().Writer != r.replica.Addr() {
		t.Errorf("writer is %q, want the promoted %s", db.Stats().Writer, r.replica.Addr())
	}

	// Every acknowledged write is on the new primary, exactly once.
	for _, e := range append(before.acked, during.acked...) {
		got := r.replica.QueryString(t, fmt.Sprintf("SELECT COUNT(*) FROM gb.entries WHERE id = %d AND name = '%s'", e.ID, e.Name))
		if got != "1" {
			t.Errorf("acknowledged entry %d (%s) is there %s times, want once", e.ID, e.Name, got)
		}
	}
	total := r.replica.QueryString(t, "SELECT COUNT(*) FROM gb.entries")
	if want := fmt.Sprint(len(before.acked) + len(during.acked)); total != want {
		t.Errorf("the new primary holds %s entries, %s were acknowledged", total, want)
	}
}

// TestAWriterThatTurnsReadOnlyIsLeftAndFoundAgain is what a single moving
// endpoint (an RDS or Aurora cluster endpoint after a failover) looks like
// from the store: the server behind the DSN refuses writes with 1290; the
// store drops those connections, answers 503, and writes go on once the
// endpoint is writable again, with no restart.
func TestAWriterThatTurnsReadOnlyIsLeftAndFoundAgain(t *testing.T) {
	r := openReplicated(t, func(c *config.Database) { c.Replicas = nil })
	if _, err := r.db.CreateEntry(context.Background(), draft(1), "s"); err != nil {
		t.Fatal(err)
	}
	r.primary.Exec(t, "SET GLOBAL read_only = ON")
	_, err := r.db.CreateEntry(context.Background(), draft(2), "s")
	if !errors.Is(err, store.ErrUnavailable) {
		t.Fatalf("write to a read-only writer = %v, want ErrUnavailable", err)
	}
	if w := r.db.Stats().Writer; w != "" {
		t.Errorf("writer still %q after it refused a write as read-only", w)
	}
	r.primary.Exec(t, "SET GLOBAL read_only = OFF")
	deadline := time.Now().Add(r.cfg.FailoverTimeout)
	for {
		if _, err := r.db.CreateEntry(context.Background(), draft(3), "s"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("writes did not resume within the failover timeout")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := r.primary.QueryString(t, "SELECT COUNT(*) FROM gb.entries"); got != "2" {
		t.Errorf("%s entries stored, want the two acknowledged", got)
	}
}

func TestACallersDeadlineDoesNotDropTheWriter(t *testing.T) {
	db, _ := storetest.Open(t, "mysql")
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	if _, err := db.CreateEntry(ctx, draft(1), "s"); err == nil {
		t.Fatal("a write with an expired context succeeded")
	}
	if db.Stats().Writer == "" {
		t.Fatal("one client's expired deadline made the store forget its writer")
	}
	if _, err := db.CreateEntry(context.Background(), draft(2), "s"); err != nil {
		t.Errorf("the next write failed: %v", err)
	}
}
