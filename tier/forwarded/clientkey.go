package forwarded

import "net/netip"

// IPv6ClientBits is how much of an IPv6 address names one client: its /64.
// An ISP gives each subscriber, and a cloud provider each machine, at least
// a /64 (RFC 6177), and the host picks any address in it at will (RFC 8981
// temporary addresses rotate on their own), so counting each IPv6 address
// apart would hand one client 2^64 fresh budgets.
const IPv6ClientBits = 64

// ClientKey is the group a client's address counts in for every per-client
// limit, in either tier: an IPv4 address alone (its /32), an IPv6 address's
// /64. Give it the address the forwarded rules trust (Trusted.ClientIP, or
// Info.Client from the middleware), never one read from a header, so a
// spoofed header can't move a client to another group. An IPv4-mapped IPv6
// address counts as its IPv4 address; an invalid one (a peer whose address
// could not be read) gives the zero Prefix, one group for all such peers.
func ClientKey(addr netip.Addr) netip.Prefix {
	addr = addr.Unmap()
	bits := 32
	if addr.Is6() {
		bits = IPv6ClientBits
	}
	p, err := addr.Prefix(bits)
	if err != nil {
		return netip.Prefix{}
	}
	return p
}
