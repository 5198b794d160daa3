// Package reqlog lets the layers that handle a request add what only they
// know (the route that matched, the upstream the web tier chose) to its one
// access-log line and its metrics.
package reqlog

import (
	"context"
	"sync/atomic"
)

// Fields are the access-log fields that inner layers fill in.
type Fields struct {
	upstream atomic.Pointer[string]
	route    atomic.Pointer[string]
}

type ctxKey struct{}

// With returns ctx carrying f.
func With(ctx context.Context, f *Fields) context.Context {
	return context.WithValue(ctx, ctxKey{}, f)
}

// SetUpstream records the upstream that served the request, if ctx carries
// fields; the last call wins (a retry replaces the failed attempt).
func SetUpstream(ctx context.Context, name string) {
	if f, ok := ctx.Value(ctxKey{}).(*Fields); ok {
		f.upstream.Store(&name)
	}
}

// Upstream is the upstream recorded, or "".
func (f *Fields) Upstream() string {
	if p := f.upstream.Load(); p != nil {
		return *p
	}
	return ""
}

// SetRoute records the route pattern that served the request (r.Pattern
// after its mux ran), if ctx carries fields and pattern is not empty. The
// first call wins: the innermost mux returns first, so in role all the app
// tier's "GET /visitor/visitor_detail/{id}" is kept, not the web tier's
// "/visitor/" around it.
func SetRoute(ctx context.Context, pattern string) {
	if pattern == "" {
		return
	}
	if f, ok := ctx.Value(ctxKey{}).(*Fields); ok {
		f.route.CompareAndSwap(nil, &pattern)
	}
}

// Unmatched is the route of a request that matched no route.
const Unmatched = "unmatched"

// Route is the route pattern recorded, or Unmatched when no route served
// the request (one refused before any mux saw it): a pattern, never a raw
// path, so that ids can't explode the metrics' label set.
func (f *Fields) Route() string {
	if p := f.route.Load(); p != nil {
		return *p
	}
	return Unmatched
}
