// Command envfile writes the packages' /etc/guestbook/guestbook.env: every
// GUESTBOOK_ variable, commented out with its default, from config.Keys(),
// so that the file lists exactly the keys the binary takes. make dist runs
// it; README.md's configuration table says what each key does.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/guestbook/guestbook/config"
)

const header = `# guestbook's settings for the units in /usr/lib/systemd/system: web,
# app and migrate read this file (EnvironmentFile=). Every variable the
# binary takes is here, commented out, with its default; uncomment and set
# the ones this machine needs. README.md's "Configuration" (also in
# /usr/share/doc/guestbook) says what each does.
#
# The DSNs are not set here: the app and migrate units hand them to the
# binary from /etc/guestbook/database.primary, database.replicas and
# migrate.primary with systemd's LoadCredential= (GUESTBOOK_*_FILE), so
# set one here and the unit refuses to start, naming both.
#
# The package manager keeps this file as you edit it on upgrades.
`

func main() {
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprint(w, header)
	section := ""
	for _, k := range config.Keys() {
		if s, _, _ := strings.Cut(k.Name, "."); s != section {
			section = s
			fmt.Fprintf(w, "\n# %s.*\n", section)
		}
		fmt.Fprintf(w, "#%s=%s\n", k.Env, quote(k.Default))
		if k.Secret {
			fmt.Fprintf(w, "#%s=\n", k.FileEnv)
		}
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, "envfile:", err)
		os.Exit(1)
	}
}

// quote single-quotes a value that systemd's EnvironmentFile would
// otherwise split or unescape.
func quote(v string) string {
	if strings.ContainsAny(v, " #'\"\\$") {
		return "'" + v + "'"
	}
	return v
}
