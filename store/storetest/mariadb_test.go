package storetest_test

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"

	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/store/storetest"
)

func TestPairReplicatesARowWrittenOnThePrimary(t *testing.T) {
	t.Parallel()
	primary, replica := storetest.StartPair(t)
	if got := replica.QueryString(t, "SELECT @@read_only"); got != "1" {
		t.Errorf("replica read_only = %s, want 1", got)
	}
	primary.CreateDatabase(t, "gb")
	primary.Exec(t, "CREATE TABLE gb.t (id INT PRIMARY KEY, v VARCHAR(20))")
	primary.Exec(t, "INSERT INTO gb.t VALUES (1, 'from the primary')")

	// Wait by GTID, not by polling the table: until the CREATE TABLE is
	// applied, the query is an error, not a zero.
	replica.WaitCaughtUp(t, primary)
	if n := count(t, replica, "SELECT COUNT(*) FROM gb.t WHERE v = 'from the primary'"); n != 1 {
		t.Errorf("replica has %d copies of the row, want 1", n)
	}
}

func TestRowWrittenOnlyOnTheReplicaDoesNotStopReplication(t *testing.T) {
	t.Parallel()
	primary, replica := storetest.StartPair(t)
	primary.CreateDatabase(t, "gb")
	primary.Exec(t, "CREATE TABLE gb.t (id INT PRIMARY KEY)")
	replica.WaitCaughtUp(t, primary)

	replica.Exec(t, "INSERT INTO gb.t VALUES (100)") // root may write on a read-only server
	primary.Exec(t, "INSERT INTO gb.t VALUES (1)")
	replica.WaitCaughtUp(t, primary)
	if n := count(t, replica, "SELECT COUNT(*) FROM gb.t"); n != 2 {
		t.Fatalf("replica has %d rows, want its own and the primary's", n)
	}
	if n := count(t, primary, "SELECT COUNT(*) FROM gb.t"); n != 1 {
		t.Fatalf("primary has %d rows, want 1: the replica's row is its own", n)
	}
}

func TestPauseReplicationHoldsBackARowUntilResumed(t *testing.T) {
	t.Parallel()
	primary, replica := storetest.StartPair(t)
	primary.CreateDatabase(t, "gb")
	primary.Exec(t, "CREATE TABLE gb.t (id INT PRIMARY KEY)")
	replica.WaitCaughtUp(t, primary)

	replica.PauseReplication(t)
	primary.Exec(t, "INSERT INTO gb.t VALUES (1)")
	// The row has reached the replica's relay log, and still is not applied.
	want := primary.QueryString(t, "SELECT @@gtid_binlog_pos")
	eventually(t, func() bool { return replica.SlaveStatus(t)["Gtid_IO_Pos"] == want })
	if n := count(t, replica, "SELECT COUNT(*) FROM gb.t"); n != 0 {
		t.Fatalf("replica has %d rows while paused, want 0", n)
	}

	replica.ResumeReplication(t)
	replica.WaitCaughtUp(t, primary)
	if n := count(t, replica, "SELECT COUNT(*) FROM gb.t"); n != 1 {
		t.Fatalf("replica has %d rows after resuming, want 1", n)
	}
}

func TestStopOrKillThenStartKeepsTheData(t *testing.T) {
	t.Parallel()
	s := storetest.StartServer(t)
	s.Exec(t, "CREATE DATABASE gb")
	s.Exec(t, "CREATE TABLE gb.t (id INT PRIMARY KEY)")
	s.Exec(t, "INSERT INTO gb.t VALUES (1)")

	s.Stop(t)
	if err := ping(s.RootDSN(), 2*time.Second); err == nil {
		t.Fatal("a stopped server answers")
	}
	s.Start(t)
	s.Exec(t, "INSERT INTO gb.t VALUES (2)")

	s.Kill(t)
	if err := ping(s.RootDSN(), 2*time.Second); err == nil {
		t.Fatal("a killed server answers")
	}
	s.Start(t)
	if n := count(t, s, "SELECT COUNT(*) FROM gb.t"); n != 2 {
		t.Fatalf("%d rows after stop, start, kill, start; want 2", n)
	}
}

// A command prefix (ip netns exec, in the e2e tests) runs mariadbd, and the
// server's signals still reach mariadbd itself.
func TestServerRunThroughACommandPrefixIsKilledItself(t *testing.T) {
	t.Parallel()
	s := storetest.StartServer(t, storetest.WithCommandPrefix("env", "TZ=KST-9"))
	if tz := s.QueryString(t, "SELECT @@system_time_zone"); tz != "KST" {
		t.Errorf("the server's time zone is %q, want KST from the prefix", tz)
	}
	s.Kill(t)
	if err := ping(s.RootDSN(), 2*time.Second); err == nil {
		t.Fatal("the server answers after Kill: the signal went to the prefix, not to mariadbd")
	}
}

func TestReplicaCatchesUpAfterEitherServerRestarts(t *testing.T) {
	t.Parallel()
	primary, replica := storetest.StartPair(t)
	primary.CreateDatabase(t, "gb")
	primary.Exec(t, "CREATE TABLE gb.t (id INT PRIMARY KEY)")

	replica.Stop(t)
	primary.Exec(t, "INSERT INTO gb.t VALUES (1)")
	replica.Start(t)
	if got := replica.QueryString(t, "SELECT @@read_only"); got != "1" {
		t.Errorf("restarted replica: read_only = %s, want 1", got)
	}
	replica.WaitCaughtUp(t, primary)

	primary.Stop(t)
	primary.Start(t)
	primary.Exec(t, "INSERT INTO gb.t VALUES (2)")
	replica.WaitCaughtUp(t, primary)
	if n := count(t, replica, "SELECT COUNT(*) FROM gb.t"); n != 2 {
		t.Fatalf("replica has %d rows after the restarts, want 2", n)
	}
}

