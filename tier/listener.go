package tier

import (
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Connections a process serves at once, per listener. Each open connection
// costs a goroutine and net/http's buffers, about 16 KB resident while idle
// and 30 to 40 KB while its request is worked on; unbounded, an open-loop
// load past capacity makes its clients open thousands (every request that
// waits makes the client dial another) and memory follows the offered load
// instead of the admitted work. 1024 connections cost at most about 40 MB,
// and are twice what the tiers' default concurrency ceilings (512 for the
// web role, 128 for the app role) ever work on at once, so the rest are
// idle keep-alive connections that the limit can close. They are also two
// web instances' full pools to one app instance (web.MaxConnsPerHost).
//
// Past the limit, with none idle to close, up to MaxOverflowConnections
// more are let in for one request each (answered with Connection: close):
// a connection left to wait in the kernel's backlog would wait behind every
// other there, its client would give up and dial again, and the backlog
// would fill with connections already abandoned, so that nothing is
// answered in time (measured: under an open-loop overload, a listener that
// only waited answered one request in 400 within 10 s). Answered at once,
// even with a refusal, a client needs fewer connections, not more. Past
// both, a new connection waits in the backlog, costing no goroutine and no
// memory of ours, until one closes.
const (
	MaxConnections         = 1024
	MaxOverflowConnections = 256
	MaxMetricsConnections  = 64 // scrapers: one connection each
)

// newConnGrace is how long a connection may stay new (connected, no request
// read yet) before a full listener may close it to make room: long enough
// for a TLS handshake and a request to arrive, and a connection a browser
// opened speculatively and never used is closed before one that is idle.
const newConnGrace = time.Second

// limitListener keeps at most max connections open at once, and lets
// overflow more in for one request each. When it is full and a new
// connection has arrived, it closes the connection that has been idle
// longest (net/http tells it which are idle through ConnState),
// as Nginx closes keep-alive connections when it runs out of connections:
// a client that keeps an idle connection must not keep a new client out for
// IdleTimeout. With none idle, the new connection takes an overflow slot;
// with none of those, Accept waits until a connection closes or turns idle,
// and meanwhile further connections wait in the kernel's backlog.
//
// Closing an idle connection races with a client just then sending its next
// request on it, as every server's idle timeout does; clients resend a
// request whose reused connection closed before any answer (browsers, and
// the web tier's transport for what is safe to resend), and the oldest idle
// connection is the one a client is least likely to reuse next (Go's
// transport reuses the newest).
type limitListener struct {
	net.Listener
	slots    chan struct{} // one token per open connection
	overflow chan struct{} // one per connection let in past the limit
	done     chan struct{} // closed by Close
	once     sync.Once
	epoch    time.Time
	waiting  atomic.Bool // Accept holds a new connection and waits for a slot

	mu    sync.Mutex
	conns map[*limitedConn]struct{}
}

// limitConns bounds l to max connections open at once and overflow more
// for a request each. The server that serves it must call ConnState from
// its own ConnState and ConnContext hooks and wrap its handler with
// closeOverflow (newServer does all three).
func limitConns(l net.Listener, max, overflow int) *limitListener {
	return &limitListener{Listener: l, slots: make(chan struct{}, max), overflow: make(chan struct{}, overflow),
		done: make(chan struct{}), epoch: time.Now(), conns: map[*limitedConn]struct{}{}}
}

// Accept returns the next connection once it has a slot.
func (l *limitListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	lc := &limitedConn{Conn: c, l: l}
	select {
	case l.slots <- struct{}{}:
	default:
		if l.closeIdlest() {
			// The one closed held a slot or an overflow place: take
			// whichever it freed (Accept alone takes either).
			select {
			case l.slots <- struct{}{}:
			case l.overflow <- struct{}{}:
				lc.overflow = true
			case <-l.done:
				c.Close()
				return nil, net.ErrClosed
			}
			break
		}
		select {
		case l.overflow <- struct{}{}:
			lc.overflow = true
		default:
		}
		if lc.overflow {
			break
		}
		// All busy: the first to turn idle is closed (ConnState). One may
		// have turned idle since the look, before waiting was set.
		l.waiting.Store(true)
		if l.closeIdlest() {
			l.waiting.Store(false)
		}
		// A connection that has sent nothing turns closable a second after
		// it opened without any state change to say so: look again now
		// and then.
		recheck := time.NewTicker(250 * time.Millisecond)
	wait:
		for {
			select {
			case l.slots <- struct{}{}:
				break wait
			case l.overflow <- struct{}{}:
				lc.overflow = true
				break wait
			case <-recheck.C:
				l.closeIdlest()
			case <-l.done:
				recheck.Stop()
				l.waiting.Store(false)
				c.Close()
				return nil, net.ErrClosed
			}
		}
		recheck.Stop()
		l.waiting.Store(false)
	}
	lc.setState(http.StateNew)
	l.mu.Lock()
	l.conns[lc] = struct{}{}
	l.mu.Unlock()
	return lc, nil
}

// Close stops Accept, including one waiting for a slot, and closes the
// listener. Connections already served stay open.
func (l *limitListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// ConnState records what net/http says of a connection. A connection that
// turns idle while Accept waits for a slot is closed at once: its answer has
// been written, and a new client is waiting.
func (l *limitListener) ConnState(c net.Conn, state http.ConnState) {
	if nc, ok := c.(interface{ NetConn() net.Conn }); ok { // a *tls.Conn over ours
		c = nc.NetConn()
	}
	lc, ok := c.(*limitedConn)
	if !ok || lc.l != l {
		return
	}
	lc.setState(state)
	if state == http.StateIdle && (lc.overflow || l.waiting.CompareAndSwap(true, false)) {
		lc.Close()
	}
}

// overflowKey marks the context of a connection let in past the limit.
type overflowKey struct{}

// ConnContext marks the requests of a connection let in past the limit,
// for closeOverflow; the server that serves l calls it from its own.
func (l *limitListener) ConnContext(ctx context.Context, c net.Conn) context.Context {
	if nc, ok := c.(interface{ NetConn() net.Conn }); ok {
		c = nc.NetConn()
	}
	if lc, ok := c.(*limitedConn); ok && lc.overflow {
		return context.WithValue(ctx, overflowKey{}, true)
	}
	return ctx
}

// closeOverflow answers a request on a connection let in past the limit
// with Connection: close, so that its client neither reuses it nor meets
// it closed under a next request.
func closeOverflow(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if over, _ := r.Context().Value(overflowKey{}).(bool); over {
			w.Header().Set("Connection", "close")
		}
		next.ServeHTTP(w, r)
	})
}

