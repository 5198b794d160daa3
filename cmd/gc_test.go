package cmd

import (
	"os"
	"runtime/debug"
	"testing"
)

func TestServeCapsMemoryUnlessTheOperatorSetsItsOwn(t *testing.T) {
	oldPercent, oldLimit := debug.SetGCPercent(100), debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetGCPercent(oldPercent); debug.SetMemoryLimit(oldLimit) })

	unsetenv(t, "GOGC")
	unsetenv(t, "GOMEMLIMIT")
	tuneGC()
	if got := debug.SetGCPercent(-1); got != serveGCPercent {
		t.Errorf("GC percent = %d, want %d", got, serveGCPercent)
	}
	if got := debug.SetMemoryLimit(-1); got != serveMemoryLimit {
		t.Errorf("memory limit = %d, want %d", got, serveMemoryLimit)
	}

	debug.SetGCPercent(100)
	debug.SetMemoryLimit(1 << 40)
	t.Setenv("GOGC", "100")
	t.Setenv("GOMEMLIMIT", "1TiB")
	tuneGC()
	if got := debug.SetGCPercent(-1); got != 100 {
		t.Errorf("with GOGC set, GC percent = %d, want the operator's 100", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 1<<40 {
		t.Errorf("with GOMEMLIMIT set, memory limit = %d, want the operator's", got)
	}
}

// unsetenv removes key for this test and puts it back after.
func unsetenv(t *testing.T, key string) {
	t.Helper()
	if old, ok := os.LookupEnv(key); ok {
		t.Cleanup(func() { os.Setenv(key, old) })
	}
	os.Unsetenv(key)
}
