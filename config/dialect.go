package config

import (
	"fmt"
	"strings"
)

// Dialect is what the configuration knows of a database driver: the value of
// database.driver that names it and what it can do. It is defined here, the
// one place that lists the drivers, so that validation, the store and the
// process ask it rather than compare driver names; the store's own dialect
// embeds it and adds how to talk to the driver.
type Dialect struct {
	// Name is the value of database.driver, and the folder of the
	// driver's embedded migrations.
	Name string
	// Replicated is true for servers that replicate: database.replicas,
	// several primary candidates in database.primary, the heartbeat and
	// failover. A driver without it is one file that is its own writer.
	Replicated bool
	// MigratesItself is true when serve applies the migrations without
	// being asked (no --migrate), so that the embedded default needs no
	// step of its own.
	MigratesItself bool
}

// The drivers guestbook speaks. SQLite is the default.
var (
	SQLite = Dialect{Name: "sqlite", MigratesItself: true}
	MySQL  = Dialect{Name: "mysql", Replicated: true}
)

// dialects lists every driver, the default first.
var dialects = []Dialect{SQLite, MySQL}

// LookupDialect returns the driver called name (a value of database.driver),
// or an error that names the key and lists the drivers there are.
func LookupDialect(name string) (Dialect, error) {
	for _, d := range dialects {
		if d.Name == name {
			return d, nil
		}
	}
	return Dialect{}, fmt.Errorf("database.driver: %q is not %s", name, dialectNames(func(Dialect) bool { return true }))
}

// Dialect is the driver database.driver names, or the zero Dialect (not
// replicated, not migrated by serve) when it names none, which Validate
// refuses.
func (d Database) Dialect() Dialect {
	dl, _ := LookupDialect(d.Driver)
	return dl
}

// dialectNames lists the names of the drivers that keep, for messages:
// "sqlite or mysql".
func dialectNames(keep func(Dialect) bool) string {
	var names []string
	for _, d := range dialects {
		if keep(d) {
			names = append(names, d.Name)
		}
	}
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}
