package store

import (
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
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
