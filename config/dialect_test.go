package config

import "testing"

func TestLookupDialectKnowsEachDriverByItsExactName(t *testing.T) {
	tests := []struct {
		name    string
		want    Dialect
		wantErr string
	}{
		{"sqlite", SQLite, ""},
		{"mysql", MySQL, ""},
		{"MySQL", Dialect{}, `database.driver: "MySQL" is not sqlite or mysql`},
		{"", Dialect{}, `database.driver: "" is not sqlite or mysql`},
		{"postgres", Dialect{}, `database.driver: "postgres" is not sqlite or mysql`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := LookupDialect(tt.name)
			if got != tt.want {
				t.Errorf("LookupDialect(%q) = %+v, want %+v", tt.name, got, tt.want)
			}
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr) {
				t.Errorf("LookupDialect(%q) error = %v, want %q", tt.name, err, tt.wantErr)
			}
			if d := (Database{Driver: tt.name}).Dialect(); d != tt.want {
				t.Errorf("Database{Driver: %q}.Dialect() = %+v, want %+v", tt.name, d, tt.want)
			}
		})
	}
}

func TestOnlyTheReplicatedDriverTakesReplicasAndOnlySQLiteMigratesItself(t *testing.T) {
	if SQLite.Replicated || !MySQL.Replicated {
		t.Errorf("replicated: sqlite %t, mysql %t; want only mysql", SQLite.Replicated, MySQL.Replicated)
	}
	if !SQLite.MigratesItself || MySQL.MigratesItself {
		t.Errorf("migrates itself: sqlite %t, mysql %t; want only sqlite", SQLite.MigratesItself, MySQL.MigratesItself)
	}
	if Default().Database.Dialect() != SQLite {
		t.Errorf("the default driver is %q, want sqlite", Default().Database.Driver)
	}
	c := Default()
	c.Database.Replicas = []string{"gb@tcp(db2)/gb"}
	if err := c.Validate(); err == nil || err.Error() != "database.replicas: replicas need database.driver mysql" {
		t.Errorf("replicas on sqlite: %v", err)
	}
}
