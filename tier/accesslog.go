package tier

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/guestbook/guestbook/tier/forwarded"
	"github.com/guestbook/guestbook/tier/reqlog"
)

// accessLog writes one line per request: method, path, status, bytes,
// duration, the client's address (from forwarded headers only when a trusted
// proxy sent them), the request id that follows it across tiers, and, in the
// web role, the upstream that answered.
func accessLog(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !log.Enabled(r.Context(), slog.LevelInfo) {
			next.ServeHTTP(w, r) // no line to write: skip the bookkeeping too
			return
		}
		start := time.Now()
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		fields := &reqlog.Fields{}
		next.ServeHTTP(rec, r.WithContext(reqlog.With(r.Context(), fields)))
		info := forwarded.From(r.Context())
		attrs := []any{"method", r.Method, "path", r.URL.Path, "status", rec.status,
			"bytes", rec.bytes, "duration", time.Since(start), "client", info.Client, "request_id", info.ID}
		if up := fields.Upstream(); up != "" {
			attrs = append(attrs, "upstream", up)
		}
		level := slog.LevelInfo
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
			level = slog.LevelDebug // a balancer asks every few seconds: not news
		}
		log.Log(r.Context(), level, "request", attrs...)
	})
}

// recorder notes the status and size of a response as it is written.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *recorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection underneath.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
