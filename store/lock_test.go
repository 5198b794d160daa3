//go:build unix

package store

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestLockFileWaitsForTheHolderAndGivesUpWithItsContext(t *testing.T) {
	path := filepath.Join(t.TempDir(), "guestbook.db")
	unlock, err := lockFile(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := lockFile(ctx, path); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second lock while held = %v, want it to give up when its context ends", err)
	}
	got := make(chan error, 1)
	go func() {
		u, err := lockFile(context.Background(), path)
		if err == nil {
			u()
		}
		got <- err
	}()
	time.Sleep(100 * time.Millisecond)
	unlock()
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("lock after release: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting lock was not granted after the holder released it")
	}
}
