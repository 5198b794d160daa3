package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/guestbook/guestbook/store/storetest"
)

// The topology's machines. As in docs/deploy.md, each tier has its own
// hosts: two web, two app and two database machines.
var hostNames = []string{"web-1", "web-2", "app-1", "app-2", "db-1", "db-2"}

// hostNumber is each host's last address byte on the test network.
var hostNumber = map[string]int{"web-1": 11, "web-2": 12, "app-1": 21, "app-2": 22, "db-1": 31, "db-2": 32}

// lan is where a topology runs: its own hosts on a private network of
// network namespaces (as root, with ip), or all on loopback otherwise.
//
// The private network is a switch (a namespace holding a bridge) with one
// link per host: a veth pair whose one end is the host's eth0, in the host's
// namespace, and whose other end, named after the host, is a port of the
// bridge. The test process itself (clients, the load balancer, the browser)
// sits on a link of its own from the root namespace, at .1. Cutting a host's
// link in the switch is pulling its cable: its processes keep running, and
// nobody gets an answer from it, not even a reset.
type lan struct {
	hosts    map[string]*host
	client   string // the test process's own address on this network
	switchNS string
	rootLink string
	subnet   int      // the third byte of 10.77.x.0/24; 0 on loopback
	made     []string // the namespaces made so far, to remove
	loopback string   // on loopback: why there are no namespaces
}

// host is one machine of the topology.
type host struct {
	name  string // web-1
	addr  string // its IP address: 10.77.x.11, or 127.0.0.1 on loopback
	netns string // its namespace; empty on loopback
}

// namespacesUnavailable is why the topology cannot have hosts of its own
// here, or "" when it can.
func namespacesUnavailable() string {
	if os.Getenv("GBTEST_LOOPBACK") != "" {
		return "GBTEST_LOOPBACK is set"
	}
	if os.Geteuid() != 0 {
		return "making network namespaces needs root"
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return "making network namespaces needs ip (Debian: apt-get install iproute2)"
	}
	return ""
}

// newLAN makes the hosts, as namespaces on a private network when it can
// and all on loopback when it cannot (saying why in the log). Everything it
// made is removed when the test ends, after the processes in it (cleanups
// run last-in first-out, and the network is made first).
func newLAN(t *testing.T) *lan {
	t.Helper()
	why := namespacesUnavailable()
	if why == "" {
		n, err := makeNamespaces(t)
		if err == nil {
			return n
		}
		why = fmt.Sprintf("could not make network namespaces: %v", err)
	}
	t.Logf("the tiers share loopback instead of hosts of their own: %s", why)
	n := &lan{hosts: map[string]*host{}, client: "127.0.0.1", loopback: why}
	for _, name := range hostNames {
		n.hosts[name] = &host{name: name, addr: "127.0.0.1"}
	}
	return n
}

// subnets hands each topology of this process a /24 of its own.
var subnets = struct {
	sync.Mutex
	inUse map[int]bool
}{inUse: map[int]bool{}}

// pickSubnet chooses x for 10.77.x.0/24 such that no route of this machine
// covers it (other than the default route) and no other topology uses it.
func pickSubnet() (int, error) {
	subnets.Lock()
	defer subnets.Unlock()
	for range 50 {
		r, err := rand.Int(rand.Reader, big.NewInt(250))
		if err != nil {
			return 0, err
		}
		x := int(r.Int64()) + 2
		if subnets.inUse[x] {
			continue
		}
		out, err := exec.Command("ip", "-4", "route", "show", "table", "all", "match", fmt.Sprintf("10.77.%d.0/24", x)).CombinedOutput()
		if err != nil {
			return 0, fmt.Errorf("ip route show: %v: %s", err, out)
		}
		taken := false
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			if line != "" && !strings.HasPrefix(line, "default") {
				taken = true
			}
		}
		if !taken {
			subnets.inUse[x] = true
			return x, nil
		}
	}
	return 0, fmt.Errorf("no free /24 in 10.77.0.0/16")
}

