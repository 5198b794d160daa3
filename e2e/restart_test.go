package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"testing"
	"time"
)

func TestARestartedWebInstanceFinishesItsRequestsInFlight(t *testing.T) {
	// instance.drain: after SIGTERM web-1 keeps serving for a second with
	// /readyz at 503, time for the balancer to stop sending it visitors.
	tp := startTopology(t, topologyOptions{drain: time.Second})
	l := newLedger()
	web1 := tp.webs[0]
	s := startStream(tp.base, l, streamSpec{detail: tp.first, workers: 4, writeEvery: 10, fresh: true, pause: 5 * time.Millisecond})
	s.waitFor(t, 50)

	// Posts whose bodies are half sent when SIGTERM comes, and finished only
	// once web-1 has closed its listener: requests in flight at shutdown.
	var slow []*slowPost
	for range 3 {
		slow = append(slow, startSlowPost(t, web1.addr, l))
	}
	web1.signal(t, syscall.SIGTERM)
	waitRefused(t, web1.addr, 10*time.Second)
	for _, p := range slow {
		if status, err := p.finish(); err != nil || status != http.StatusSeeOther {
			t.Errorf("a post in flight at shutdown got %d %v, want 303", status, err)
		}
	}
	if code := web1.wait(t, 10*time.Second); code != 0 {
		t.Errorf("web-1 exited with %d after SIGTERM, want 0", code)
	}

	web1.restart(t)
	web1.waitReady(t, 30*time.Second)
	tp.lb.waitReady(t, web1.addr)
	s.waitFor(t, 50)
	outcomes := s.stop()

	sum := summarize(outcomes, time.Time{})
	t.Logf("web-1 restarted: %s", sum)
	if len(sum.failures) > 0 {
		t.Errorf("%d requests failed while web-1 restarted:%s", len(sum.failures), first(sum.failures, 10))
	}
	v := newVisitor(tp.base, true)
	seen := map[string]bool{}
	for range 6 {
		seen[instanceOf(v.mustGet(t, "/", http.StatusOK).body)] = true
	}
	if !seen["web-1"] {
		t.Errorf("after its restart web-1 serves no visitor (seen %v)", seen)
	}
	l.check(t, tp.primary, "primary")
}

// slowPost is a form post written by hand over its own connection, held
// with half its body sent.
type slowPost struct {
	conn   net.Conn
	rest   string
	marker string
	l      *ledger
}

func startSlowPost(t *testing.T, addr string, l *ledger) *slowPost {
	t.Helper()
	marker := l.next()
	body := newVisitor("http://"+addr, false).signed(t, entryForm("느린 방문객", "slow@example.com", marker+" 천천히 보냈어요")).Encode()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	half := len(body) / 2
	_, err = fmt.Fprintf(conn, "POST /visitor/visitor_create/ HTTP/1.1\r\nHost: %s\r\nOrigin: http://%s\r\n"+
		"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		addr, addr, len(body), body[:half])
	if err != nil {
		t.Fatal(err)
	}
	return &slowPost{conn: conn, rest: body[half:], marker: marker, l: l}
}

// finish sends the rest of the body and reads the answer.
func (p *slowPost) finish() (int, error) {
	p.conn.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(p.conn, p.rest); err != nil {
		return 0, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(p.conn), nil)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	p.l.record(p.marker, resp.StatusCode == http.StatusSeeOther)
	return resp.StatusCode, nil
}

// waitRefused waits until nothing listens on addr any more.
func waitRefused(t *testing.T, addr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatalf("%s still takes connections %s after SIGTERM", addr, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitReady waits until the balancer sends visitors to addr again.
func (b *balancer) waitReady(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, be := range b.backends {
		for be.addr == addr && !be.ready.Load() {
			if time.Now().After(deadline) {
				t.Fatalf("the balancer does not take %s back", addr)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
