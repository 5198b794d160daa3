//go:build !unix

package store

// lockFile is a no-op where flock is missing: there, run one migrate at a time.
func lockFile(string) (func(), error) { return func() {}, nil }
