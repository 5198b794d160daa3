// Package clientlimit limits the rate of each client's requests: a token
// bucket per client (rate tokens a second, up to burst; a request takes
// one), kept in a table of a bounded number of clients. When the table is
// full, the client seen least recently is forgotten to make room, so memory
// stays bounded however many addresses send requests. A forgotten client
// starts again with a full bucket, which is what it would have by then in
// all but the busiest moments: the one seen least recently of a full table
// has usually been idle longest.
//
// The bucket is ours rather than golang.org/x/time/rate's: a table of
// 65,536 of them must be small, and one rate.Limiter is 80 bytes on the heap
// of its own (a mutex, and two time.Time with their location pointers for
// the collector to follow) against the 32 bytes of an entry here, in one
// slice without pointers, under the one lock the table needs anyway.
//
// One lock guards the whole table: a request holds it for a map lookup and
// a few sums, well under a microsecond, against the hundreds the web tier
// spends proxying it.
//
// Time comes from the Table's clock, so that a test can step it without
// sleeping.
package clientlimit

import (
	"encoding/binary"
	"math"
	"net/netip"
	"sync"
	"time"
)

// DefaultSize is how many clients a Table remembers unless told otherwise.
// Full, it holds about 4.3 MiB (2 MiB of entries, 32 bytes each, and the map
// from client to entry; measured by TestAFullTableStaysUnderItsMemoryBudget):
// room for every client of a busy site's last minutes, and a small part of
// the process's 40 MiB soft memory limit.
const DefaultSize = 65536

// Table is the buckets of up to its size clients, each filling at rate
// tokens a second up to burst. Its methods are safe for concurrent use.
type Table struct {
	rate  float64 // tokens a second
	burst float64 // most tokens a bucket holds
	size  int

	mu    sync.Mutex
	now   func() time.Time
	epoch time.Time // entries' times are durations since it, 8 bytes instead of 24
	index map[key]int32
	// entries are the buckets, a doubly linked list from the client seen
	// most recently (head) to the one seen least recently (tail), linked
	// by index so the garbage collector has no pointers to follow.
	entries    []entry
	head, tail int32
}

// key is a client's group (forwarded.ClientKey) in 8 bytes: an IPv6
// prefix's top 64 bits, or an IPv4 address under 0000:ffff::/32, a part of
// the IETF's reserved ::/8 that no client comes from. (netip.Prefix is 32
// bytes and holds a pointer, which would make the collector scan the map.)
type key uint64

const ipv4Key = key(0xffff) << 32

// keyOf is p's key. An IPv6 prefix longer than /64 counts as its /64.
func keyOf(p netip.Prefix) key {
	a := p.Masked().Addr()
	if a.Is4() {
		b := a.As4()
		return ipv4Key | key(binary.BigEndian.Uint32(b[:]))
	}
	b := a.As16()
	return key(binary.BigEndian.Uint64(b[:8]))
}

type entry struct {
	tokens     float64
	last       time.Duration // since epoch: when tokens was last brought up to date
	prev, next int32         // toward head and tail; none at the ends
	key        key
}

const none = -1

// New is a table of at most size clients (DefaultSize when size is not
// positive), each allowed rate requests a second on average and burst at
// once. Rate must be positive and burst at least 1.
func New(rate, burst float64, size int) *Table {
	if size <= 0 {
		size = DefaultSize
	}
	t := &Table{rate: rate, burst: burst, size: size, head: none, tail: none, index: map[key]int32{}}
	t.SetClock(time.Now)
	return t
}

// SetClock gives the table a clock of the caller's, for tests. Call it
// before the first Allow.
func (t *Table) SetClock(now func() time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.now, t.epoch = now, now()
}

// Allow takes a token from client's bucket and reports true, or, when the
// bucket has none, reports false and how long until it will have one. A
// refused request takes nothing, so a client that keeps sending past its
// rate is let through again at its rate, not starved.
func (t *Table) Allow(client netip.Prefix) (ok bool, wait time.Duration) {
	k := keyOf(client)
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now().Sub(t.epoch)
	i, seen := t.index[k]
	if !seen {
		i = t.add(k, now)
	} else {
		t.toFront(i)
	}
	e := &t.entries[i]
	if elapsed := now - e.last; elapsed > 0 {
		e.tokens = math.Min(t.burst, e.tokens+elapsed.Seconds()*t.rate)
		e.last = now
	}
	if e.tokens >= 1 {
		e.tokens--
		return true, 0
	}
	return false, time.Duration(math.Ceil((1 - e.tokens) / t.rate * float64(time.Second)))
}

// Len is how many clients the table remembers now.
func (t *Table) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.index)
}

// add makes k's entry, with a full bucket, at the head of the list: a new
// slot while the table has room, else the slot of the client seen least
// recently, which is forgotten.
func (t *Table) add(k key, now time.Duration) int32 {
	var i int32
	if len(t.entries) < t.size {
		t.entries = append(t.entries, entry{})
		i = int32(len(t.entries) - 1)
	} else {
		i = t.tail
		t.unlink(i)
		delete(t.index, t.entries[i].key)
	}
	t.entries[i] = entry{tokens: t.burst, last: now, prev: none, next: none, key: k}
	t.index[k] = i
	t.pushFront(i)
	return i
}

// toFront moves entry i to the head of the list: its client is the one
// seen most recently.
func (t *Table) toFront(i int32) {
	if t.head == i {
		return
	}
	t.unlink(i)
	t.pushFront(i)
}

func (t *Table) pushFront(i int32) {
	e := &t.entries[i]
	e.prev, e.next = none, t.head
	if t.head != none {
		t.entries[t.head].prev = i
	}
	t.head = i
	if t.tail == none {
		t.tail = i
	}
}

func (t *Table) unlink(i int32) {
	e := &t.entries[i]
	if e.prev != none {
		t.entries[e.prev].next = e.next
	} else {
		t.head = e.next
	}
	if e.next != none {
		t.entries[e.next].prev = e.prev
	} else {
		t.tail = e.prev
	}
	e.prev, e.next = none, none
}
