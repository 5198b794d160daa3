package store

import (
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/guestbook/guestbook/config"
)

func TestMySQLDSNGetsTheParametersGuestbookNeeds(t *testing.T) {
	dsn, host, err := mysqlDSN("gb:pw@tcp(db1:3307)/guestbook")
	if err != nil {
		t.Fatal(err)
	}
	if host != "db1:3307" {
		t.Errorf("host = %q", host)
	}
	c, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if !c.ParseTime || !strings.HasPrefix(c.Collation, "utf8mb4") || c.Timeout == 0 || c.ReadTimeout == 0 || c.WriteTimeout == 0 {
		t.Errorf("completed DSN lacks parseTime, utf8mb4 or timeouts: %+v", c)
	}
	if !c.InterpolateParams {
		t.Error("completed DSN prepares every statement (interpolateParams is off): two round trips a query")
	}
}

func TestMySQLDSNKeepsWhatTheOperatorSet(t *testing.T) {
	dsn, _, err := mysqlDSN("gb:pw@tcp(db1)/guestbook?timeout=2s&readTimeout=7s&collation=utf8mb4_bin")
	if err != nil {
		t.Fatal(err)
	}
	c, _ := mysql.ParseDSN(dsn)
	if c.Timeout != 2*time.Second || c.ReadTimeout != 7*time.Second || c.Collation != "utf8mb4_bin" {
		t.Errorf("operator's parameters were overwritten: %+v", c)
	}
}

func TestMySQLDSNRefusesCharacterSetsWhereInterpolationIsUnsafe(t *testing.T) {
	for _, dsn := range []string{"gb:pw@tcp(db1)/guestbook?charset=gbk", "gb:pw@tcp(db1)/guestbook?charset=utf8mb4,sjis", "gb:pw@tcp(db1)/guestbook?charset=utf8"} {
		if _, _, err := mysqlDSN(dsn); err == nil || !strings.Contains(err.Error(), "charset") {
			t.Errorf("mysqlDSN(%q) = %v, want an error naming the charset", dsn, err)
		}
	}
	if _, _, err := mysqlDSN("gb:pw@tcp(db1)/guestbook?charset=utf8mb4"); err != nil {
		t.Errorf("charset=utf8mb4: %v", err)
	}
}

func TestMySQLDSNKeepsInterpolationOffWhenTheOperatorSaysSo(t *testing.T) {
	dsn, _, err := mysqlDSN("gb:p/w?@tcp(db1)/guestbook?interpolateParams=false")
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := mysql.ParseDSN(dsn); c.InterpolateParams {
		t.Error("interpolateParams=false in the DSN was turned on")
	}
}

func TestEveryConfiguredDriverHasAStoreDialect(t *testing.T) {
	for _, want := range []config.Dialect{config.SQLite, config.MySQL} {
		d, err := dialectOf(want.Name)
		if err != nil || d.Dialect != want || d.dsn == nil || d.tunePool == nil || d.migrations == nil || d.lock == nil {
			t.Errorf("dialectOf(%q) = %+v, %v; want a complete dialect for %+v", want.Name, d, err, want)
		}
	}
	if _, err := dialectOf("postgres"); err == nil || !strings.HasPrefix(err.Error(), "database.driver: ") {
		t.Errorf(`dialectOf("postgres") = %v, want an error naming database.driver`, err)
	}
}
