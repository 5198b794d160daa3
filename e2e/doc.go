// Package e2e holds tests of the whole guestbook as its users meet it. It
// has no code of its own.
//
// The browser tests drive a headless Chromium against role all in-process.
// The system tests build the binary and run the original's machines as real
// processes: a MariaDB primary and its GTID replica, guestbook migrate, two
// app instances, two web instances and a load balancer in front of them. As
// root with ip (iproute2) each machine is a network namespace of its own on
// a private 10.77.x.0/24, and a fault is a cut link; otherwise, or with
// GBTEST_LOOPBACK set, they share loopback. On that system they go through
// every page, kill an app instance, cut off the replica, fail the primary
// over, restart a web instance, run a load (GBTEST_LOAD_DURATION, 12s by
// default), send a burst past the tiers' concurrency limits, try bad input
// and visit in Chromium (screenshots under GBTEST_ARTIFACTS, or go test
// -artifacts); after each, every write a client saw acknowledged must be in
// the database exactly once.
package e2e
