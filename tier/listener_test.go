package tier_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/guestbook/guestbook/tier"
)

// limitedServer serves handler on a loopback listener bounded to max
// connections and overflow more, as Open serves a role, and returns its
// address.
func limitedServer(t *testing.T, max, overflow int, handler http.Handler) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	limited, srv := tier.LimitedServer(l, max, overflow, handler)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(limited) }()
	t.Cleanup(func() {
		srv.Close()
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return l.Addr().String()
}

// conn is a raw keep-alive client connection, so that a test decides when
// connections open and which one each request takes.
type conn struct {
	net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &conn{Conn: c, r: bufio.NewReader(c)}
}

// get sends a GET for path and reads its answer, or fails after wait.
func (c *conn) get(path string, wait time.Duration) (int, string, error) {
	c.SetDeadline(time.Now().Add(wait))
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: test\r\n\r\n"); err != nil {
		return 0, "", err
	}
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// Past the limit a connection is not refused but waits: with every slot
// busy, the excess connections are not served until busy ones finish, and
// then every one of them is answered.
func TestAListenerServesAtMostItsLimitAtOnceAndTheRestLater(t *testing.T) {
	const limit, extra = 4, 3
	var inFlight, most atomic.Int32
	release := make(chan struct{})
	addr := limitedServer(t, limit, 0, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		<-release
		io.WriteString(w, "served")
	}))

	type answer struct {
		status int
		err    error
	}
	answers := make(chan answer, limit+extra)
	var wg sync.WaitGroup
	for range limit + extra {
		c := dial(t, addr)
		wg.Go(func() {
			status, body, err := c.get("/", 10*time.Second)
			if err == nil && body != "served" {
				err = errors.New("body " + body)
			}
			answers <- answer{status, err}
		})
	}
	deadline := time.Now().Add(5 * time.Second)
	for inFlight.Load() < limit && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // time for a connection past the limit to be served, were it
	if got := inFlight.Load(); got != limit {
		t.Errorf("%d requests served at once with %d connections open, want the limit %d", got, limit+extra, limit)
	}
	close(release)
	wg.Wait()
	close(answers)
	for a := range answers {
		if a.err != nil || a.status != http.StatusOK {
			t.Errorf("a connection got %d, %v; want every one served", a.status, a.err)
		}
	}
	if got := most.Load(); got > limit {
		t.Errorf("at most %d served at once, want at most %d", got, limit)
	}
}

