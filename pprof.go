//go:build pprof

package main

// Built with -tags pprof, the binary serves the runtime's profiles on
// PPROF_LISTEN (a loopback address such as 127.0.0.1:6060), for the
// profiles in docs/benchmarks.md. Never in a release build: a profile shows
// the code's insides to whoever can reach it.

import (
	"log"
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	addr := os.Getenv("PPROF_LISTEN")
	if addr == "" {
		return
	}
	go func() { log.Println(http.ListenAndServe(addr, nil)) }()
}
