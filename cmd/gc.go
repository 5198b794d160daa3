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
// its live heap plus this much rather than five times its live heap. It is
// a soft limit: a live heap larger than this still works, with the
// collector busier (the runtime caps it at half the CPU). So it must sit
// well above what a process holds live at its busiest, or the collector
// runs without pause exactly when the process is fullest, capacity halves,
// and a brief overload stays an overload. At its bounds (tier.MaxConnections
// open, the concurrency ceilings reached) a web process holds about 20 MB
// live; at 24 MiB it collected 50 times a second under an overload and
// answered an eighth of what it did at 40 MiB, with 1 GC a second. With the
// binary's own pages (about 12 MB resident outside the heap) a serving
// process stays under 55 MB.
const serveMemoryLimit = 40 << 20

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
