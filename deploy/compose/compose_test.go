// Package compose's test checks deploy/compose/compose.yaml without a
// container engine or a registry: the topology it promises, configurations
// the binary accepts, the order of start, and Prometheus's targets.
package compose

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/guestbook/guestbook/config"
)

type service struct {
	Image       string
	Command     []string
	Environment map[string]string
	Volumes     []string
	Ports       []string
	DependsOn   map[string]struct{ Condition string } `yaml:"depends_on"`
	Healthcheck struct{ Test []string }
}

// interpolated replaces ${VAR:-default} and ${VAR:?message} as compose
// does with nothing set: the default, or empty.
var interpolation = regexp.MustCompile(`\$\{[A-Z_]+(:-([^}]*)|:\?[^}]*)?\}`)

func loadCompose(t *testing.T) map[string]service {
	t.Helper()
	data, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	text := interpolation.ReplaceAllStringFunc(string(data), func(m string) string {
		return interpolation.FindStringSubmatch(m)[2]
	})
	var doc struct{ Services map[string]service }
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatalf("compose.yaml: %v", err)
	}
	return doc.Services
}

func environ(s service) []string {
	var env []string
	for k, v := range s.Environment {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env
}

func TestComposeRunsTheWholeTopologyInOrder(t *testing.T) {
	services := loadCompose(t)
	var names []string
	for name := range services {
		names = append(names, name)
	}
	sort.Strings(names)
	want := []string{"app-1", "app-2", "db-primary", "db-replica", "migrate", "prometheus", "web-1", "web-2"}
	if !slices.Equal(names, want) {
		t.Fatalf("compose.yaml has services %q, want %q", names, want)
	}
	for _, db := range []string{"db-primary", "db-replica"} {
		if !strings.HasPrefix(services[db].Image, "docker.io/library/mariadb:") {
			t.Errorf("%s runs %q, want the official mariadb image", db, services[db].Image)
		}
		for _, v := range services[db].Volumes {
			if host, _, _ := strings.Cut(v, ":"); strings.HasPrefix(host, "./") {
				if _, err := os.Stat(host); err != nil {
					t.Errorf("%s mounts %s: %v", db, host, err)
				}
			}
		}
	}
	if !slices.ContainsFunc(services["db-replica"].Volumes, func(v string) bool { return strings.Contains(v, "replica.sh") }) ||
		!slices.Contains(services["db-replica"].Command, "--read-only=ON") {
		t.Errorf("db-replica is not set up as a read-only replica by replica.sh: %+v", services["db-replica"])
	}
	if c := services["migrate"].DependsOn["db-primary"].Condition; c != "service_healthy" {
		t.Errorf("migrate waits for db-primary to be %q, want service_healthy", c)
	}
	for _, app := range []string{"app-1", "app-2"} {
		if c := services[app].DependsOn["migrate"].Condition; c != "service_completed_successfully" {
			t.Errorf("%s waits for migrate to be %q, want service_completed_successfully: migrate runs once, before the apps", app, c)
		}
	}
	for _, v := range services["prometheus"].Volumes {
		if host, _, _ := strings.Cut(v, ":"); !strings.HasPrefix(host, "../prometheus/") {
			t.Errorf("prometheus mounts %s, want deploy/prometheus's files", host)
		} else if _, err := os.Stat(host); err != nil {
			t.Errorf("prometheus mounts %s: %v", host, err)
		}
	}
}

func TestComposeGivesEachGuestbookAConfigurationTheBinaryAccepts(t *testing.T) {
	services := loadCompose(t)
	roles := map[string]string{"app-1": "app", "app-2": "app", "web-1": "web", "web-2": "web"}
	for name, role := range roles {
		s := services[name]
		cfg, err := config.Load("", environ(s))
		if err != nil {
			t.Errorf("%s: the binary refuses its environment: %v", name, err)
			continue
		}
		if !slices.Equal(s.Command, []string{"serve", "--role=" + role}) {
			t.Errorf("%s runs %q, want serve --role=%s", name, s.Command, role)
		}
		if !slices.Equal(s.Healthcheck.Test, []string{"CMD", "/usr/bin/guestbook", "healthcheck", "--role=" + role}) {
			t.Errorf("%s's health check is %q, want guestbook healthcheck --role=%s", name, s.Healthcheck.Test, role)
		}
		if cfg.Instance.ID != name || cfg.Metrics.Listen != ":9100" {
			t.Errorf("%s: instance.id %q, metrics.listen %q; want its name and :9100", name, cfg.Instance.ID, cfg.Metrics.Listen)
		}
		switch role {
		case "web":
			for _, u := range cfg.Web.Upstreams {
				if !slices.Contains([]string{"http://app-1:8081", "http://app-2:8081"}, u) {
					t.Errorf("%s proxies to %s, which is no app service", name, u)
				}
			}
			if len(cfg.Web.Upstreams) != 2 {
				t.Errorf("%s proxies to %q, want both app services", name, cfg.Web.Upstreams)
			}
		case "app":
			if cfg.Database.Driver != "mysql" || len(cfg.Database.Candidates()) != 2 || len(cfg.Database.Replicas) != 1 {
				t.Errorf("%s: driver %s, primary candidates %d, replicas %d; want mysql, both servers, the replica",
					name, cfg.Database.Driver, len(cfg.Database.Candidates()), len(cfg.Database.Replicas))
			}
		}
	}
	if _, err := config.Load("", environ(services["migrate"])); err != nil || !slices.Equal(services["migrate"].Command, []string{"migrate"}) {
		t.Errorf("migrate: %q, %v; want guestbook migrate with a configuration the binary accepts", services["migrate"].Command, err)
	}
}

func TestPrometheusScrapesEveryGuestbookService(t *testing.T) {
	services := loadCompose(t)
	data, err := os.ReadFile("../prometheus/prometheus.yml")
	if err != nil {
		t.Fatal(err)
	}
	var prom struct {
		ScrapeConfigs []struct {
			StaticConfigs []struct{ Targets []string } `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(data, &prom); err != nil {
		t.Fatal(err)
	}
	var targets []string
	for _, sc := range prom.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			targets = append(targets, st.Targets...)
		}
	}
	for _, name := range []string{"web-1", "web-2", "app-1", "app-2"} {
		if want := fmt.Sprintf("%s%s", name, services[name].Environment["GUESTBOOK_METRICS_LISTEN"]); !slices.Contains(targets, want) {
			t.Errorf("deploy/prometheus scrapes %q, not %s", targets, want)
		}
	}
}