func makeNamespaces(t *testing.T) (*lan, error) {
	x, err := pickSubnet()
	if err != nil {
		return nil, err
	}
	id := make([]byte, 3)
	rand.Read(id)
	tag := hex.EncodeToString(id)
	n := &lan{
		hosts:    map[string]*host{},
		client:   fmt.Sprintf("10.77.%d.1", x),
		switchNS: "gbe2e-" + tag + "-switch",
		rootLink: "gbe2e" + tag, // 11 bytes: names of links stop at 15
		subnet:   x,
	}
	steps := [][]string{
		{"netns", "add", n.switchNS},
		{"-n", n.switchNS, "link", "add", "br0", "type", "bridge"},
		{"-n", n.switchNS, "link", "set", "br0", "up"},
		{"link", "add", n.rootLink, "type", "veth", "peer", "name", "test", "netns", n.switchNS},
		{"-n", n.switchNS, "link", "set", "test", "master", "br0", "up"},
		{"addr", "add", n.client + "/24", "dev", n.rootLink},
		{"link", "set", n.rootLink, "up"},
	}
	for _, name := range hostNames {
		h := &host{name: name, addr: fmt.Sprintf("10.77.%d.%d", x, hostNumber[name]), netns: "gbe2e-" + tag + "-" + name}
		n.hosts[name] = h
		steps = append(steps,
			[]string{"netns", "add", h.netns},
			[]string{"-n", h.netns, "link", "set", "lo", "up"},
			[]string{"-n", n.switchNS, "link", "add", name, "type", "veth", "peer", "name", "eth0", "netns", h.netns},
			[]string{"-n", n.switchNS, "link", "set", name, "master", "br0", "up"},
			[]string{"-n", h.netns, "addr", "add", h.addr + "/24", "dev", "eth0"},
			[]string{"-n", h.netns, "link", "set", "eth0", "up"},
		)
	}
	for _, args := range steps {
		if err := ip(args...); err != nil {
			n.remove(t)
			return nil, err
		}
		if args[0] == "netns" {
			n.made = append(n.made, args[2])
		}
	}
	t.Cleanup(func() { n.remove(t) })
	t.Logf("hosts on 10.77.%d.0/24 (namespaces gbe2e-%s-*): test client .1, web .11 .12, app .21 .22, db .31 .32", x, tag)
	return n, nil
}

// remove deletes the namespaces and the test process's link. Deleting a
// namespace deletes the veth ends in it, and so their peers.
func (n *lan) remove(t *testing.T) {
	ip("link", "del", n.rootLink) // may not have been made, or be gone with the switch
	for _, ns := range n.made {
		if err := ip("netns", "del", ns); err != nil {
			t.Errorf("remove the test network: %v", err)
		}
	}
	subnets.Lock()
	delete(subnets.inUse, n.subnet)
	subnets.Unlock()
}

func ip(args ...string) error {
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// namespaced reports whether the hosts are namespaces of their own.
func (n *lan) namespaced() bool { return n.switchNS != "" }

// setLink plugs the host's cable in (up) or pulls it out (down).
func (n *lan) setLink(t *testing.T, name string, up bool) {
	t.Helper()
	state := "down"
	if up {
		state = "up"
	}
	if err := ip("-n", n.switchNS, "link", "set", name, state); err != nil {
		t.Fatal(err)
	}
}

// command is name with args run on host h: through ip netns exec, which
// enters the namespace and then executes name in its own process, so that
// signals sent to the command reach it.
func (h *host) command(name string, args ...string) *exec.Cmd {
	if h.netns == "" {
		return exec.Command(name, args...)
	}
	return exec.Command("ip", append([]string{"netns", "exec", h.netns, name}, args...)...)
}

// prefix is what command puts before a command line, for storetest.
func (h *host) prefix() []string {
	if h.netns == "" {
		return nil
	}
	return []string{"ip", "netns", "exec", h.netns}
}

// listen is the host's address with port, or a free loopback port on
// loopback, where the hosts share one address.
func (h *host) listen(t *testing.T, port int) string {
	t.Helper()
	if h.netns == "" {
		return storetest.FreeAddr(t)
	}
	return fmt.Sprintf("%s:%d", h.addr, port)
}
