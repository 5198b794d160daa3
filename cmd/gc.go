package cmd

import (
	"os"
	"runtime/debug"
)

// serveGCPercent is the GC target of serve when GOGC is not set. A serving
// process keeps a live heap of a few MB and allocates per request; at Go's
// default of 100 it collects every few MB, which costs a quarter of the
// throughput of small responses. 400 trades heap for that.
const serveGCPercent = 400

// serveMemoryLimit caps what GOGC=400 may trade: as the runtime's memory
// nears it, the collector runs sooner, so a process under load stays near
// its live heap plus this much rather than five times its live heap. With
// the binary's own pages (about 15 MB resident) a serving process stays
// under 40 MB. It is a soft limit: a live heap larger than this still
// works, with the collector busier (the runtime caps it at half the CPU).
const serveMemoryLimit = 24 << 20

// tuneGC sets both unless GOGC or GOMEMLIMIT say otherwise: an operator's
// own setting always wins.
func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(serveGCPercent)
	}
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(serveMemoryLimit)
	}
}
