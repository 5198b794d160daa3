package store

import (
	"errors"
	"sort"
	"strings"
)

// Coded errors. They travel up wrapped with context; each tier turns them into
// a status once, with errors.Is or errors.As.
var (
	// ErrNotFound: no entry has that id.
	ErrNotFound = errors.New("not found")
	// ErrForbidden: the secret given may not delete that entry.
	ErrForbidden = errors.New("forbidden")
	// ErrUnavailable: the database can't take the request now; try again.
	ErrUnavailable = errors.New("database unavailable")
	// ErrKeyReused: an entry was already created with that idempotency key
	// by a request that asked for something else.
	ErrKeyReused = errors.New("idempotency key already used by a different request")
	// ErrSchemaBehind: the database's schema is older than this binary's.
	ErrSchemaBehind = errors.New("schema is behind")
	// ErrWriteLimited: the client has created as many entries as the write
	// limit allows in its window; a *LimitError says until when.
	ErrWriteLimited = errors.New("write limit reached")
)

// ValidationError names each bad field of a Draft and its problem.
type ValidationError struct {
	Fields map[string]Problem
}

func (e *ValidationError) Error() string {
	names := make([]string, 0, len(e.Fields))
	for name, p := range e.Fields {
		names = append(names, name+": "+string(p))
	}
	sort.Strings(names)
	return "invalid entry: " + strings.Join(names, ", ")
}
