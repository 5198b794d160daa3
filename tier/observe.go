package tier

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/guestbook/guestbook/tier/forwarded"
	"github.com/guestbook/guestbook/tier/metrics"
	"github.com/guestbook/guestbook/tier/reqlog"
)

// observe is the one middleware that watches every request, with one
// recorder of its answer: it counts and times the request in the metrics
// and writes its one access-log line. The route is the pattern that
// matched, recorded by the tier's mux as it served the request (reqlog), so
// neither needs a route match of its own.
//
// The line holds method, path, status, bytes, duration, the client's
// address (from forwarded headers only when a trusted proxy sent them), the
// request id that follows it across tiers, and, in the web role, the
// upstream that answered.
func observe(log *slog.Logger, m *metrics.Metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		m.Started()
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		fields := &reqlog.Fields{}
		// Deferred, so that a request whose handler panics (the reverse
		// proxy aborts a stream that broke mid-copy with
		// http.ErrAbortHandler) is still counted, leaves the in-flight
		// gauge and gets its line; the panic goes on to net/http.
		defer func() {
			if v := recover(); v != nil {
				if !rec.wrote {
					rec.status = http.StatusInternalServerError
				}
				finish(log, m, r, rec, fields, time.Since(start))
				panic(v)
			}
			finish(log, m, r, rec, fields, time.Since(start))
		}()
		next.ServeHTTP(rec, r.WithContext(reqlog.With(r.Context(), fields)))
	})
}

// finish counts the request and writes its access-log line.
func finish(log *slog.Logger, m *metrics.Metrics, r *http.Request, rec *recorder, fields *reqlog.Fields, took time.Duration) {
	m.Finished(fields.Route(), r.Method, rec.status, took)
	level := slog.LevelInfo
	if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" {
		level = slog.LevelDebug // a balancer asks every few seconds: not news
	}
	if !log.Enabled(r.Context(), level) {
		return
	}
	info := forwarded.From(r.Context())
	attrs := []any{"method", r.Method, "path", r.URL.Path, "status", rec.status,
		"bytes", rec.bytes, "duration", took, "client", info.Client, "request_id", info.ID}
	if up := fields.Upstream(); up != "" {
		attrs = append(attrs, "upstream", up)
	}
	log.Log(r.Context(), level, "request", attrs...)
}

// recorder notes the status and size of a response as it is written.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool // the header has gone
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote && code >= 200 {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(p []byte) (int, error) {
	r.wrote = true
	n, err := r.ResponseWriter.Write(p)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection underneath.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }
