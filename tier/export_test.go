package tier

import (
	"log/slog"
	"net"
	"net/http"
)

// LimitedServer is a server for l bounded to max connections and overflow
// more for a request each, as Open serves its listeners.
func LimitedServer(l net.Listener, max, overflow int, h http.Handler) (net.Listener, *http.Server) {
	limited := limitConns(l, max, overflow)
	srv := newServer(h, limited, slog.New(slog.DiscardHandler))
	return limited, srv
}
