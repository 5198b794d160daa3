package storetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/guestbook/guestbook/config"
)

// The account replicas connect to their primary as.
const (
	replUser     = "repl"
	replPassword = "repl-secret"
)

// StartPair starts two private servers, the replica replicating from the
// primary with GTIDs and read_only on, and returns once both replication
// threads run. opts apply to both servers. The pair is up in about three
// seconds: the two datadirs are installed and started side by side.
func StartPair(t testing.TB, opts ...Option) (primary, replica *Server) {
	t.Helper()
	return StartPairWith(t, nil, nil, opts...)
}

// StartPairWith is StartPair with options for each server besides the common
// opts: where each runs and listens, for a pair on two hosts of a test's
// network (WithCommandPrefix, WithBindAddress).
func StartPairWith(t testing.TB, primaryOpts, replicaOpts []Option, opts ...Option) (primary, replica *Server) {
	t.Helper()
	primary = newServer(t, slices.Concat(opts, primaryOpts))
	replica = newServer(t, slices.Concat(opts, replicaOpts))
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, s := range []*Server{primary, replica} {
		wg.Go(func() {
			if errs[i] = s.install(); errs[i] == nil {
				errs[i] = s.launchOnFreePort()
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	primary.Exec(t, fmt.Sprintf("CREATE USER '%s'@'%%' IDENTIFIED BY '%s'", replUser, replPassword))
	primary.Exec(t, fmt.Sprintf("GRANT REPLICATION SLAVE ON *.* TO '%s'@'%%'", replUser))
	replica.replicateFrom(t, primary)
	return primary, replica
}

// replicateFrom makes a fresh server a read-only replica of primary, from the
// start of primary's binary log, and waits until replication runs.
func (s *Server) replicateFrom(t testing.TB, primary *Server) {
	t.Helper()
	s.Exec(t, "SET GLOBAL read_only = ON")
	s.Exec(t, fmt.Sprintf("CHANGE MASTER TO MASTER_HOST='%s', MASTER_PORT=%d, "+
		"MASTER_USER='%s', MASTER_PASSWORD='%s', MASTER_USE_GTID=slave_pos, MASTER_CONNECT_RETRY=1",
		primary.host, primary.port, replUser, replPassword))
	s.Exec(t, "START SLAVE")
	s.mu.Lock()
	s.readOnly, s.primary = true, primary
	s.mu.Unlock()
	primary.mu.Lock()
	primary.replicas = append(primary.replicas, s)
	primary.mu.Unlock()
	s.waitReplicating(t)
}

// waitReplicating waits until both replication threads run.
func (s *Server) waitReplicating(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(upTimeout)
	for {
		st, err := s.slaveStatus()
		if err == nil && st["Slave_IO_Running"] == "Yes" && st["Slave_SQL_Running"] == "Yes" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %s: replication not running after %s: %v io=%q sql=%q io error %q, sql error %q",
				s.Addr(), upTimeout, err, st["Slave_IO_Running"], st["Slave_SQL_Running"],
				st["Last_IO_Error"], st["Last_SQL_Error"])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// slaveStatus is SHOW SLAVE STATUS by column name; empty when the server
// replicates from nothing.
func (s *Server) slaveStatus() (map[string]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := s.rootDB.QueryContext(ctx, "SHOW SLAVE STATUS")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	st := map[string]string{}
	if !rows.Next() {
		return st, rows.Err()
	}
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	vals := make([]sql.RawBytes, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, err
	}
	for i, c := range cols {
		st[c] = string(vals[i])
	}
	return st, rows.Err()
}

// SlaveStatus is the replica's SHOW SLAVE STATUS by column name
// (Slave_SQL_Running, Gtid_IO_Pos, Seconds_Behind_Master...): empty when it
// replicates from nothing.
func (s *Server) SlaveStatus(t testing.TB) map[string]string {
	t.Helper()
	st, err := s.slaveStatus()
	if err != nil {
		t.Fatalf("replica %s: SHOW SLAVE STATUS: %v", s.Addr(), err)
	}
	return st
}

// PauseReplication stops the replica's SQL thread: it still receives the
// primary's events but applies none, so it falls behind (and its lag grows)
// until ResumeReplication.
func (s *Server) PauseReplication(t testing.TB) {
	t.Helper()
	s.Exec(t, "STOP SLAVE SQL_THREAD")
}

// ResumeReplication starts replication again and waits until it runs. It
// may still be behind: WaitCaughtUp waits for that.
func (s *Server) ResumeReplication(t testing.TB) {
	t.Helper()
	s.Exec(t, "START SLAVE")
	s.waitReplicating(t)
}

// WaitCaughtUp waits until the replica has applied every transaction that
// primary has written to its binary log so far. It fails at once when
// replication stopped on an error, and after a minute otherwise.
func (s *Server) WaitCaughtUp(t testing.TB, primary *Server) {
	t.Helper()
	pos := primary.QueryString(t, "SELECT @@gtid_binlog_pos")
	deadline := time.Now().Add(upTimeout)
	for {
		if s.QueryString(t, "SELECT MASTER_GTID_WAIT(?, 1)", pos) == "0" {
			return
		}
		st := s.SlaveStatus(t)
		failed := st["Last_IO_Errno"] != "0" || st["Last_SQL_Errno"] != "0"
		if failed || time.Now().After(deadline) {
			t.Fatalf("replica %s: not caught up with %s (%s): at %q, io %s %q, sql %s %q",
				s.Addr(), primary.Addr(), pos, s.QueryString(t, "SELECT @@gtid_slave_pos"),
				st["Slave_IO_Running"], st["Last_IO_Error"], st["Slave_SQL_Running"], st["Last_SQL_Error"])
		}
	}
}

// Promote makes a replica a primary, as a failover does: replication stopped
// and forgotten, read_only off.
func (s *Server) Promote(t testing.TB) {
	t.Helper()
	s.Exec(t, "STOP SLAVE")
	s.Exec(t, "RESET SLAVE ALL")
	s.Exec(t, "SET GLOBAL read_only = OFF")
	s.mu.Lock()
	old := s.primary
	s.readOnly, s.primary = false, nil
	s.mu.Unlock()
	if old != nil {
		old.mu.Lock()
		old.replicas = without(old.replicas, s)
		old.mu.Unlock()
	}
}

func without(list []*Server, s *Server) []*Server {
	var out []*Server
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}

// CreateDatabase creates database name (utf8mb4) on this primary and waits
// until its replicas have it too.
func (s *Server) CreateDatabase(t testing.TB, name string) {
	t.Helper()
	s.Exec(t, "CREATE DATABASE "+quoteIdent(name)+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci")
	s.waitReplicas(t)
}

// CreateAppUser creates user on this primary (and so, by replication, on its
// replica) with only what the guestbook needs on database db: reading and
// writing rows and running migrations. It has no SUPER, no REPLICATION
// CLIENT and no other global privilege, so it cannot write on a read-only
// replica nor read SHOW SLAVE STATUS. It returns that user's DSNs for this
// server and for its replica ("" when it has none), once the replica has the
// user.
func (s *Server) CreateAppUser(t testing.TB, db, user, password string) (primaryDSN, replicaDSN string) {
	t.Helper()
	account := quoteString(user) + "@'%'"
	s.Exec(t, "CREATE USER "+account+" IDENTIFIED BY "+quoteString(password))
	s.Exec(t, "GRANT SELECT, INSERT, UPDATE, DELETE, CREATE, ALTER, INDEX, DROP ON "+
		quoteIdent(db)+".* TO "+account)
	s.waitReplicas(t)
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.replicas) > 0 {
		replicaDSN = s.replicas[0].DSN(user, password, db)
	}
	return s.DSN(user, password, db), replicaDSN
}

// waitReplicas waits until every replica of s has caught up with it.
func (s *Server) waitReplicas(t testing.TB) {
	t.Helper()
	s.mu.Lock()
	replicas := append([]*Server(nil), s.replicas...)
	s.mu.Unlock()
	for _, r := range replicas {
		r.WaitCaughtUp(t, s)
	}
}

func quoteIdent(name string) string {
	return "`" + strings.ReplaceAll(name, "`", "``") + "`"
}

func quoteString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// PairConfig starts a private primary and replica pair with a migrated
// database "gb" and returns a store configuration that connects to both as
// an application user without SUPER or REPLICATION CLIENT, with a health
// interval of 100ms and a lag allowance of 1s (change them before opening).
func PairConfig(t testing.TB) (cfg config.Database, primary, replica *Server) {
	t.Helper()
	primary, replica = StartPair(t)
	primary.CreateDatabase(t, "gb")
	primaryDSN, replicaDSN := primary.CreateAppUser(t, "gb", "gbapp", "app-pw")
	cfg = config.Default().Database
	cfg.Driver, cfg.Primary, cfg.Replicas = "mysql", primaryDSN, []string{replicaDSN}
	cfg.HealthInterval, cfg.MaxReplicaLag, cfg.ConnectTimeout = 100*time.Millisecond, time.Second, 10*time.Second
	Migrate(t, cfg)
	return cfg, primary, replica
}
