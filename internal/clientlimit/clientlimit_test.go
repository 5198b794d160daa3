package clientlimit

import (
	"encoding/binary"
	"net/netip"
	"runtime"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time       { return c.t }
func (c *clock) step(d time.Duration) { c.t = c.t.Add(d) }
func newTestTable(rate, burst float64, size int) (*Table, *clock) {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	tb := New(rate, burst, size)
	tb.SetClock(c.now)
	return tb, c
}

var (
	alice = netip.MustParsePrefix("198.51.100.7/32")
	bob   = netip.MustParsePrefix("2001:db8:0:1::/64")
)

// client is the n-th of many distinct IPv4 clients.
func client(n int) netip.Prefix {
	var a [4]byte
	binary.BigEndian.PutUint32(a[:], uint32(0x0a000000+n))
	return netip.PrefixFrom(netip.AddrFrom4(a), 32)
}

func TestABurstIsAllowedAndThenRequestsComeBackAtTheRate(t *testing.T) {
	tb, c := newTestTable(2, 4, 0)
	for i := range 4 {
		if ok, _ := tb.Allow(alice); !ok {
			t.Fatalf("request %d of a burst of 4 refused", i+1)
		}
	}
	ok, wait := tb.Allow(alice)
	if ok || wait != 500*time.Millisecond {
		t.Fatalf("the 5th at once: allowed %v, wait %v; want refused, 500ms (one token at 2 a second)", ok, wait)
	}
	c.step(200 * time.Millisecond)
	if ok, wait := tb.Allow(alice); ok || wait != 300*time.Millisecond {
		t.Errorf("200ms later: allowed %v, wait %v; want refused, 300ms left", ok, wait)
	}
	c.step(300 * time.Millisecond)
	if ok, _ := tb.Allow(alice); !ok {
		t.Error("refused once the wait it was told had passed")
	}
	if ok, _ := tb.Allow(alice); ok {
		t.Error("a second request in the same instant allowed: a refusal or the wait gave a token for nothing")
	}
	c.step(time.Hour)
	allowed := 0
	for range 10 {
		if ok, _ := tb.Allow(alice); ok {
			allowed++
		}
	}
	if allowed != 4 {
		t.Errorf("after an hour idle, %d allowed at once, want the burst of 4: a bucket holds no more", allowed)
	}
}

func TestAWaitIsTheTimeUntilTheNextToken(t *testing.T) {
	tb, _ := newTestTable(0.25, 1, 0)
	tb.Allow(alice)
	if ok, wait := tb.Allow(alice); ok || wait != 4*time.Second {
		t.Errorf("at 0.25 a second: allowed %v, wait %v; want refused, 4s", ok, wait)
	}
}

func TestClientsHaveBucketsOfTheirOwn(t *testing.T) {
	tb, _ := newTestTable(1, 1, 0)
	if ok, _ := tb.Allow(alice); !ok {
		t.Fatal("alice's first request refused")
	}
	if ok, _ := tb.Allow(alice); ok {
		t.Fatal("alice's second request allowed past a burst of 1")
	}
	if ok, _ := tb.Allow(bob); !ok {
		t.Error("bob refused because alice used her bucket")
	}
	if ok, _ := tb.Allow(netip.Prefix{}); !ok {
		t.Error("the group of unknown clients refused because others used theirs")
	}
}

// The table tells apart what forwarded.ClientKey groups: IPv4 addresses and
// IPv6 /64s, none of them sharing a bucket with another.
func TestTheTableKeepsIPv4AddressesAndIPv6PrefixesApart(t *testing.T) {
	tb, _ := newTestTable(1, 1, 0)
	groups := []string{"10.0.0.1/32", "10.0.0.2/32", "0.0.255.255/32", "2001:db8::/64", "2001:db8:0:1::/64",
		"::/64"} // (not 0:ffff:a00:1::/64, in the reserved ::/8, which is where 10.0.0.1 is kept)
	for _, g := range groups {
		if ok, _ := tb.Allow(netip.MustParsePrefix(g)); !ok {
			t.Errorf("%s refused at its first request: it shares a bucket with another group", g)
		}
	}
	if ok, _ := tb.Allow(netip.MustParsePrefix("2001:db8::1/128")); ok {
		t.Error("an address in 2001:db8::/64 got a bucket of its own: longer IPv6 prefixes count as their /64")
	}
}

func TestAFullTableForgetsTheClientSeenLeastRecently(t *testing.T) {
	tb, _ := newTestTable(1, 1, 3)
	a, b, c, d := client(1), client(2), client(3), client(4)
	for _, p := range []netip.Prefix{a, b, c} {
		tb.Allow(p) // each empties its bucket
	}
	tb.Allow(a) // a is seen again: b is now the least recent
	tb.Allow(d) // the table is full: b goes
	if n := tb.Len(); n != 3 {
		t.Fatalf("Len = %d, want the size, 3", n)
	}
	if ok, _ := tb.Allow(b); !ok {
		t.Error("b, the least recently seen, was not the one forgotten: it is still refused")
	}
	// Taking b back pushed out c, the least recent then; a and d remain.
	for _, p := range []netip.Prefix{a, d} {
		if ok, _ := tb.Allow(p); ok {
			t.Errorf("%s was forgotten although others were seen less recently", p)
		}
	}
	if ok, _ := tb.Allow(c); !ok {
		t.Error("c, least recent when b came back, was not forgotten")
	}
}

func TestTheTableNeverHoldsMoreThanItsSize(t *testing.T) {
	tb, _ := newTestTable(1, 1, 100)
	for i := range 10_000 {
		tb.Allow(client(i))
		if n := tb.Len(); n > 100 {
			t.Fatalf("after %d clients the table holds %d, over its size of 100", i+1, n)
		}
	}
	// The last 100 are the ones remembered: each is still refused.
	for i := 10_000 - 100; i < 10_000; i++ {
		if ok, _ := tb.Allow(client(i)); ok {
			t.Fatalf("client %d, among the 100 seen last, was forgotten", i)
		}
	}
}

// A full table of DefaultSize clients, and one that has turned over many
// times since (a map with deletions can keep what it deleted), stays within
// the size the package says it costs.
func TestAFullTableStaysUnderItsMemoryBudget(t *testing.T) {
	const budget = 5 << 20
	before := heap()
	tb, _ := newTestTable(1, 1, DefaultSize)
	for i := range DefaultSize {
		tb.Allow(client(i))
	}
	full := heap() - before
	for i := range 4 * DefaultSize {
		tb.Allow(client(DefaultSize + i))
	}
	churned := heap() - before
	runtime.KeepAlive(tb)
	t.Logf("a full table: %.1f MiB; after turning over four times: %.1f MiB", float64(full)/(1<<20), float64(churned)/(1<<20))
	if full > budget || churned > budget {
		t.Errorf("a table of %d clients holds %d bytes full and %d after turning over, over the %d documented",
			DefaultSize, full, churned, budget)
	}
}

func heap() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
