package store

import (
	"context"
	"time"
)

// Roles of a database server, as Server and BackendStats give them.
const (
	RolePrimary = "primary" // a primary candidate: the writer, or one that may become it
	RoleReplica = "replica" // a read-only replica from database.replicas
)

// Server is a database server as a visitor may see it: the name the
// configuration gives it, its role and, for a replica, how far behind the
// writer it was. It never holds a DSN, a host or a password, so a tier may
// show it on any page.
type Server struct {
	Name string        // database.primary_name or an entry of database.replica_names
	Role string        // RolePrimary or RoleReplica
	Lag  time.Duration // a replica's lag at its last check when it answered; 0 for a primary
}

// Answered records which server answered the queries of one request. A tier
// puts one in the request's context with RecordAnswers; every read and write
// that runs with that context notes its server there, at the cost of a
// context lookup and a copy of three words, and the tier shows the last one
// in the page's footer and the Guestbook-Db header. The store's methods keep
// their signatures: which server answered is a fact about the request, not
// about the entries. An Answered belongs to one request's goroutine and is
// not safe for concurrent use.
type Answered struct {
	server Server
	ok     bool
}

type answeredKey struct{}

// RecordAnswers returns ctx carrying a, so that queries run with it note
// their server in a.
func RecordAnswers(ctx context.Context, a *Answered) context.Context {
	return context.WithValue(ctx, answeredKey{}, a)
}

// AnsweredFrom is the Answered that RecordAnswers put in ctx, or nil.
func AnsweredFrom(ctx context.Context) *Answered {
	a, _ := ctx.Value(answeredKey{}).(*Answered)
	return a
}

// Server is the server that answered the last query, and false when no
// query ran.
func (a *Answered) Server() (Server, bool) {
	if a == nil {
		return Server{}, false
	}
	return a.server, a.ok
}

// noteAnswer records in ctx's Answered, if any, that b answered a query.
func noteAnswer(ctx context.Context, b *backend) {
	if a := AnsweredFrom(ctx); a != nil {
		a.server = Server{Name: b.label, Role: b.role, Lag: time.Duration(b.lag.Load())}
		a.ok = true
	}
}
