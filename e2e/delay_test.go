package e2e

import (
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// delayProxy is a TCP proxy of the test's own in front of an app instance
// that can hold back each chunk a client sends for a while before passing
// it on: an instance that still answers, but late (a swap storm, a CPU
// starved by a neighbour; this kernel has no netem to do it). An HTTP/1.1
// request arrives in one chunk and its connection carries one at a time, so
// every answer begins that much later. What the instance sends passes at
// once. It listens on the test process's own address, which every host of
// the topology can reach.
type delayProxy struct {
	l      net.Listener
	target string
	delay  atomic.Int64 // nanoseconds

	mu    sync.Mutex
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// startDelayProxy listens on a free port of host in front of target, with
// no delay until setDelay. It closes, with every connection through it,
// when the test ends.
func startDelayProxy(t *testing.T, host, target string) *delayProxy {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	p := &delayProxy{l: l, target: target, conns: map[net.Conn]struct{}{}}
	p.wg.Go(p.accept)
	t.Cleanup(p.close)
	return p
}

func (p *delayProxy) addr() string { return p.l.Addr().String() }

// setDelay makes each chunk a client sends from now on wait d (0: none).
func (p *delayProxy) setDelay(d time.Duration) { p.delay.Store(int64(d)) }

func (p *delayProxy) accept() {
	for {
		c, err := p.l.Accept()
		if err != nil {
			return // closed
		}
		p.wg.Go(func() { p.serve(c) })
	}
}

func (p *delayProxy) serve(c net.Conn) {
	defer c.Close()
	s, err := net.DialTimeout("tcp", p.target, time.Second)
	if err != nil {
		return
	}
	defer s.Close()
	if !p.track(true, c, s) {
		return
	}
	defer p.track(false, c, s)
	var wg sync.WaitGroup
	wg.Go(func() { pipe(c, s) }) // the answers, at once
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			time.Sleep(time.Duration(p.delay.Load()))
			if _, werr := s.Write(buf[:n]); werr != nil {
				break
			}
		}
		if err != nil {
			break
		}
	}
	s.(*net.TCPConn).CloseWrite()
	wg.Wait()
}

// track adds or removes connections from those close ends; it returns
// false once the proxy is closed.
func (p *delayProxy) track(add bool, cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conns == nil {
		return false
	}
	for _, c := range cs {
		if add {
			p.conns[c] = struct{}{}
		} else {
			delete(p.conns, c)
		}
	}
	return true
}

func (p *delayProxy) close() {
	p.l.Close()
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	p.conns = nil
	p.mu.Unlock()
	p.wg.Wait()
}
