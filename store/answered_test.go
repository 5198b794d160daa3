package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/store"
	"github.com/guestbook/guestbook/store/storetest"
)

// answeredBy runs read with a fresh Answered in its context and returns the
// server it recorded.
func answeredBy(t *testing.T, ctx context.Context, read func(context.Context) error) store.Server {
	t.Helper()
	var a store.Answered
	if err := read(store.RecordAnswers(ctx, &a)); err != nil {
		t.Fatal(err)
	}
	s, ok := a.Server()
	if !ok {
		t.Fatal("no server recorded for a query that ran")
	}
	return s
}

func TestTheStoreSaysWhichNamedServerAnsweredAndHowStaleItWas(t *testing.T) {
	r := openReplicated(t, func(c *config.Database) {
		c.PrimaryName, c.ReplicaNames = "db-seoul-a", []string{"db-seoul-c"}
	})
	list := func(ctx context.Context) error { _, err := r.db.ListEntries(ctx, 0, 20); return err }
	create := func(ctx context.Context) error { _, err := r.db.CreateEntry(ctx, draft(1), "s"); return err }

	got := answeredBy(t, context.Background(), list)
	if got.Name != "db-seoul-c" || got.Role != store.RoleReplica {
		t.Errorf("a read answered by %+v, want the replica db-seoul-c", got)
	}
	if got.Lag <= 0 || got.Lag > time.Second {
		t.Errorf("the replica's lag when it answered = %s, want the measured one: small and positive", got.Lag)
	}
	if got := answeredBy(t, store.ReadPrimary(context.Background()), list); got != (store.Server{Name: "db-seoul-a", Role: store.RolePrimary}) {
		t.Errorf("a read after a write answered by %+v, want the primary db-seoul-a with no lag", got)
	}
	if got := answeredBy(t, context.Background(), create); got != (store.Server{Name: "db-seoul-a", Role: store.RolePrimary}) {
		t.Errorf("a write answered by %+v, want the primary db-seoul-a", got)
	}

	r.replica.Stop(t)
	r.waitReplica(t, false)
	if got := answeredBy(t, context.Background(), list); got.Name != "db-seoul-a" || got.Role != store.RolePrimary {
		t.Errorf("with the replica stopped a read answered by %+v, want the primary", got)
	}
	r.replica.Start(t)
	r.waitReplica(t, true)
	if got := answeredBy(t, context.Background(), list); got.Name != "db-seoul-c" {
		t.Errorf("with the replica back a read answered by %+v, want the replica again", got)
	}
}

func TestUnnamedServersAreCalledByTheirRoleAndNumber(t *testing.T) {
	r := openReplicated(t, nil)
	want := map[string]string{store.RolePrimary: "primary", store.RoleReplica: "replica-1"}
	for _, b := range r.db.Stats().Backends {
		if b.Label != want[b.Role] {
			t.Errorf("the %s is called %q, want %q", b.Role, b.Label, want[b.Role])
		}
	}
}

func TestAQueryWithoutARecorderRecordsNothingAndANotFoundStillNamesItsServer(t *testing.T) {
	db, _ := storetest.Open(t, "sqlite")
	if _, err := db.ListEntries(context.Background(), 0, 20); err != nil {
		t.Fatalf("a read with no Answered in its context: %v", err)
	}
	var a store.Answered
	if _, ok := a.Server(); ok {
		t.Error("an Answered no query used says a server answered")
	}
	if _, err := db.GetEntry(store.RecordAnswers(context.Background(), &a), 404); err == nil {
		t.Fatal("got an entry that does not exist")
	}
	if s, ok := a.Server(); !ok || s != (store.Server{Name: "primary", Role: store.RolePrimary}) {
		t.Errorf("a not-found answered by %+v (%v), want the SQLite file as the primary", s, ok)
	}
}
