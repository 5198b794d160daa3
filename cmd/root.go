// Package cmd is guestbook's command line: serve, migrate, healthcheck and
// version.
package cmd

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/guestbook/guestbook/config"
)

// Execute runs the command line and returns the exit code. Every failure is
// one line on stderr, "guestbook: ...", and a non-zero code.
func Execute() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	// After the first signal, stop catching them: a second one ends the
	// process at once instead of waiting out the graceful shutdown.
	context.AfterFunc(ctx, stop)
	root := newRoot()
	if err := root.ExecuteContext(ctx); err != nil {
		msg := strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
		fmt.Fprintln(os.Stderr, "guestbook: "+msg)
		return 1
	}
	return 0
}

// globals are the flags every command takes.
type globals struct {
	configFile string
	sets       []string
}

func newRoot() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "guestbook",
		Short:         "A three-tier guestbook: static web tier, application tier, replicated database",
		SilenceUsage:  true,
		SilenceErrors: true,
		CompletionOptions: cobra.CompletionOptions{
			DisableDefaultCmd: true,
		},
	}
	root.PersistentFlags().StringVar(&g.configFile, "config", "", "YAML configuration file (see config.example.yaml)")
	root.PersistentFlags().StringArrayVar(&g.sets, "set", nil, "set a configuration key, over the file and the variables: --set web.listen=:9090 (repeatable)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return err })
	root.AddCommand(newServe(g), newMigrate(g), newHealthcheck(g), newVersion())
	return root
}

// load reads the configuration and builds the logger it asks for.
func (g *globals) load() (config.Config, *slog.Logger, error) {
	cfg, err := config.Load(g.configFile, os.Environ(), g.sets...)
	if err != nil {
		return cfg, nil, err
	}
	return cfg, newLogger(cfg.Log), nil
}

func newLogger(c config.Log) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(c.Level)) // validated already
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