// Past the limit, with every connection busy, a few more are let in for one
// request each and closed after it, so that a client is answered at once
// rather than left in the backlog; past those, a connection waits.
func TestPastItsLimitAListenerLetsAFewMoreInForOneRequestEach(t *testing.T) {
	release := make(chan struct{})
	addr := limitedServer(t, 1, 1, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-release
		}
		io.WriteString(w, "ok")
	}))
	busy := dial(t, addr)
	done := make(chan error, 1)
	go func() { _, _, err := busy.get("/slow", 10*time.Second); done <- err }()
	time.Sleep(50 * time.Millisecond) // busy is being served

	over := dial(t, addr)
	over.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(over, "GET / HTTP/1.1\r\nHost: test\r\n\r\n")
	resp, err := http.ReadResponse(over.r, nil)
	if err != nil {
		t.Fatalf("a connection past the limit: %v, want it answered at once", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !resp.Close {
		t.Errorf("a connection past the limit: %d, close %v; want 200 with Connection: close", resp.StatusCode, resp.Close)
	}

	// Both slots are taken now, until over is closed by the server.
	third := dial(t, addr)
	if status, _, err := third.get("/", 5*time.Second); err != nil || status != http.StatusOK {
		t.Errorf("a third connection once the overflow one closed: %d, %v; want it served", status, err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Errorf("the busy connection's request: %v", err)
	}
}

// A full listener makes room for a new connection by closing the one that
// has been idle longest, so that clients holding idle keep-alive
// connections can't keep a new one out for the idle timeout.
func TestAFullListenerClosesTheConnectionIdleLongestForANewOne(t *testing.T) {
	addr := limitedServer(t, 2, 0, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	oldest, newer := dial(t, addr), dial(t, addr)
	for _, c := range []*conn{oldest, newer} {
		if status, _, err := c.get("/", 5*time.Second); err != nil || status != http.StatusOK {
			t.Fatalf("a first request: %d, %v", status, err)
		}
		time.Sleep(20 * time.Millisecond) // so that the first is idle longer
	}

	start := time.Now()
	if status, _, err := dial(t, addr).get("/", 5*time.Second); err != nil || status != http.StatusOK {
		t.Fatalf("a third connection: %d, %v; want it served", status, err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("the third connection took %s to be served, want it at once", took)
	}
	oldest.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := oldest.r.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("the connection idle longest: read %v, want it closed", err)
	}
	if status, _, err := newer.get("/", 5*time.Second); err != nil || status != http.StatusOK {
		t.Errorf("the newer idle connection: %d, %v; want it still open", status, err)
	}
}

// With every slot busy a new connection waits; the first connection to
// finish its answer is then closed to let it in, rather than kept for its
// next request.
func TestAConnectionThatTurnsIdleWhileOneWaitsGivesUpItsSlot(t *testing.T) {
	release := make(chan struct{})
	addr := limitedServer(t, 1, 0, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-release
		}
		io.WriteString(w, "ok")
	}))
	busy := dial(t, addr)
	done := make(chan error, 1)
	go func() { _, _, err := busy.get("/slow", 10*time.Second); done <- err }()
	time.Sleep(50 * time.Millisecond) // busy is being served

	waiting := make(chan error, 1)
	go func() {
		status, _, err := dial(t, addr).get("/", 10*time.Second)
		if err == nil && status != http.StatusOK {
			err = errors.New(http.StatusText(status))
		}
		waiting <- err
	}()
	select {
	case err := <-waiting:
		t.Fatalf("a connection past the limit was answered (%v) while the slot was busy", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("the busy connection's request: %v", err)
	}
	if err := <-waiting; err != nil {
		t.Errorf("the waiting connection: %v, want it served once the slot turned idle", err)
	}
	busy.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := busy.r.ReadByte(); !errors.Is(err, io.EOF) {
		t.Errorf("the connection that turned idle: read %v, want it closed", err)
	}
}

// Closing the listener ends an Accept that waits for a slot, so a full
// listener never holds up a shutdown.
func TestClosingAFullListenerEndsAnAcceptWaitingForASlot(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	limited, _ := tier.LimitedServer(l, 1, 0, http.NotFoundHandler())
	dial(t, l.Addr().String())
	c, err := limited.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dial(t, l.Addr().String())
	errc := make(chan error, 1)
	go func() { _, err := limited.Accept(); errc <- err }()
	time.Sleep(50 * time.Millisecond)
	limited.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Accept still waits after Close")
	}
}

// A connection let in past the limit that sends nothing may be closed for
// a new one, and the new one takes the overflow place it freed: Accept
// must not wait for a regular slot that no one is giving up.
func TestANewConnectionTakesTheOverflowPlaceASilentOneGaveUp(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	addr := limitedServer(t, 1, 1, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			<-release
		}
		io.WriteString(w, "ok")
	}))
	busy := dial(t, addr) // holds the one slot with a request in flight
	go busy.get("/slow", 10*time.Second)
	time.Sleep(100 * time.Millisecond)
	dial(t, addr)                       // takes the overflow place, and sends nothing
	time.Sleep(1200 * time.Millisecond) // silent for over a second: the idlest to close
	start := time.Now()
	if status, _, err := dial(t, addr).get("/", 3*time.Second); err != nil || status != http.StatusOK {
		t.Fatalf("a new connection while the silent one held the overflow place: %d, %v; want it served", status, err)
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("it took %s, want at once", took)
	}
}
