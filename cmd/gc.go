package cmd

import (
	"os"
	"runtime/debug"
)

// serveGCPercent is the GC target of serve when GOGC is not set. A serving
// process keeps a live heap of a few MB and allocates per request; at Go's
// default of 100 it collects every few MB, which costs a quarter of the
// throughput of small responses. 400 trades about 10 MB of memory for that.
// GOGC and GOMEMLIMIT, when set, win.
const serveGCPercent = 400

func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(serveGCPercent)
	}
}
