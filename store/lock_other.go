//go:build !unix

package store

import "context"

// lockFile is a no-op where flock is missing: there, run one migrate at a time.
func lockFile(context.Context, string) (func(), error) { return func() {}, nil }
