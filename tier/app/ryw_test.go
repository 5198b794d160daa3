package app_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/guestbook/guestbook/store"
	"github.com/guestbook/guestbook/store/storetest"
	"github.com/guestbook/guestbook/tier/app"
)

// TestTheAuthorSeesTheNewEntryWhileTheReplicaLags posts through the app tier
// on a real primary and replica with replication paused: the author, sent to
// the list, finds the entry there; another browser does not see it yet.
func TestTheAuthorSeesTheNewEntryWhileTheReplicaLags(t *testing.T) {
	cfg, primary, replica := storetest.PairConfig(t)
	cfg.MaxReplicaLag = time.Minute // the paused replica stays in rotation
	db, err := store.Open(context.Background(), cfg, store.Options{Log: storetest.Logger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go db.Run(ctx)
	replica.WaitCaughtUp(t, primary)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if s := db.Stats(); len(s.Backends) == 2 && s.Backends[1].Healthy {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the replica never joined the rotation")
		}
	}

	srv := httptest.NewServer(app.New(db, app.Options{Log: storetest.Logger(t), ReadYourWrites: 5 * time.Second}))
	t.Cleanup(srv.Close)
	a := &testApp{Server: srv, db: db}
	replica.PauseReplication(t)

	author, other := a.browser(t), a.browser(t)
	r := a.postForm(t, author, "/visitor/visitor_create/", entryForm("작성자", "w@example.com", "", "방금 쓴 글"))
	wantStatus(t, r, http.StatusSeeOther)
	var ryw *http.Cookie
	for _, c := range r.Cookies() {
		if c.Name == "gb_ryw" {
			ryw = c
		}
	}
	if ryw == nil || ryw.MaxAge != 5 || !ryw.HttpOnly {
		t.Fatalf("read-your-writes cookie %+v, want HttpOnly for 5 s", ryw)
	}
	if r := a.get(t, author, "/visitor/visitor_list/"); !strings.Contains(r.body, "방금 쓴 글") {
		t.Error("the author does not find the new entry in the list")
	}
	if r := a.get(t, other, "/visitor/visitor_list/"); strings.Contains(r.body, "방금 쓴 글") {
		t.Error("another browser sees the entry before the replica has it: its read did not go to the replica")
	}
	replica.ResumeReplication(t)
	replica.WaitCaughtUp(t, primary)
	if r := a.get(t, other, "/visitor/visitor_list/"); !strings.Contains(r.body, "방금 쓴 글") {
		t.Error("once replicated, the other browser still does not see the entry")
	}
}

func TestNoReadYourWritesCookieWhenTurnedOff(t *testing.T) {
	a := newTestApp(t) // ReadYourWrites zero
	r := a.postForm(t, a.browser(t), "/visitor/visitor_create/", entryForm("a", "a@example.com", "", "b"))
	for _, c := range r.Cookies() {
		if c.Name == "gb_ryw" {
			t.Errorf("cookie %v set with read-your-writes off", c)
		}
	}
}
