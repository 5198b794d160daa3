package app

import (
	"net/netip"
	"testing"
)

func TestTheClientHashGroupsAnIPv6ClientByItsSlash64(t *testing.T) {
	secret := []byte("secret one, thirty-two bytes long")
	hash := func(addr string) string { return clientHash(secret, netip.MustParseAddr(addr)) }
	for _, same := range [][2]string{
		{"2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff"},
		{"203.0.113.7", "::ffff:203.0.113.7"},
	} {
		if hash(same[0]) != hash(same[1]) {
			t.Errorf("%s and %s hash apart, want one client", same[0], same[1])
		}
	}
	for _, apart := range [][2]string{
		{"2001:db8:1:2::1", "2001:db8:1:3::1"},
		{"203.0.113.7", "203.0.113.8"},
	} {
		if hash(apart[0]) == hash(apart[1]) {
			t.Errorf("%s and %s hash alike, want two clients", apart[0], apart[1])
		}
	}
}

func TestTheClientHashIsKeyedAndNeverTheAddress(t *testing.T) {
	one, two := []byte("secret one, thirty-two bytes long"), []byte("secret two, thirty-two bytes long")
	a := netip.MustParseAddr("203.0.113.7")
	if clientHash(one, a) == clientHash(two, a) {
		t.Error("the hash does not depend on the secret")
	}
	if h := clientHash(one, a); len(h) != 64 {
		t.Errorf("hash %q: want 64 hex digits", h)
	}
}
