package web_test

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// A page of known length reaches the client whole and unchanged, HEAD and
// 304 answers (which have no body) pass, and a streamed answer of unknown
// length is still passed on: the proxy reads small answers whole before
// writing them, so each of these must survive that.
func TestProxyPassesAnswersOfEveryShape(t *testing.T) {
	page := strings.Repeat("안녕하세요 guestbook ", 2000) // ~40 KB, under the buffering limit
	big := strings.Repeat("x", 200<<10)              // over it: copied as it comes
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/healthz":
		case "/visitor/page", "/visitor/big":
			body := page
			if r.URL.Path == "/visitor/big" {
				body = big
			}
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			w.Write([]byte(body))
		case "/visitor/same":
			w.WriteHeader(http.StatusNotModified)
		case "/visitor/stream":
			for range 3 {
				w.Write([]byte("part\n"))
				w.(http.Flusher).Flush()
			}
		}
	}))
	t.Cleanup(upstream.Close)
	f := newFront(t, nil, upstream.URL)
	f.checkAll(t)
	c := client(t)

	for _, tc := range []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/visitor/page", 200, page},
		{"HEAD", "/visitor/page", 200, ""},
		{"GET", "/visitor/big", 200, big},
		{"GET", "/visitor/same", 304, ""},
		{"GET", "/visitor/stream", 200, "part\npart\npart\n"},
	} {
		r := roundTrip(t, c, newRequest(t, tc.method, f.URL+tc.path, ""))
		if r.StatusCode != tc.status || r.body != tc.body {
			t.Errorf("%s %s = %d with %d bytes, want %d with %d bytes", tc.method, tc.path, r.StatusCode, len(r.body), tc.status, len(tc.body))
		}
		if tc.method == "HEAD" && r.Header.Get("Content-Length") != strconv.Itoa(len(page)) {
			t.Errorf("HEAD %s: Content-Length %q, want the GET's %d", tc.path, r.Header.Get("Content-Length"), len(page))
		}
	}
}

// An upstream that promises more than it sends and hangs up gets the client
// a clean 502, not a page cut short under a 200.
func TestProxyAnswers502WhenTheUpstreamBreaksOffMidAnswer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				req, err := http.ReadRequest(bufio.NewReader(conn))
				if err != nil {
					return
				}
				if req.URL.Path == "/healthz" {
					conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"))
					return
				}
				conn.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nonly the first part"))
			}()
		}
	}()
	f := newFront(t, nil, "http://"+ln.Addr().String())
	f.checkAll(t)

	r := roundTrip(t, client(t), newRequest(t, "GET", f.URL+"/visitor/visitor_list/", ""))
	if r.StatusCode != http.StatusBadGateway {
		t.Errorf("status %d with body %q, want 502", r.StatusCode, short(r.body))
	}
}
