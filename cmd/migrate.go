package cmd

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/guestbook/guestbook/store"
)

func newMigrate(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate [up | down N | version | force V]",
		Short: "Change the database schema (default: up to this binary's version)",
		Long: `Apply the embedded migrations to database.primary, on a connection of
its own. Safe to run from several instances at once: they take turns, and
one that finds the schema current does nothing.

  up         apply every pending migration (the default)
  down N     revert the newest N migrations
  version    print the schema's version ("dirty" if a migration failed)
  force V    record version V without running anything, after fixing a
             migration that failed half-way`,
		Args: cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			op, n, err := parseMigrateArgs(args)
			if err != nil {
				return err
			}
			cfg, log, err := g.load()
			if err != nil {
				return err
			}
			mg, err := store.OpenMigrator(cmd.Context(), cfg.Database, log)
			if err != nil {
				return err
			}
			defer mg.Close()
			switch op {
			case "up":
				return mg.Up(cmd.Context())
			case "down":
				return mg.Down(cmd.Context(), n)
			case "force":
				return mg.Force(cmd.Context(), n)
			}
			v, dirty, err := mg.Version()
			if err != nil {
				return err
			}
			if dirty {
				fmt.Fprintf(cmd.OutOrStdout(), "%d (dirty)\n", v)
			} else {
				fmt.Fprintln(cmd.OutOrStdout(), v)
			}
			return nil
		},
	}
}

// parseMigrateArgs reads "up", "down N", "version" or "force V".
func parseMigrateArgs(args []string) (op string, n int, err error) {
	if len(args) == 0 {
		return "up", 0, nil
	}
	op = args[0]
	switch op {
	case "up", "version":
		if len(args) > 1 {
			return "", 0, fmt.Errorf("migrate %s takes no argument", op)
		}
		return op, 0, nil
	case "down", "force":
		if len(args) != 2 {
			return "", 0, fmt.Errorf("migrate %s needs a number: migrate %s N", op, op)
		}
		n, err := strconv.Atoi(args[1])
		if err != nil || (op == "down" && n < 1) || n < 0 {
			return "", 0, fmt.Errorf("migrate %s: %q is not a valid number", op, args[1])
		}
		return op, n, nil
	}
	return "", 0, fmt.Errorf("migrate: unknown step %q (up, down N, version or force V)", op)
}