// closeIdlest closes the connection idle longest, or failing one, the
// connection new longest past newConnGrace, and reports whether there was
// one.
func (l *limitListener) closeIdlest() bool {
	now := l.clock()
	var idlest, newest *limitedConn
	var idleSince, newSince int64 = now + 1, now - newConnGrace.Milliseconds()
	l.mu.Lock()
	for c := range l.conns {
		state, since := c.loadState()
		switch {
		case state == http.StateIdle && since < idleSince:
			idlest, idleSince = c, since
		case state == http.StateNew && since < newSince:
			newest, newSince = c, since
		}
	}
	l.mu.Unlock()
	if idlest == nil {
		idlest = newest
	}
	if idlest == nil {
		return false
	}
	idlest.Close()
	return true
}

// clock is the milliseconds since the listener was made: monotonic, and
// small enough to share a word with a state.
func (l *limitListener) clock() int64 { return time.Since(l.epoch).Milliseconds() }

// limitedConn is a connection holding a slot of its listener until it is
// closed.
type limitedConn struct {
	net.Conn
	l        *limitListener
	overflow bool // holds an overflow slot, for one request
	// state is the http.ConnState in the low byte and when it began (the
	// listener's clock) above it, in one word so that both change together
	// without a lock on the path of every request.
	state  atomic.Int64
	closed atomic.Bool
}

func (c *limitedConn) setState(s http.ConnState) {
	c.state.Store(c.l.clock()<<8 | int64(s))
}

func (c *limitedConn) loadState() (http.ConnState, int64) {
	v := c.state.Load()
	return http.ConnState(v & 0xff), v >> 8
}

// Close closes the connection and gives its slot back, once.
func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	if c.closed.CompareAndSwap(false, true) {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
		if c.overflow {
			<-c.l.overflow
		} else {
			<-c.l.slots
		}
	}
	return err
}
