package cmd

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/spf13/cobra"

	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/tier"
)

func newHealthcheck(g *globals) *cobra.Command {
	var (
		role    string
		target  string
		timeout time.Duration
	)
	c := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 when the local role's /readyz answers 200, 1 otherwise",
		Long: `Ask a running guestbook whether it is ready, for container health checks
and scripts where there is no curl: GET /readyz on the listener of --role
in the configuration (web.listen for web and all, app.listen for app), or
on --url. Exits 0 when it answers 200, and 1 with a one-line reason
otherwise.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if target == "" {
				cfg, _, err := g.load()
				if err != nil {
					return err
				}
				if target, err = readyzURL(cfg, role); err != nil {
					return err
				}
			}
			if err := checkReady(cmd.Context(), target, timeout); err != nil {
				return fmt.Errorf("healthcheck: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ready: %s answered 200\n", target)
			return nil
		},
	}
	c.Flags().StringVar(&role, "role", tier.RoleAll, "the role whose listener to ask: web, app or all")
	c.Flags().StringVar(&target, "url", "", "the URL to ask instead, such as http://127.0.0.1:8081/readyz")
	c.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "how long to wait for the answer")
	return c
}

// readyzURL is the /readyz of role's listener on this machine: a listener
// on every address (":8080", "0.0.0.0:8080", "[::]:8080") is asked on
// loopback.
func readyzURL(cfg config.Config, role string) (string, error) {
	listen, scheme := cfg.Web.Listen, "http"
	switch role {
	case tier.RoleApp:
		listen = cfg.App.Listen
	case tier.RoleWeb, tier.RoleAll:
		if cfg.Web.TLSCert != "" {
			scheme = "https"
		}
	default:
		return "", fmt.Errorf("--role: %q is not web, app or all", role)
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("listener %q: %w", listen, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
		if ip != nil && ip.To4() == nil {
			host = "::1"
		}
	}
	return (&url.URL{Scheme: scheme, Host: net.JoinHostPort(host, port), Path: "/readyz"}).String(), nil
}

// checkReady GETs target and wants a 200 within timeout.
func checkReady(ctx context.Context, target string, timeout time.Duration) error {
	u, err := url.Parse(target)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--url: %q is not an http:// or https:// URL", target)
	}
	client := &http.Client{
		Timeout: timeout,
		Transport: &http.Transport{
			// The listener's certificate names the site, not the loopback
			// address asked here; the answer's status is all that is read,
			// and nothing secret is sent.
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // see above
			// Proxy is nil: never through an HTTP proxy from the environment.
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err // names the URL and what failed: refused, timed out
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", target, resp.Status)
	}
	return nil
}
