package storetest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// procAttr makes the kernel kill mariadbd when the test process dies without
// its cleanups (a panic, a -timeout), so no server outlives its test run.
func procAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// freeze stops p and returns once every one of its threads has stopped.
// kill returns as soon as the signal is queued, and a thread running on
// another core goes on until it next enters the kernel: on a loaded
// machine, long enough to answer a query the test sends right after.
func freeze(p *os.Process) error {
	if err := p.Signal(syscall.SIGSTOP); err != nil {
		return err
	}
	deadline := time.Now().Add(5 * time.Second)
	for !allStopped(p.Pid) {
		if time.Now().After(deadline) {
			return fmt.Errorf("process %d did not stop within 5s", p.Pid)
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// allStopped reports whether every thread of pid is in state T (stopped).
func allStopped(pid int) bool {
	stats, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", pid))
	if err != nil || len(stats) == 0 {
		return false
	}
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			return false
		}
		// The state follows the command name, which is in parentheses
		// and may itself hold spaces: "123 (mariadbd) T 1 ...".
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 || i+2 >= len(s) || (s[i+2] != 'T' && s[i+2] != 't') {
			return false
		}
	}
	return true
}

func thaw(p *os.Process) error { return p.Signal(syscall.SIGCONT) }
