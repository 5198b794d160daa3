package storetest

import (
	"os"
	"syscall"
)

// procAttr makes the kernel kill mariadbd when the test process dies without
// its cleanups (a panic, a -timeout), so no server outlives its test run.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

func freeze(p *os.Process) error { return p.Signal(syscall.SIGSTOP) }

func thaw(p *os.Process) error { return p.Signal(syscall.SIGCONT) }
