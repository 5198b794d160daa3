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

// Candidates lists database.primary's DSNs, of which the writable one is the
// writer: for a driver that does not replicate, database.primary as it
// is (one file); for one that does, each comma-separated DSN, trimmed, empty
// ones skipped. None when database.primary is blank, which Validate refuses.
// Validate and the store both read the list here.
func (d Database) Candidates() []string {
	if strings.TrimSpace(d.Primary) == "" {
		return nil
	}
	if !d.Dialect().Replicated {
		return []string{d.Primary}
	}
	var out []string
	for _, dsn := range strings.Split(d.Primary, ",") {
		if dsn = strings.TrimSpace(dsn); dsn != "" {
			out = append(out, dsn)
		}
	}
	return out
}

// ServerNames are what pages call each primary candidate, in the order of
// Candidates, and each replica, in the order of database.replicas. A
// candidate is database.primary_name, or, when there are several, that name
// with -1, -2, ... appended; a replica is its entry in
// database.replica_names, or replica-1, replica-2, ... when none is given.
// Validate checks these very names, and the store shows them.
func (d Database) ServerNames() (candidates, replicas []string) {
	base := d.PrimaryName
	if base == "" {
		base = "primary" // a Database built by hand, without Default
	}
	n := len(d.Candidates())
	for i := range n {
		if n == 1 {
			candidates = append(candidates, base)
		} else {
			candidates = append(candidates, base+"-"+strconv.Itoa(i+1))
		}
	}
	for i := range d.Replicas {
		if i < len(d.ReplicaNames) {
			replicas = append(replicas, d.ReplicaNames[i])
		} else {
			replicas = append(replicas, "replica-"+strconv.Itoa(i+1))
		}
	}
	return candidates, replicas
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
	candidates, replicas := d.ServerNames()
	seen := map[string]bool{}
	for _, name := range candidates {
		seen[name] = true
	}
	for _, name := range replicas {
		if seen[name] {
			return fmt.Errorf("database.replica_names: %q names two servers (with database.primary_name %q)", name, d.PrimaryName)
		}
		seen[name] = true
	}
	return nil
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
