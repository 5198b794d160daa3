package cmd

import (
	"github.com/spf13/cobra"

	"github.com/guestbook/guestbook/instance"
	"github.com/guestbook/guestbook/tier"
)

func newServe(g *globals) *cobra.Command {
	var (
		role    string
		migrate bool
	)
	c := &cobra.Command{
		Use:   "serve",
		Short: "Serve the web tier, the app tier, or both (the default)",
		Long: `Serve one role of the three-tier guestbook:
  web  the static site, proxying /visitor/ to web.upstreams
  app  the guestbook itself on app.listen
  all  both on web.listen, in one process (for development; the default)

With no configuration it runs on SQLite in ./guestbook.db and migrates it
itself. On MySQL it refuses to start while the schema is behind, unless
given --migrate.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			tuneGC()
			cfg, log, err := g.load()
			if err != nil {
				return err
			}
			md := instance.NewEC2(instance.EC2Endpoint, instance.DefaultTimeout)
			if cfg.Instance, err = instance.Resolve(cmd.Context(), cfg.Instance, md); err != nil {
				return err
			}
			p, err := tier.Open(cmd.Context(), tier.Options{
				Config: cfg, Role: role, Migrate: migrate, Version: version, Commit: commit(), Log: log,
			})
			if err != nil {
				return err
			}
			defer p.Close()
			log.Info("serving", "role", role, "instance", cfg.Instance.ID, "version", versionString())
			return p.Run(cmd.Context())
		},
	}
	c.Flags().StringVar(&role, "role", tier.RoleAll, "the tier to serve: web, app or all")
	c.Flags().BoolVar(&migrate, "migrate", false, "apply pending migrations before serving")
	return c
}
