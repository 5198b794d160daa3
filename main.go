// Command guestbook is a three-tier guestbook in one binary: a static web
// tier, an application tier and a store over a MySQL primary and replicas
// (or SQLite, the embedded default).
package main

import (
	"os"

	"github.com/guestbook/guestbook/cmd"
)

func main() {
	os.Exit(cmd.Execute())
}
