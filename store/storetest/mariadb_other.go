//go:build !linux

package storetest

import (
	"errors"
	"os"
	"syscall"
)

func procAttr() *syscall.SysProcAttr { return nil }

var errNoFreeze = errors.New("freezing a process is only supported on Linux")

func freeze(*os.Process) error { return errNoFreeze }

func thaw(*os.Process) error { return errNoFreeze }
