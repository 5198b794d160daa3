//go:build unix

package store

import (
	"os"
	"syscall"
)

// lockFile takes an exclusive flock on the SQLite file (creating it empty if
// needed) so that two processes migrating the same file take turns. SQLite
// itself uses fcntl locks, which flock does not interfere with on Linux.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}
