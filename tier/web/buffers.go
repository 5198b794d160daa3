package web

import (
	"bytes"
	"errors"
	"io"
	"math/bits"
	"sync"
	"sync/atomic"
)

// The proxy's buffers come from pools, so that what it holds follows the
// requests it is working on rather than the rate at which they arrive: a
// buffer per request made and dropped costs the collector in proportion to
// the offered load, and under the soft memory limit the collector is what
// runs out first. Buffers are in size classes, powers of two from 4 KiB to
// 64 KiB (the largest request body, and the largest answer read whole), so
// a small page doesn't hold a large buffer. sync.Pool gives what it holds
// back to the runtime over two collections once the load drops.
const (
	minBufClass = 12 // 4 KiB
	maxBufClass = 16 // 64 KiB
	copyBufSize = 32 << 10
)

var bufPools [maxBufClass - minBufClass + 1]sync.Pool

// getBuf is a buffer of length n from its class's pool (a buffer of its
// own past the largest class).
func getBuf(n int) *[]byte {
	class := minBufClass
	if n > 1 {
		class = max(minBufClass, bits.Len(uint(n-1)))
	}
	if class > maxBufClass {
		b := make([]byte, n)
		return &b
	}
	if p, ok := bufPools[class-minBufClass].Get().(*[]byte); ok {
		*p = (*p)[:n]
		return p
	}
	b := make([]byte, n, 1<<class)
	return &b
}

// putBuf gives b back to its class's pool; nothing may use it after.
func putBuf(b *[]byte) {
	c := cap(*b)
	class := bits.Len(uint(c)) - 1
	if c != 1<<class || class < minBufClass || class > maxBufClass {
		return // not one of ours
	}
	bufPools[class-minBufClass].Put(b)
}

// copyBuffers is the ReverseProxy's BufferPool: the 32 KiB buffers it
// copies answers through.
type copyBuffers struct{}

func (copyBuffers) Get() []byte { return *getBuf(copyBufSize) }

func (copyBuffers) Put(b []byte) { putBuf(&b) }

// errBodyReleased: a body was asked for again after its request was done.
var errBodyReleased = errors.New("the buffered body was released")

// pooledBody is a body held in a pooled buffer and read by readers that may
// outlive the code that made it: an answer read by the ReverseProxy after
// ModifyResponse, a request body written by the transport's own goroutine,
// which may still be writing when the answer has come and the handler is
// done (a RoundTripper may close the body after RoundTrip returns). The
// buffer goes back to its pool only when its owner has released it and
// every reader has been closed, so no buffer is reused while a reader can
// still see it; a reader never closed leaves the buffer to the collector.
type pooledBody struct {
	buf  *[]byte
	refs atomic.Int32 // the owner's and one per open reader
}

// newPooledBody is a body of n bytes, to be filled through Bytes, owned by
// the caller until Release.
func newPooledBody(n int) *pooledBody {
	b := &pooledBody{buf: getBuf(n)}
	b.refs.Store(1)
	return b
}

// Bytes is the body's buffer.
func (b *pooledBody) Bytes() []byte { return *b.buf }

// Truncate shortens the body to n bytes; only the owner, before any reader.
func (b *pooledBody) Truncate(n int) { *b.buf = (*b.buf)[:n] }

// NewReader is a reader of the whole body, holding it until closed. It
// fails once the body has been released.
func (b *pooledBody) NewReader() (io.ReadCloser, error) {
	for {
		n := b.refs.Load()
		if n <= 0 {
			return nil, errBodyReleased
		}
		if b.refs.CompareAndSwap(n, n+1) {
			break
		}
	}
	r := &pooledReader{body: b}
	r.r.Reset(*b.buf)
	return r, nil
}

// Release drops the owner's hold.
func (b *pooledBody) Release() { b.unref() }

func (b *pooledBody) unref() {
	if b.refs.Add(-1) == 0 {
		putBuf(b.buf)
	}
}

// pooledReader reads a pooledBody. Close may come from another goroutine
// than Read (the handler's, while the transport's still writes), so both
// take the lock: Close waits for a Read under way, and a Read after Close
// sees nothing of a buffer that may be someone else's by then.
type pooledReader struct {
	mu     sync.Mutex
	body   *pooledBody
	r      bytes.Reader
	closed bool
}

func (r *pooledReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, errBodyReleased
	}
	return r.r.Read(p)
}

// Close gives the reader's hold back, once.
func (r *pooledReader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.closed = true
		r.r.Reset(nil)
		r.body.unref()
	}
	return nil
}
