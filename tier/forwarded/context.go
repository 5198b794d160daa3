package forwarded

import (
	"context"
	"net/http"
	"net/netip"
)

// Info is what a tier knows about a request's origin.
type Info struct {
	ID     string     // the request id, made at the edge and passed on
	Client netip.Addr // the client's address, as far as trusted headers tell
	Proto  string     // "https" or "http", as the client used it
}

type ctxKey struct{}

// With returns ctx carrying info.
func With(ctx context.Context, info Info) context.Context {
	return context.WithValue(ctx, ctxKey{}, info)
}

// From returns the Info that With stored, or the zero Info.
func From(ctx context.Context) Info {
	info, _ := ctx.Value(ctxKey{}).(Info)
	return info
}

// HTTPS reports whether the client reached us over TLS, here or at a
// trusted proxy that terminated it.
func HTTPS(r *http.Request) bool {
	return r.TLS != nil || From(r.Context()).Proto == "https"
}

// IDFrom is the request id in ctx, or a new one when there is none.
func IDFrom(ctx context.Context) string {
	if id := From(ctx).ID; id != "" {
		return id
	}
	return NewRequestID()
}

// Middleware records each request's id and client in its context, believing
// forwarded headers only from t, and answers with the id in X-Request-Id so a
// user can quote it.
func (t Trusted) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		info := Info{ID: t.RequestID(r), Client: t.ClientIP(r), Proto: t.Proto(r)}
		w.Header()[HeaderRequestID] = []string{info.ID}
		next.ServeHTTP(w, r.WithContext(With(r.Context(), info)))
	})
}
