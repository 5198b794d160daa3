// Package reqlog lets the layers that handle a request add what only they
// know (such as the upstream the web tier chose) to its one access-log line.
package reqlog

import (
	"context"
	"sync/atomic"
)

// Fields are the access-log fields that inner layers fill in.
type Fields struct {
	upstream atomic.Pointer[string]
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
