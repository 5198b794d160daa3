package web_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
)

// pattern is n bytes that depend on seed at every position, so that a
// byte from another answer (a pooled buffer handed out twice) shows.
func pattern(seed, n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(uint64(seed), uint64(n)))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// The proxy's buffers are pooled: the copy buffers, the small answers it
// reads whole and the request bodies it holds for a resend. Many requests
// at once, of sizes in every buffer class and on both sides of the limits,
// some answered before the upstream reads their body (while the transport
// may still be writing it), must each get exactly their own bytes back,
// and each upstream must see exactly the body that was sent.
func TestPooledBuffersKeepEveryAnswerAndBodyItsOwnUnderConcurrency(t *testing.T) {
	sizes := []int{0, 1, 100, 4095, 4096, 4097, 8192, 15000, 32 << 10, 40000, 64 << 10, 64<<10 + 1, 200 << 10}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			return
		}
		seed, _ := strconv.Atoi(r.URL.Query().Get("seed"))
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		if r.URL.Path == "/visitor/early" {
			// Answer before reading the body: the transport may still be
			// writing it from its pooled buffer.
			w.Header().Set("Connection", "close")
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write(pattern(seed, n))
			return
		}
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		sum := sha256.Sum256(body)
		w.Header().Set("Body-Sha256", hex.EncodeToString(sum[:]))
		if r.URL.Query().Get("stream") == "" {
			w.Header().Set("Content-Length", strconv.Itoa(n))
		}
		w.Write(pattern(seed, n))
	}))
	t.Cleanup(upstream.Close)
	f := newFront(t, nil, upstream.URL)
	f.checkAll(t)
	c := client(t)

	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for worker := range 32 {
		wg.Go(func() {
			for i := range 24 {
				seed := worker*1000 + i
				n := sizes[(worker+i)%len(sizes)]
				bodySize := sizes[(worker*7+i*3)%len(sizes)] % (60 << 10) // under the request body limit
				path, query := "/visitor/echo", fmt.Sprintf("?seed=%d&n=%d", seed, n)
				switch i % 6 {
				case 4:
					path = "/visitor/early"
				case 5:
					query += "&stream=1"
				}
				sent := pattern(-seed, bodySize)
				var body io.Reader = bytes.NewReader(sent)
				if i%3 == 1 {
					body = io.MultiReader(bytes.NewReader(sent)) // no length: sent chunked
				}
				req, err := http.NewRequest(http.MethodPost, f.URL+path+query, body)
				if err != nil {
					errs <- err
					return
				}
				req.Header.Set("Idempotency-Key", "k"+strconv.Itoa(seed)) // so a failed attempt may go again
				resp, err := c.Do(req)
				if err != nil {
					errs <- fmt.Errorf("%s %d bytes: %w", path, n, err)
					continue
				}
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				want := http.StatusOK
				if path == "/visitor/early" {
					want = http.StatusServiceUnavailable
				}
				sum := sha256.Sum256(sent)
				switch {
				case err != nil:
					errs <- fmt.Errorf("%s %d bytes: reading the answer: %w", path, n, err)
				case resp.StatusCode != want:
					errs <- fmt.Errorf("%s %d bytes: status %d, want %d", path, n, resp.StatusCode, want)
				case !bytes.Equal(got, pattern(seed, n)):
					errs <- fmt.Errorf("%s: an answer of %d bytes came back with other bytes (%d long)", path, n, len(got))
				case want == http.StatusOK && resp.Header.Get("Body-Sha256") != hex.EncodeToString(sum[:]):
					errs <- fmt.Errorf("%s: the upstream saw another body than the %d bytes sent", path, bodySize)
				}
			}
		})
	}
	go func() { wg.Wait(); close(errs) }()
	failures := 0
	for err := range errs {
		if failures++; failures <= 10 {
			t.Error(err)
		}
	}
	if failures > 10 {
		t.Errorf("and %d more", failures-10)
	}
}
