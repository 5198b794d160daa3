package e2e

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// balancer stands in for the load balancer in front of the web tier (the
// original's ELB): a TCP balancer that hands each new connection to the next
// web instance whose /readyz answers 200, checked every 100ms. It looks at
// no byte of HTTP, so a client's headers reach the web tier as sent. An
// instance that drains (instance.drain) answers /readyz with 503 and gets no
// new connections, which is what lets it be restarted without an error.
type balancer struct {
	listener net.Listener
	backends []*lbBackend
	next     atomic.Uint64
	stop     context.CancelFunc
	wg       sync.WaitGroup

	mu    sync.Mutex
	conns map[net.Conn]struct{}
}

type lbBackend struct {
	addr  string
	ready atomic.Bool
}

// lbCheckInterval is how often the balancer checks each web instance.
const lbCheckInterval = 100 * time.Millisecond

// startBalancer listens on a free loopback port in front of addrs and waits
// until every backend is ready. It stops when the test ends.
func startBalancer(t *testing.T, addrs ...string) *balancer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	b := &balancer{listener: l, stop: cancel, conns: map[net.Conn]struct{}{}}
	for _, a := range addrs {
		b.backends = append(b.backends, &lbBackend{addr: a})
	}
	b.wg.Go(func() { b.checkLoop(ctx) })
	b.wg.Go(b.acceptLoop)
	t.Cleanup(b.close)
	deadline := time.Now().Add(10 * time.Second)
	for _, be := range b.backends {
		for !be.ready.Load() {
			if time.Now().After(deadline) {
				t.Fatalf("balancer: web instance %s not ready", be.addr)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return b
}

// URL is the balancer's address as a base URL.
func (b *balancer) URL() string { return "http://" + b.listener.Addr().String() }

func (b *balancer) checkLoop(ctx context.Context) {
	client := &http.Client{Timeout: 500 * time.Millisecond, Transport: &http.Transport{DisableKeepAlives: true}}
	tick := time.NewTicker(lbCheckInterval)
	defer tick.Stop()
	for {
		for _, be := range b.backends {
			resp, err := client.Get("http://" + be.addr + "/readyz")
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			be.ready.Store(err == nil && resp.StatusCode == http.StatusOK)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func (b *balancer) acceptLoop() {
	for {
		c, err := b.listener.Accept()
		if err != nil {
			return // closed
		}
		b.wg.Go(func() { b.serve(c) })
	}
}

// serve pipes c to the next ready backend, trying the others if a dial
// fails; with none ready it closes c, as a balancer with no healthy target
// resets the connection.
func (b *balancer) serve(c net.Conn) {
	defer c.Close()
	if !b.track(c, true) {
		return
	}
	defer b.track(c, false)
	start := b.next.Add(1)
	for i := range uint64(len(b.backends)) {
		be := b.backends[(start+i)%uint64(len(b.backends))]
		if !be.ready.Load() {
			continue
		}
		up, err := net.DialTimeout("tcp", be.addr, time.Second)
		if err != nil {
			be.ready.Store(false)
			continue
		}
		if !b.track(up, true) {
			up.Close()
			return
		}
		defer b.track(up, false)
		defer up.Close()
		var wg sync.WaitGroup
		wg.Go(func() { pipe(up, c) })
		pipe(c, up)
		wg.Wait()
		return
	}
}

// pipe copies src to dst, then passes the end of src on as a half-close.
func pipe(dst, src net.Conn) {
	io.Copy(dst, src)
	if tc, ok := dst.(*net.TCPConn); ok {
		tc.CloseWrite()
	} else {
		dst.Close()
	}
}

// track adds or removes a connection from those close ends; it returns
// false once the balancer is closed.
func (b *balancer) track(c net.Conn, add bool) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.conns == nil {
		return false
	}
	if add {
		b.conns[c] = struct{}{}
	} else {
		delete(b.conns, c)
	}
	return true
}

func (b *balancer) close() {
	b.stop()
	b.listener.Close()
	b.mu.Lock()
	for c := range b.conns {
		c.Close()
	}
	b.conns = nil
	b.mu.Unlock()
	b.wg.Wait()
}
