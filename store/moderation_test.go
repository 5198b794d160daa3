package store_test

import (
	"errors"
	"testing"

	"github.com/guestbook/guestbook/store"
)

func pending(d store.Draft) store.Draft {
	d.Pending = true
	return d
}

func TestAPendingEntryIsInNoPublicReadUntilApproved(t *testing.T) {
	eachDriver(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		public := mustCreate(t, db, draft(1), "s")
		waiting := mustCreate(t, db, pending(draft(2)), "s")
		keyedWaiting, _ := mustCreateOnce(t, db, keyed("k-pending", pending(draft(3))), "s")
		if !waiting.Pending || !keyedWaiting.Pending || public.Pending {
			t.Fatalf("created pending %v, %v and %v, want true, true, false", waiting.Pending, keyedWaiting.Pending, public.Pending)
		}
		// A resend of the keyed create answers as the first did: waiting.
		again, created, err := db.CreateEntryOnce(ctx, keyed("k-pending", pending(draft(3))), "s")
		if err != nil || created || again.ID != keyedWaiting.ID || !again.Pending {
			t.Fatalf("resend = %+v, %v, %v; want entry %d, not created, pending", again, created, err, keyedWaiting.ID)
		}
		for _, id := range []int64{waiting.ID, keyedWaiting.ID} {
			if _, err := db.GetEntry(ctx, id); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("GetEntry(%d) of a waiting entry: %v, want ErrNotFound", id, err)
			}
		}
		ids := func() []int64 {
			p, err := db.ListEntries(store.ReadPrimary(ctx), 0, store.MaxPage)
			if err != nil {
				t.Fatal(err)
			}
			var out []int64
			for _, e := range p.Entries {
				out = append(out, e.ID)
			}
			return out
		}
		if got := ids(); len(got) != 1 || got[0] != public.ID {
			t.Fatalf("list %v, want only %d", got, public.ID)
		}
		waitingOnly, err := db.AdminEntries(ctx, 0, store.MaxPage, true)
		if err != nil || len(waitingOnly.Entries) != 2 {
			t.Fatalf("admin's waiting entries: %+v, %v; want 2", waitingOnly, err)
		}
		n, err := db.ApproveEntries(ctx, []int64{waiting.ID, public.ID})
		if err != nil || n != 1 {
			t.Fatalf("ApproveEntries = %d, %v; want 1 (the public one was approved already)", n, err)
		}
		if got := ids(); len(got) != 2 || got[0] != waiting.ID {
			t.Errorf("list after approval %v, want %d first, then %d", got, waiting.ID, public.ID)
		}
		if got, err := db.GetEntry(ctx, waiting.ID); err != nil || got.Pending {
			t.Errorf("GetEntry after approval: %+v, %v", got, err)
		}
	})
}

func TestTheAdminSeesEveryEntryWithEmailAndSourcePageByPage(t *testing.T) {
	eachDriver(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		var made []store.Entry
		for i := range 5 {
			made = append(made, mustCreate(t, db, from(sender("alice", 0), i), "s"))
		}
		made = append(made, mustCreate(t, db, pending(draft(9)), "s"))
		p, err := db.AdminEntries(ctx, 0, 4, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Entries) != 4 || p.Entries[0].ID != made[5].ID || p.NextBefore != p.Entries[3].ID {
			t.Fatalf("first page %+v", p)
		}
		if first := p.Entries[0]; !first.Pending || first.ClientHash.Valid || first.Email != "v9@example.com" {
			t.Errorf("newest %+v, want the pending one with its email and no source", first)
		}
		if second := p.Entries[1]; second.ClientHash.String != "alice" || second.Pending {
			t.Errorf("second %+v, want alice's, approved", second)
		}
		rest, err := db.AdminEntries(ctx, p.NextBefore, 4, false)
		if err != nil || len(rest.Entries) != 2 || rest.NextBefore != 0 {
			t.Fatalf("second page %+v, %v; want the last 2", rest, err)
		}
	})
}

func TestDeletingASourceDeletesEveryEntryOfItsClientAndNoOther(t *testing.T) {
	eachDriver(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		for i := range 3 {
			mustCreate(t, db, from(sender("spammer", 0), i), "s")
		}
		mustCreate(t, db, pending(from(sender("spammer", 0), 3)), "s")
		kept := mustCreate(t, db, from(sender("neighbour", 0), 4), "s")
		none := mustCreate(t, db, draft(5), "s")
		count, newest, err := db.SourceEntries(ctx, "spammer", 2)
		if err != nil || count != 4 || len(newest) != 2 {
			t.Fatalf("SourceEntries = %d, %d entries, %v; want 4 counted, the newest 2 read", count, len(newest), err)
		}
		n, err := db.DeleteSource(ctx, "spammer")
		if err != nil || n != 4 {
			t.Fatalf("DeleteSource = %d, %v; want 4", n, err)
		}
		if _, _, err := db.SourceEntries(ctx, "spammer", 2); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("SourceEntries after the delete: %v, want ErrNotFound", err)
		}
		p, err := db.AdminEntries(ctx, 0, store.MaxPage, false)
		if err != nil || len(p.Entries) != 2 || p.Entries[0].ID != none.ID || p.Entries[1].ID != kept.ID {
			t.Fatalf("left %+v, %v; want the neighbour's and the one without a source", p.Entries, err)
		}
		if _, err := db.DeleteSource(ctx, ""); err == nil {
			t.Error("DeleteSource of no hash succeeded: it must never name the entries without one")
		}
	})
}

func TestDeleteEntriesDeletesTheSelectedAndCountsOnlyThoseThatWereThere(t *testing.T) {
	eachDriver(t, func(t *testing.T, db *store.DB) {
		ctx := t.Context()
		a := mustCreate(t, db, draft(1), "s")
		b := mustCreate(t, db, pending(draft(2)), "s")
		c := mustCreate(t, db, draft(3), "s")
		n, err := db.DeleteEntries(ctx, []int64{a.ID, b.ID, 999999})
		if err != nil || n != 2 {
			t.Fatalf("DeleteEntries = %d, %v; want 2", n, err)
		}
		p, err := db.AdminEntries(ctx, 0, store.MaxPage, false)
		if err != nil || len(p.Entries) != 1 || p.Entries[0].ID != c.ID {
			t.Fatalf("left %+v, %v; want only %d", p.Entries, err, c.ID)
		}
		if _, err := db.DeleteEntries(ctx, nil); err == nil {
			t.Error("DeleteEntries of no ids succeeded")
		}
	})
}
