// Package httpcheck holds HTTP helpers that tests of several packages share.
package httpcheck

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"testing"
	"time"
)

// RawGet sends GET target to addr with the request line written by hand, so
// the path reaches the server exactly as given, with no cleaning or escaping
// by a client. It returns the status, the headers and the body.
func RawGet(t testing.TB, addr, target string) (int, http.Header, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nAccept-Encoding: identity\r\nConnection: close\r\n\r\n", target, addr)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("GET %s: read response: %v", target, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: read body: %v", target, err)
	}
	return resp.StatusCode, resp.Header, body
}

// NewStreamer is an upstream that answers /healthz, and every other path
// with a line, flushed, then a pause until the test ends before the rest: a
// stream that only a proxy that flushes as it goes can pass on in time.
func NewStreamer(t testing.TB) *httptest.Server {
	t.Helper()
	release := make(chan struct{})
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			io.WriteString(w, "ok\n")
			return
		}
		io.WriteString(w, "first\n")
		http.NewResponseController(w).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		io.WriteString(w, "rest\n")
	}))
	t.Cleanup(up.Close)
	t.Cleanup(func() { close(release) }) // runs first, so that the server can close
	return up
}

// WantFirstLineWithin fails t unless GET url gives the stream's first line
// within d, while the upstream is still holding the rest.
func WantFirstLineWithin(t testing.TB, c *http.Client, url string, d time.Duration) {
	t.Helper()
	first := make(chan string, 1)
	go func() {
		resp, err := c.Get(url)
		if err != nil {
			first <- err.Error()
			return
		}
		defer resp.Body.Close()
		s, _ := bufio.NewReader(resp.Body).ReadString('\n')
		first <- s
	}()
	select {
	case s := <-first:
		if s != "first\n" {
			t.Errorf("first line = %q, want %q", s, "first\n")
		}
	case <-time.After(d):
		t.Errorf("the first line did not arrive within %s while the upstream was still writing: the stream is held back", d)
	}
}

// Do sends req with c and returns the response with its body read whole,
// failing the test if either fails.
func Do(t testing.TB, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL, err)
	}
	return resp, string(b)
}

// NewRequest is a request with no body and exactly the given headers.
func NewRequest(t testing.TB, method, url string, header map[string]string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return req
}

// Logger is a logger for the code under test: everything to stderr under
// go test -v, nothing otherwise.
func Logger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

var formTokenField = regexp.MustCompile(`name="form_token" value="([^"]*)"`)

// FormToken is the form_token of the create form that base serves now to c,
// as a browser gets it before it posts the form.
func FormToken(t testing.TB, c *http.Client, base string) string {
	t.Helper()
	resp, body := Do(t, c, NewRequest(t, "GET", base+"/visitor/visitor_create/", nil))
	m := formTokenField.FindStringSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("the create form at %s: status %d, no form_token:\n%s", base, resp.StatusCode, body)
	}
	return m[1]
}
