package config

import (
	"fmt"
	"strconv"
	"strings"
)

// The names of database servers are shown to every visitor (the footer of
// each page, the topology page, the Guestbook-Db header), so they are
// configured words rather than anything taken from a DSN: a host, a port or
// a password never reaches a page.

// maxNameLen bounds a database server's name.
const maxNameLen = 63

// CandidateName is what pages call primary candidate i (from 0) of n:
// database.primary_name, or, when database.primary lists several candidates,
// that name with -1, -2, ... appended.
func (d Database) CandidateName(i, n int) string {
	base := d.PrimaryName
	if base == "" {
		base = "primary" // a Database built by hand, without Default
	}
	if n <= 1 {
		return base
	}
	return base + "-" + strconv.Itoa(i+1)
}

// ReplicaName is what pages call replica i (from 0): its entry in
// database.replica_names, or replica-1, replica-2, ... when none is given.
func (d Database) ReplicaName(i int) string {
	if i < len(d.ReplicaNames) {
		return d.ReplicaNames[i]
	}
	return "replica-" + strconv.Itoa(i+1)
}

// checkNames refuses names that could not go into a header as they are,
// replica names that do not pair off with the replicas, and two servers of
// one name (a page could not tell them apart).
func (d Database) checkNames() error {
	if !ValidName(d.PrimaryName) {
		return fmt.Errorf("database.primary_name: %q must be 1 to %d letters, digits, dots, dashes or underscores", d.PrimaryName, maxNameLen)
	}
	if len(d.ReplicaNames) > 0 && len(d.ReplicaNames) != len(d.Replicas) {
		return fmt.Errorf("database.replica_names: %d names for %d database.replicas; give one per replica, in the same order, or none",
			len(d.ReplicaNames), len(d.Replicas))
	}
	for _, name := range d.ReplicaNames {
		if !ValidName(name) {
			return fmt.Errorf("database.replica_names: %q must be 1 to %d letters, digits, dots, dashes or underscores", name, maxNameLen)
		}
	}
	// Every name as pages show it, made-up ones too (primary-2, replica-1):
	// primary_name "replica-1" beside an unnamed replica is two of one name.
	seen := map[string]bool{}
	n := d.candidateCount()
	for i := range n {
		seen[d.CandidateName(i, n)] = true
	}
	for i := range d.Replicas {
		name := d.ReplicaName(i)
		if seen[name] {
			return fmt.Errorf("database.replica_names: %q names two servers (with database.primary_name %q)", name, d.PrimaryName)
		}
		seen[name] = true
	}
	return nil
}

// candidateCount is how many primary candidates database.primary lists: one
// for a driver that does not replicate, each comma-separated DSN for one
// that does.
func (d Database) candidateCount() int {
	if !d.Dialect().Replicated {
		return 1
	}
	n := 0
	for _, dsn := range strings.Split(d.Primary, ",") {
		if strings.TrimSpace(dsn) != "" {
			n++
		}
	}
	return max(n, 1)
}

// ValidName reports whether name is a database server's name that can be
// shown as it is: 1 to 63 ASCII letters, digits, dots, dashes or underscores.
func ValidName(name string) bool {
	if name == "" || len(name) > maxNameLen {
		return false
	}
	for _, c := range []byte(name) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
