package tier

import (
	"net"
	"net/http"
)

// LimitConns bounds l to max connections open at once, as Open bounds its
// listeners, and returns the hook its server must call from ConnState.
func LimitConns(l net.Listener, max int) (net.Listener, func(net.Conn, http.ConnState)) {
	limited := limitConns(l, max)
	return limited, limited.ConnState
}