func TestFrozenServerAnswersNothingUntilThawed(t *testing.T) {
	t.Parallel()
	s := storetest.StartServer(t)
	s.Freeze(t)
	if err := ping(s.RootDSN(), 500*time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ping a frozen server: %v, want a timeout", err)
	}
	s.Thaw(t)
	if err := ping(s.RootDSN(), 5*time.Second); err != nil {
		t.Fatalf("ping a thawed server: %v", err)
	}
}

func TestPromoteMakesTheReplicaWritable(t *testing.T) {
	t.Parallel()
	primary, replica := storetest.StartPair(t)
	primary.CreateDatabase(t, "gb")
	primary.Exec(t, "CREATE TABLE gb.t (id INT PRIMARY KEY)")
	_, replicaDSN := primary.CreateAppUser(t, "gb", "app", "app-secret")
	app := open(t, replicaDSN)
	if _, err := app.Exec("INSERT INTO t VALUES (1)"); mysqlErrno(err) != 1290 {
		t.Fatalf("app write on the replica before promotion: %v, want error 1290", err)
	}

	primary.Stop(t)
	replica.Promote(t)
	if _, err := app.Exec("INSERT INTO t VALUES (1)"); err != nil {
		t.Fatalf("app write on the promoted replica: %v", err)
	}
	if st := replica.SlaveStatus(t); len(st) != 0 {
		t.Errorf("promoted replica still has replication configured: %v", st)
	}
}

func TestAppUserHasNoSuperAndCannotWriteOnTheReplica(t *testing.T) {
	t.Parallel()
	primary, replica := storetest.StartPair(t)
	primary.CreateDatabase(t, "gb")
	primaryDSN, replicaDSN := primary.CreateAppUser(t, "gb", "app", "it's a secret\\")

	// What the app needs: migrations and writes on the primary, as the app user.
	cfg := config.Default().Database
	cfg.Driver, cfg.Primary = "mysql", primaryDSN
	storetest.Migrate(t, cfg)
	p := open(t, primaryDSN)
	if _, err := p.Exec("CREATE TABLE t (id INT PRIMARY KEY)"); err != nil {
		t.Fatalf("app creates a table on the primary: %v", err)
	}
	if _, err := p.Exec("INSERT INTO t VALUES (1)"); err != nil {
		t.Fatalf("app writes on the primary: %v", err)
	}
	replica.WaitCaughtUp(t, primary)

	r := open(t, replicaDSN)
	var n int
	if err := r.QueryRow("SELECT COUNT(*) FROM t").Scan(&n); err != nil || n != 1 {
		t.Fatalf("app reads the replica: %d rows, %v; want 1", n, err)
	}
	if _, err := r.Exec("INSERT INTO t VALUES (2)"); mysqlErrno(err) != 1290 {
		t.Fatalf("app writes on the read-only replica: %v, want error 1290", err)
	}
	for _, q := range []string{"SHOW SLAVE STATUS", "SHOW MASTER STATUS"} {
		if _, err := r.Exec(q); mysqlErrno(err) != 1227 {
			t.Errorf("app runs %s: %v, want error 1227 (access denied)", q, err)
		}
	}
	grants := strings.Join(showGrants(t, r), "\n")
	for _, priv := range []string{"SUPER", "REPLICA", "SLAVE", "BINLOG", "READ ONLY ADMIN", "ALL PRIVILEGES"} {
		if strings.Contains(grants, priv) {
			t.Errorf("app user has %s:\n%s", priv, grants)
		}
	}
}

func TestScriptReplicaReceivesDatabasesCreatedOnThePrimary(t *testing.T) {
	replicaDSN := storetest.ReplicaDSN(t)
	c, err := mysql.ParseDSN(storetest.NewMySQLDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	replica := open(t, replicaDSN)
	var readOnly int
	if err := replica.QueryRow("SELECT @@read_only").Scan(&readOnly); err != nil || readOnly != 1 {
		t.Errorf("script's replica: read_only = %d, %v; want 1", readOnly, err)
	}
	eventually(t, func() bool {
		var n int
		err := replica.QueryRow("SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?", c.DBName).Scan(&n)
		return err == nil && n == 1
	})

	// A row only the replica has (as tests use to prove reads reach it) must
	// not stop replication: each server writes its own GTID domain.
	primary := open(t, c.FormatDSN())
	if _, err := primary.Exec("CREATE TABLE t (id INT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	table := "`" + c.DBName + "`.t"
	eventually(t, func() bool {
		_, err := replica.Exec("INSERT INTO " + table + " VALUES (100)")
		return err == nil
	})
	if _, err := primary.Exec("INSERT INTO t VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool {
		var n int
		err := replica.QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n)
		return err == nil && n == 2
	})
}

// eventually fails the test unless cond turns true within 30 seconds.
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func count(t *testing.T, s *storetest.Server, query string) int {
	t.Helper()
	n, err := strconv.Atoi(s.QueryString(t, query))
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func open(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func ping(dsn string, timeout time.Duration) error {
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return db.PingContext(ctx)
}

func mysqlErrno(err error) uint16 {
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number
	}
	return 0
}

func showGrants(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query("SHOW GRANTS")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var g string
		if err := rows.Scan(&g); err != nil {
			t.Fatal(err)
		}
		out = append(out, g)
	}
	return out
}
