// Package e2e holds tests of the whole guestbook as its users meet it: a
// real browser on real listeners. It has no code of its own.
package e2e
