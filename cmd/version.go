package cmd

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/guestbook/guestbook/tier"
)

// version is set at build time: go build -ldflags "-X github.com/guestbook/guestbook/cmd.version=v1.2.3".
var version = "dev"

// versionString is the version with the commit it was built from, when known.
func versionString() string { return tier.VersionString(version, commit()) }

// commitID is set at build time where Go's own VCS stamp is off (make dist
// and make build, as GOFLAGS=-buildvcs=false may be in the environment):
// -ldflags "-X github.com/guestbook/guestbook/cmd.commitID=0123456789ab".
var commitID = ""

// commit is the VCS revision the binary was built from (12 digits), or
// "unknown".
func commit() string {
	if commitID != "" {
		return commitID
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				return s.Value[:12]
			}
		}
	}
	return "unknown"
}

func newVersion() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, _ []string) {
			fmt.Fprintf(cmd.OutOrStdout(), "guestbook %s %s/%s %s\n", versionString(), runtime.GOOS, runtime.GOARCH, runtime.Version())
		},
	}
}
