package config

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// writeFile writes a configuration file in a temp dir and returns its path.
func writeFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// mustLoad loads a configuration that is expected to be valid.
func mustLoad(t *testing.T, path string, environ []string) Config {
	t.Helper()
	c, err := Load(path, environ)
	if err != nil {
		t.Fatalf("Load(%q, %q): %v", path, environ, err)
	}
	return c
}

// loadErr loads a configuration that is expected to be refused, and checks
// that the error says every one of want.
func loadErr(t *testing.T, path string, environ []string, want ...string) error {
	t.Helper()
	_, err := Load(path, environ)
	if err == nil {
		t.Fatalf("Load(%q, %q) succeeded, want an error saying %q", path, environ, want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not say %q", err, w)
		}
	}
	return err
}

func hostname(t *testing.T) string {
	t.Helper()
	host, err := os.Hostname()
	if err != nil || host == "" {
		t.Skipf("no hostname to compare with: %v", err)
	}
	return host
}

func TestLoadWithNothingSetGivesTheDocumentedDefaults(t *testing.T) {
	c := mustLoad(t, "", nil)
	want := Config{
		Web: Web{Listen: ":8080", HealthInterval: 2 * time.Second, TryTimeout: time.Second, MaxConcurrency: 512,
			Cache: "on", CacheSize: "8MB", CacheStaleWhileRevalidate: 5 * time.Second, CacheStaleIfError: 10 * time.Minute},
		App: App{Listen: ":8081", MaxConcurrency: 128,
			TrustedProxies: []string{"127.0.0.0/8", "::1", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"},
			WriteLimit:     5, WriteWindow: time.Minute, MaxLinks: 2, FormMinAge: 2 * time.Second, FormMaxAge: 24 * time.Hour,
			Moderation: "off", CacheTTL: time.Second},
		Database: Database{
			Driver:          "sqlite",
			Primary:         "guestbook.db",
			PrimaryName:     "primary",
			ConnectTimeout:  30 * time.Second,
			MaxOpenConns:    20,
			MaxIdleConns:    10,
			ConnMaxLifetime: 5 * time.Minute,
			HealthInterval:  time.Second,
			MaxReplicaLag:   5 * time.Second,
			FailoverTimeout: 10 * time.Second,
			ReadYourWrites:  5 * time.Second,
			QueryTimeout:    2 * time.Second,
		},
		Instance: Instance{ID: hostname(t)},
		Log:      Log{Format: "text", Level: "info"},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("defaults:\n got %+v\nwant %+v", c, want)
	}
	if !reflect.DeepEqual(Default(), want) {
		t.Errorf("Default() differs from what Load gives with nothing set:\n got %+v\nwant %+v", Default(), want)
	}
}

func TestLoadIgnoresVariablesWithoutTheGuestbookPrefix(t *testing.T) {
	c := mustLoad(t, "", []string{"PATH=/bin", "GBTEST_MYSQL_DSN=root@tcp(127.0.0.1:1)/", "GUESTBOOK=1", "NOEQUALS"})
	if c.Web.Listen != ":8080" {
		t.Errorf("web.listen = %q, want the default", c.Web.Listen)
	}
}

func TestLoadFileSetsEveryKind(t *testing.T) {
	path := writeFile(t, `
web:
  listen: "127.0.0.1:9000"
  upstreams:
    - http://10.0.2.10:8081
    - https://app.internal:8443
  health_interval: 750ms
  try_timeout: 400ms
  max_concurrency: 64
  rate_limit: 2.5
  rate_burst: 10
  trusted_proxies: ["10.0.0.0/16", "192.0.2.7"]
  cache: off
  cache_size: 512KB
  cache_stale_while_revalidate: 2s
  cache_stale_if_error: 1h
app:
  listen: ":9001"
  admin_token: "t0ken-of-the-admin-0123456789abcdef"
  trusted_proxies: ["10.0.1.0/24"]
  max_concurrency: 32
  write_limit: 3
  write_window: 30s
  secret: "0123456789abcdef0123456789abcdef-file"
  max_links: 0
  form_min_age: 5s
  form_max_age: 1h
  moderation: pre
  cache_ttl: 3s
database:
  driver: mysql
  primary: "gb:pw@tcp(db1:3306)/guestbook"
  replicas: ["gb:pw@tcp(db2:3306)/guestbook"]
  primary_name: db-seoul-a
  replica_names: [db-seoul-c]
  connect_timeout: 2s
  max_open_conns: 7
  max_idle_conns: 3
  conn_max_lifetime: 90s
  health_interval: 250ms
  max_replica_lag: 3s
  failover_timeout: 20s
  read_your_writes: 0s
  query_timeout: 300ms
instance:
  id: web-1
  zone: ap-northeast-2a
  subnet: 10.0.1.0/24
log:
  format: json
  level: debug
`)
	c := mustLoad(t, path, nil)
	want := Config{
		Web: Web{Listen: "127.0.0.1:9000", Upstreams: []string{"http://10.0.2.10:8081", "https://app.internal:8443"},
			HealthInterval: 750 * time.Millisecond, TryTimeout: 400 * time.Millisecond, MaxConcurrency: 64,
			RateLimit: 2.5, RateBurst: 10, TrustedProxies: []string{"10.0.0.0/16", "192.0.2.7"},
			Cache: "off", CacheSize: "512KB", CacheStaleWhileRevalidate: 2 * time.Second, CacheStaleIfError: time.Hour},
		App: App{Listen: ":9001", AdminToken: "t0ken-of-the-admin-0123456789abcdef", TrustedProxies: []string{"10.0.1.0/24"}, MaxConcurrency: 32,
			WriteLimit: 3, WriteWindow: 30 * time.Second, Secret: "0123456789abcdef0123456789abcdef-file", MaxLinks: 0,
			FormMinAge: 5 * time.Second, FormMaxAge: time.Hour,
			Moderation: "pre", CacheTTL: 3 * time.Second},
		Database: Database{
			Driver:          "mysql",
			Primary:         "gb:pw@tcp(db1:3306)/guestbook",
			Replicas:        []string{"gb:pw@tcp(db2:3306)/guestbook"},
			PrimaryName:     "db-seoul-a",
			ReplicaNames:    []string{"db-seoul-c"},
			ConnectTimeout:  2 * time.Second,
			MaxOpenConns:    7,
			MaxIdleConns:    3,
			ConnMaxLifetime: 90 * time.Second,
			HealthInterval:  250 * time.Millisecond,
			MaxReplicaLag:   3 * time.Second,
			FailoverTimeout: 20 * time.Second,
			QueryTimeout:    300 * time.Millisecond,
		},
		Instance: Instance{ID: "web-1", Zone: "ap-northeast-2a", Subnet: "10.0.1.0/24"},
		Log:      Log{Format: "json", Level: "debug"},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("loaded:\n got %+v\nwant %+v", c, want)
	}
}

func TestLoadFileKeepsDefaultsForKeysItLeavesOut(t *testing.T) {
	path := writeFile(t, "log:\n  level: warn\n")
	c := mustLoad(t, path, nil)
	want := Default()
	want.Log.Level = "warn"
	if !reflect.DeepEqual(c, want) {
		t.Errorf("loaded:\n got %+v\nwant %+v", c, want)
	}
}

func TestLoadEmptyFileGivesDefaults(t *testing.T) {
	for name, text := range map[string]string{"empty": "", "blank": "\n  \n", "comments only": "# nothing\n"} {
		t.Run(name, func(t *testing.T) {
			c := mustLoad(t, writeFile(t, text), nil)
			if !reflect.DeepEqual(c, Default()) {
				t.Errorf("got %+v, want the defaults", c)
			}
		})
	}
}

func TestLoadEmptySectionKeepsItsDefaults(t *testing.T) {
	c := mustLoad(t, writeFile(t, "web:\nlog:\n"), nil)
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("got %+v, want the defaults", c)
	}
}

func TestLoadVariableOverridesFile(t *testing.T) {
	path := writeFile(t, `
web:
  listen: ":9000"
database:
  max_open_conns: 7
  connect_timeout: 2s
instance:
  id: from-file
`)
	c := mustLoad(t, path, []string{
		"GUESTBOOK_WEB_LISTEN=:9100",
		"GUESTBOOK_DATABASE_MAX_OPEN_CONNS=50",
		"GUESTBOOK_INSTANCE_ID=from-env",
	})
	if c.Web.Listen != ":9100" {
		t.Errorf("web.listen = %q, want the variable's :9100", c.Web.Listen)
	}
	if c.Database.MaxOpenConns != 50 {
		t.Errorf("database.max_open_conns = %d, want the variable's 50", c.Database.MaxOpenConns)
	}
	if c.Instance.ID != "from-env" {
		t.Errorf("instance.id = %q, want the variable's from-env", c.Instance.ID)
	}
	if c.Database.ConnectTimeout != 2*time.Second {
		t.Errorf("database.connect_timeout = %s, want the file's 2s (no variable set it)", c.Database.ConnectTimeout)
	}
}

func TestLoadVariableSetsEveryKey(t *testing.T) {
	environ := []string{
		"GUESTBOOK_WEB_LISTEN=127.0.0.1:9000",
		"GUESTBOOK_WEB_UPSTREAMS=http://a:8081",
		"GUESTBOOK_WEB_HEALTH_INTERVAL=5s",
		"GUESTBOOK_WEB_TRY_TIMEOUT=1500ms",
		"GUESTBOOK_WEB_MAX_CONCURRENCY=0",
		"GUESTBOOK_WEB_RATE_LIMIT=0.5",
		"GUESTBOOK_WEB_RATE_BURST=3",
		"GUESTBOOK_APP_MAX_CONCURRENCY=16",
		"GUESTBOOK_APP_MAX_LINKS=5",
		"GUESTBOOK_APP_FORM_MIN_AGE=0s",
		"GUESTBOOK_APP_FORM_MAX_AGE=30m",
		"GUESTBOOK_WEB_TRUSTED_PROXIES=10.0.0.0/16, 192.0.2.7",
		"GUESTBOOK_APP_LISTEN=:9001",
		"GUESTBOOK_APP_TRUSTED_PROXIES=10.0.1.0/24",
		"GUESTBOOK_APP_ADMIN_TOKEN=t0ken-of-the-admin-0123456789abcdef",
		"GUESTBOOK_APP_WRITE_LIMIT=0",
		"GUESTBOOK_APP_WRITE_WINDOW=10s",
		"GUESTBOOK_APP_SECRET=0123456789abcdef0123456789abcdef-env",
		"GUESTBOOK_APP_MODERATION=pre",
		"GUESTBOOK_DATABASE_DRIVER=mysql",
		"GUESTBOOK_DATABASE_PRIMARY=gb:pw@tcp(db1:3306)/guestbook",
		"GUESTBOOK_DATABASE_REPLICAS=gb:pw@tcp(db2:3306)/guestbook",
		"GUESTBOOK_DATABASE_PRIMARY_NAME=db-a",
		"GUESTBOOK_DATABASE_REPLICA_NAMES=db-b",
		"GUESTBOOK_DATABASE_CONNECT_TIMEOUT=500ms",
		"GUESTBOOK_DATABASE_MAX_OPEN_CONNS=7",
		"GUESTBOOK_DATABASE_MAX_IDLE_CONNS=0",
		"GUESTBOOK_DATABASE_CONN_MAX_LIFETIME=1h",
		"GUESTBOOK_DATABASE_HEALTH_INTERVAL=2s",
		"GUESTBOOK_DATABASE_MAX_REPLICA_LAG=9s",
		"GUESTBOOK_DATABASE_FAILOVER_TIMEOUT=30s",
		"GUESTBOOK_DATABASE_READ_YOUR_WRITES=1s",
		"GUESTBOOK_DATABASE_QUERY_TIMEOUT=750ms",
		"GUESTBOOK_INSTANCE_ID=app-1",
		"GUESTBOOK_INSTANCE_ZONE=zone-b",
		"GUESTBOOK_INSTANCE_SUBNET=10.0.2.0/24",
		"GUESTBOOK_LOG_FORMAT=json",
		"GUESTBOOK_LOG_LEVEL=error",
		"GUESTBOOK_WEB_TLS_CERT=/etc/guestbook/cert.pem",
		"GUESTBOOK_WEB_TLS_KEY=/etc/guestbook/key.pem",
		"GUESTBOOK_INSTANCE_METADATA=ec2",
		"GUESTBOOK_INSTANCE_DRAIN=15s",
		"GUESTBOOK_METRICS_LISTEN=127.0.0.1:9100",
		"GUESTBOOK_WEB_CACHE=off",
		"GUESTBOOK_WEB_CACHE_SIZE=1MB",
		"GUESTBOOK_WEB_CACHE_STALE_WHILE_REVALIDATE=0s",
		"GUESTBOOK_WEB_CACHE_STALE_IF_ERROR=30s",
		"GUESTBOOK_APP_CACHE_TTL=0s",
	}
	for _, k := range Keys() { // a key added without a line above fails here
		if !slices.ContainsFunc(environ, func(v string) bool { return strings.HasPrefix(v, k.Env+"=") }) {
			t.Errorf("%s (%s) is not set by this test", k.Env, k.Name)
		}
	}
	c := mustLoad(t, "", environ)
	want := Config{
		Web: Web{Listen: "127.0.0.1:9000", Upstreams: []string{"http://a:8081"},
			HealthInterval: 5 * time.Second, TryTimeout: 1500 * time.Millisecond, MaxConcurrency: 0, RateLimit: 0.5, RateBurst: 3,
			TrustedProxies: []string{"10.0.0.0/16", "192.0.2.7"}, TLSCert: "/etc/guestbook/cert.pem", TLSKey: "/etc/guestbook/key.pem",
			Cache: "off", CacheSize: "1MB", CacheStaleIfError: 30 * time.Second},
		App: App{Listen: ":9001", AdminToken: "t0ken-of-the-admin-0123456789abcdef", TrustedProxies: []string{"10.0.1.0/24"}, MaxConcurrency: 16,
			WriteLimit: 0, WriteWindow: 10 * time.Second, Secret: "0123456789abcdef0123456789abcdef-env", MaxLinks: 5,
			FormMaxAge: 30 * time.Minute,
			Moderation: "pre"},
		Database: Database{
			Driver:          "mysql",
			Primary:         "gb:pw@tcp(db1:3306)/guestbook",
			Replicas:        []string{"gb:pw@tcp(db2:3306)/guestbook"},
			PrimaryName:     "db-a",
			ReplicaNames:    []string{"db-b"},
			ConnectTimeout:  500 * time.Millisecond,
			MaxOpenConns:    7,
			MaxIdleConns:    0,
			ConnMaxLifetime: time.Hour,
			HealthInterval:  2 * time.Second,
			MaxReplicaLag:   9 * time.Second,
			FailoverTimeout: 30 * time.Second,
			ReadYourWrites:  time.Second,
			QueryTimeout:    750 * time.Millisecond,
		},
		Instance: Instance{ID: "app-1", Zone: "zone-b", Subnet: "10.0.2.0/24", Metadata: "ec2", Drain: 15 * time.Second},
		Log:      Log{Format: "json", Level: "error"},
		Metrics:  Metrics{Listen: "127.0.0.1:9100"},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("loaded:\n got %+v\nwant %+v", c, want)
	}
}

func TestLoadListVariableIsCommaSeparatedWithSpacesTrimmed(t *testing.T) {
	tests := []struct {
		value string
		want  []string
	}{
		{"http://a:8081", []string{"http://a:8081"}},
		{"http://a:8081,http://b:8081", []string{"http://a:8081", "http://b:8081"}},
		{" http://a:8081 ,  http://b:8081 ", []string{"http://a:8081", "http://b:8081"}},
		{"http://a:8081,,http://b:8081,", []string{"http://a:8081", "http://b:8081"}},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			c := mustLoad(t, "", []string{"GUESTBOOK_WEB_UPSTREAMS=" + tt.value})
			if !reflect.DeepEqual(c.Web.Upstreams, tt.want) {
				t.Errorf("web.upstreams = %q, want %q", c.Web.Upstreams, tt.want)
			}
		})
	}
}

func TestLoadListVariableReplacesTheFilesList(t *testing.T) {
	path := writeFile(t, "web:\n  upstreams: [\"http://file:8081\", \"http://file2:8081\"]\n")
	c := mustLoad(t, path, []string{"GUESTBOOK_WEB_UPSTREAMS=http://env:8081"})
	if want := []string{"http://env:8081"}; !reflect.DeepEqual(c.Web.Upstreams, want) {
		t.Errorf("web.upstreams = %q, want %q", c.Web.Upstreams, want)
	}
}

func TestLoadDurationsAreGoDurations(t *testing.T) {
	tests := []struct {
		text string
		want time.Duration
	}{
		{"2s", 2 * time.Second},
		{"500ms", 500 * time.Millisecond},
		{"1m30s", 90 * time.Second},
		{"250ms", 250 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run("file "+tt.text, func(t *testing.T) {
			c := mustLoad(t, writeFile(t, "database:\n  connect_timeout: "+tt.text+"\n"), nil)
			if c.Database.ConnectTimeout != tt.want {
				t.Errorf("database.connect_timeout = %s, want %s", c.Database.ConnectTimeout, tt.want)
			}
		})
		t.Run("variable "+tt.text, func(t *testing.T) {
			c := mustLoad(t, "", []string{"GUESTBOOK_DATABASE_CONNECT_TIMEOUT=" + tt.text})
			if c.Database.ConnectTimeout != tt.want {
				t.Errorf("database.connect_timeout = %s, want %s", c.Database.ConnectTimeout, tt.want)
			}
		})
	}
}

func TestLoadUnknownKeyInFileNamesTheDottedKeyAndLine(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"misspelt key", "web:\n  listen: \":9000\"\n  listn: \":9001\"\n", []string{`"web.listn"`, "line 3"}},
		{"key in the wrong section", "app:\n  upstreams: [\"http://a:1\"]\n", []string{`"app.upstreams"`, "line 2"}},
		{"unknown section", "log:\n  level: info\nwebb:\n  listen: \":9000\"\n", []string{`"webb"`, "line 3"}},
		{"key at the top level", "listen: \":9000\"\n", []string{`"listen"`, "line 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.text)
			loadErr(t, path, nil, append(tt.want, path)...)
		})
	}
}

func TestLoadFileThatIsNotAMappingOfSectionsIsAnError(t *testing.T) {
	tests := []struct {
		name string
		text string
		want string
	}{
		{"a list", "- web\n- app\n", "line 1"},
		{"a section that is a list", "web:\n  - listen\n", "web must be a mapping"},
		{"a section that is a scalar", "web: \":8080\"\n", "web must be a mapping"},
		{"not YAML", "web:\n  listen: [\n", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loadErr(t, writeFile(t, tt.text), nil, tt.want)
		})
	}
}

func TestLoadBadValueInFileNamesTheKeyAndLine(t *testing.T) {
	tests := []struct {
		name, text, key string
	}{
		{"duration", "database:\n  connect_timeout: soon\n", "database.connect_timeout"},
		{"whole number", "database:\n  max_open_conns: many\n", "database.max_open_conns"},
		{"number", "web:\n  rate_limit: fast\n", "web.rate_limit"},
		{"list item", "web:\n  upstreams:\n    - {a: b}\n", "web.upstreams"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.text)
			loadErr(t, path, nil, path, tt.key+": line ")
		})
	}
}

func TestLoadUnknownGuestbookVariableIsAnErrorNamingIt(t *testing.T) {
	for _, name := range []string{"GUESTBOOK_WEB_LISTN", "GUESTBOOK_DATABASE", "GUESTBOOK_", "GUESTBOOK_web_listen"} {
		t.Run(name, func(t *testing.T) {
			err := loadErr(t, "", []string{"GUESTBOOK_LOG_LEVEL=debug", name + "=x"}, name)
			if !strings.HasPrefix(err.Error(), name+":") {
				t.Errorf("error %q does not start with the variable's name", err)
			}
		})
	}
}

func TestLoadBadVariableValueNamesTheVariable(t *testing.T) {
	tests := []struct {
		name string
		kv   string
	}{
		{"duration without a unit", "GUESTBOOK_DATABASE_CONNECT_TIMEOUT=30"},
		{"duration that is a word", "GUESTBOOK_DATABASE_CONN_MAX_LIFETIME=forever"},
		{"whole number that is a word", "GUESTBOOK_DATABASE_MAX_OPEN_CONNS=many"},
		{"whole number with a fraction", "GUESTBOOK_DATABASE_MAX_IDLE_CONNS=1.5"},
		{"number that is a word", "GUESTBOOK_WEB_RATE_LIMIT=fast"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, value, _ := strings.Cut(tt.kv, "=")
			err := loadErr(t, "", []string{tt.kv}, name, value)
			if !strings.HasPrefix(err.Error(), name+":") {
				t.Errorf("error %q does not start with the variable's name", err)
			}
		})
	}
}

func TestLoadFileThatCannotBeReadIsAnError(t *testing.T) {
	dir := t.TempDir()
	t.Run("missing", func(t *testing.T) {
		path := filepath.Join(dir, "missing.yaml")
		loadErr(t, path, nil, "config file", path)
	})
	t.Run("a directory", func(t *testing.T) {
		loadErr(t, dir, nil, "config file", dir)
	})
}

func TestLoadEmptyInstanceIDInFileMeansTheHostname(t *testing.T) {
	host := hostname(t)
	c := mustLoad(t, writeFile(t, "instance:\n  id: \"\"\n  zone: z\n"), nil)
	if c.Instance.ID != host {
		t.Errorf("instance.id = %q, want the hostname %q", c.Instance.ID, host)
	}
	c = mustLoad(t, "", []string{"GUESTBOOK_INSTANCE_ID="})
	if c.Instance.ID != host {
		t.Errorf("with an empty GUESTBOOK_INSTANCE_ID, instance.id = %q, want the hostname %q", c.Instance.ID, host)
	}
}

func TestLoadValidatesTheResult(t *testing.T) {
	loadErr(t, writeFile(t, "database:\n  driver: postgres\n"), nil, "database.driver", "postgres")
	loadErr(t, "", []string{"GUESTBOOK_LOG_LEVEL=loud"}, "log.level", "loud")
}

func TestValidateNamesTheKeyOfABadValue(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
		key    string
	}{
		{"web.listen without a port", func(c *Config) { c.Web.Listen = "8080" }, "web.listen"},
		{"web.listen empty", func(c *Config) { c.Web.Listen = "" }, "web.listen"},
		{"app.listen a host only", func(c *Config) { c.App.Listen = "localhost" }, "app.listen"},
		{"upstream with a misspelt scheme", func(c *Config) { c.Web.Upstreams = []string{"htp://x"} }, "web.upstreams"},
		{"upstream that is not http", func(c *Config) { c.Web.Upstreams = []string{"ftp://app:8081"} }, "web.upstreams"},
		{"upstream without a host", func(c *Config) { c.Web.Upstreams = []string{"http://"} }, "web.upstreams"},
		{"upstream without a scheme", func(c *Config) { c.Web.Upstreams = []string{"app:8081"} }, "web.upstreams"},
		{"upstream with a query", func(c *Config) { c.Web.Upstreams = []string{"http://app:8081/?x=1"} }, "web.upstreams"},
		{"second upstream bad", func(c *Config) { c.Web.Upstreams = []string{"http://a:8081", "b:8081"} }, "web.upstreams"},
		{"upstream listed twice", func(c *Config) { c.Web.Upstreams = []string{"http://a:8081", "http://a:8081/"} }, "web.upstreams"},
		{"health_interval too short", func(c *Config) { c.Web.HealthInterval = time.Millisecond }, "web.health_interval"},
		{"try_timeout too short", func(c *Config) { c.Web.TryTimeout = time.Millisecond }, "web.try_timeout"},
		{"max_concurrency under the floor", func(c *Config) { c.Web.MaxConcurrency = 2 }, "web.max_concurrency"},
		{"app max_concurrency negative", func(c *Config) { c.App.MaxConcurrency = -1 }, "app.max_concurrency"},
		{"max_links negative", func(c *Config) { c.App.MaxLinks = -1 }, "app.max_links"},
		{"try_timeout too long", func(c *Config) { c.Web.TryTimeout = time.Hour }, "web.try_timeout"},
		{"negative rate_limit", func(c *Config) { c.Web.RateLimit = -1 }, "web.rate_limit"},
		{"rate_limit under the least rate", func(c *Config) { c.Web.RateLimit = 0.001 }, "web.rate_limit"},
		{"rate_limit not a number", func(c *Config) { c.Web.RateLimit = math.NaN() }, "web.rate_limit"},
		{"rate_limit infinite", func(c *Config) { c.Web.RateLimit = math.Inf(1) }, "web.rate_limit"},
		{"negative rate_burst", func(c *Config) { c.Web.RateBurst = -1 }, "web.rate_burst"},
		{"negative rate_burst with the limit off", func(c *Config) { c.Web.RateLimit, c.Web.RateBurst = 0, -2 }, "web.rate_burst"},
		{"a default burst under one request", func(c *Config) { c.Web.RateLimit = 0.25 }, "web.rate_burst"},
		{"cache neither on nor off", func(c *Config) { c.Web.Cache = "yes" }, "web.cache"},
		{"cache_size without a number", func(c *Config) { c.Web.CacheSize = "MB" }, "web.cache_size"},
		{"cache_size in an unknown unit", func(c *Config) { c.Web.CacheSize = "8TB" }, "web.cache_size"},
		{"cache_size too small", func(c *Config) { c.Web.CacheSize = "1KB" }, "web.cache_size"},
		{"cache_size too large", func(c *Config) { c.Web.CacheSize = "2GB" }, "web.cache_size"},
		{"negative stale_while_revalidate", func(c *Config) { c.Web.CacheStaleWhileRevalidate = -time.Second }, "web.cache_stale_while_revalidate"},
		{"negative stale_if_error", func(c *Config) { c.Web.CacheStaleIfError = -time.Second }, "web.cache_stale_if_error"},
		{"negative cache_ttl", func(c *Config) { c.App.CacheTTL = -time.Second }, "app.cache_ttl"},
		{"cache_ttl over an hour", func(c *Config) { c.App.CacheTTL = 2 * time.Hour }, "app.cache_ttl"},
		{"cache_ttl not whole seconds", func(c *Config) { c.App.CacheTTL = 1500 * time.Millisecond }, "app.cache_ttl"},
		{"tls cert without key", func(c *Config) { c.Web.TLSCert = "cert.pem" }, "web.tls_key"},
		{"negative drain", func(c *Config) { c.Instance.Drain = -time.Second }, "instance.drain"},
		{"tls key without cert", func(c *Config) { c.Web.TLSKey = "key.pem" }, "web.tls_cert"},
		{"web trusted proxy not a network", func(c *Config) { c.Web.TrustedProxies = []string{"10.0.0.0/33"} }, "web.trusted_proxies"},
		{"app trusted proxy a name", func(c *Config) { c.App.TrustedProxies = []string{"lb.internal"} }, "app.trusted_proxies"},
		{"negative write_limit", func(c *Config) { c.App.WriteLimit = -1 }, "app.write_limit"},
		{"zero write_window", func(c *Config) { c.App.WriteWindow = 0 }, "app.write_window"},
		{"write_window under a second", func(c *Config) { c.App.WriteWindow = 500 * time.Millisecond }, "app.write_window"},
		{"write_window over a day", func(c *Config) { c.App.WriteWindow = 25 * time.Hour }, "app.write_window"},
		{"secret of 31 characters", func(c *Config) { c.App.Secret = strings.Repeat("s", 31) }, "app.secret"},
		{"unknown moderation", func(c *Config) { c.App.Moderation = "post" }, "app.moderation"},
		{"moderation in capitals", func(c *Config) { c.App.Moderation = "PRE" }, "app.moderation"},
		{"no moderation at all", func(c *Config) { c.App.Moderation = "" }, "app.moderation"},
		{"unknown driver", func(c *Config) { c.Database.Driver = "postgres" }, "database.driver"},
		{"driver in capitals", func(c *Config) { c.Database.Driver = "MySQL" }, "database.driver"},
		{"replicas with sqlite", func(c *Config) { c.Database.Replicas = []string{"gb@tcp(db2)/gb"} }, "database.replicas"},
		{"empty primary", func(c *Config) { c.Database.Primary = " " }, "database.primary"},
		{"mysql primary of commas only", func(c *Config) { c.Database.Driver, c.Database.Primary = "mysql", " , " }, "database.primary"},
		{"empty primary_name", func(c *Config) { c.Database.PrimaryName = "" }, "database.primary_name"},
		{"primary_name with a space", func(c *Config) { c.Database.PrimaryName = "db one" }, "database.primary_name"},
		{"primary_name that could end a header value", func(c *Config) { c.Database.PrimaryName = "db;role=x" }, "database.primary_name"},
		{"more replica_names than replicas", func(c *Config) { c.Database.ReplicaNames = []string{"r1"} }, "database.replica_names"},
		{"replica_name the same as the primary's", func(c *Config) {
			c.Database.Driver, c.Database.Replicas, c.Database.ReplicaNames = "mysql", []string{"gb@tcp(db2)/gb"}, []string{"primary"}
		}, "database.replica_names"},
		{"metrics.listen that is no address", func(c *Config) { c.Metrics.Listen = "nine-thousand" }, "metrics.listen"},
		{"two replicas of one name", func(c *Config) {
			c.Database.Driver, c.Database.Replicas = "mysql", []string{"gb@tcp(db2)/gb", "gb@tcp(db3)/gb"}
			c.Database.ReplicaNames = []string{"db-b", "db-b"}
		}, "database.replica_names"},
		{"primary_name the same as an unnamed replica's", func(c *Config) {
			c.Database.Driver, c.Database.Replicas, c.Database.PrimaryName = "mysql", []string{"gb@tcp(db2)/gb"}, "replica-1"
		}, "database.replica_names"},
		{"a replica named as the second of two primary candidates", func(c *Config) {
			c.Database.Driver, c.Database.Primary = "mysql", "gb@tcp(db1)/gb,gb@tcp(db2)/gb"
			c.Database.Replicas, c.Database.ReplicaNames = []string{"gb@tcp(db3)/gb"}, []string{"primary-2"}
		}, "database.replica_names"},
		{"replica_name that is not a word", func(c *Config) {
			c.Database.Driver, c.Database.Replicas, c.Database.ReplicaNames = "mysql", []string{"gb@tcp(db2)/gb"}, []string{"<b>"}
		}, "database.replica_names"},
		{"negative connect_timeout", func(c *Config) { c.Database.ConnectTimeout = -time.Second }, "database.connect_timeout"},
		{"zero connect_timeout", func(c *Config) { c.Database.ConnectTimeout = 0 }, "database.connect_timeout"},
		{"health_interval too short", func(c *Config) { c.Database.HealthInterval = time.Millisecond }, "database.health_interval"},
		{"zero max_replica_lag", func(c *Config) { c.Database.MaxReplicaLag = 0 }, "database.max_replica_lag"},
		{"max_replica_lag within one heartbeat", func(c *Config) { c.Database.MaxReplicaLag = c.Database.HealthInterval }, "database.max_replica_lag"},
		{"zero failover_timeout", func(c *Config) { c.Database.FailoverTimeout = 0 }, "database.failover_timeout"},
		{"zero query_timeout", func(c *Config) { c.Database.QueryTimeout = 0 }, "database.query_timeout"},
		{"negative query_timeout", func(c *Config) { c.Database.QueryTimeout = -time.Second }, "database.query_timeout"},
		{"negative read_your_writes", func(c *Config) { c.Database.ReadYourWrites = -time.Second }, "database.read_your_writes"},
		{"an admin token of 31 characters", func(c *Config) { c.App.AdminToken = strings.Repeat("a", 31) }, "app.admin_token"},
		{"negative form_min_age", func(c *Config) { c.App.FormMinAge = -time.Second }, "app.form_min_age"},
		{"form_min_age over an hour", func(c *Config) { c.App.FormMinAge = 2 * time.Hour }, "app.form_min_age"},
		{"form_max_age not over form_min_age", func(c *Config) { c.App.FormMinAge, c.App.FormMaxAge = time.Minute, time.Minute }, "app.form_max_age"},
		{"max_open_conns 0", func(c *Config) { c.Database.MaxOpenConns = 0 }, "database.max_open_conns"},
		{"negative max_idle_conns", func(c *Config) { c.Database.MaxIdleConns = -1 }, "database.max_idle_conns"},
		{"conn_max_lifetime 0", func(c *Config) { c.Database.ConnMaxLifetime = 0 }, "database.conn_max_lifetime"},
		{"log format xml", func(c *Config) { c.Log.Format = "xml" }, "log.format"},
		{"log level verbose", func(c *Config) { c.Log.Level = "verbose" }, "log.level"},
		{"log level in capitals", func(c *Config) { c.Log.Level = "INFO" }, "log.level"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.change(&c)
			err := c.Validate()
			if err == nil {
				t.Fatalf("Validate accepted %+v", c)
			}
			if !strings.HasPrefix(err.Error(), tt.key+": ") {
				t.Errorf("error %q does not start with %q", err, tt.key+": ")
			}
		})
	}
}

func TestValidateAcceptsGoodValues(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *Config)
	}{
		{"the defaults", func(c *Config) {}},
		{"listen on a host and port", func(c *Config) { c.Web.Listen = "127.0.0.1:0"; c.App.Listen = "[::1]:8081" }},
		{"http and https upstreams with a path", func(c *Config) {
			c.Web.Upstreams = []string{"http://10.0.2.10:8081", "https://app.internal/base"}
		}},
		{"mysql with replicas", func(c *Config) {
			c.Database.Driver = "mysql"
			c.Database.Primary = "gb:pw@tcp(db1:3306)/gb"
			c.Database.Replicas = []string{"gb:pw@tcp(db2:3306)/gb"}
		}},
		{"mysql with named servers", func(c *Config) {
			c.Database.Driver = "mysql"
			c.Database.Replicas = []string{"gb:pw@tcp(db2:3306)/gb", "gb:pw@tcp(db3:3306)/gb"}
			c.Database.PrimaryName, c.Database.ReplicaNames = "db-seoul-a", []string{"db-seoul-c", "db_2.b"}
		}},
		{"no idle connections", func(c *Config) { c.Database.MaxIdleConns = 0 }},
		{"a rate limit with its default burst", func(c *Config) { c.Web.RateLimit = 0.5 }},
		{"the least rate limit with a burst of 1", func(c *Config) { c.Web.RateLimit, c.Web.RateBurst = MinRateLimit, 1 }},
		{"a burst set with the limit off", func(c *Config) { c.Web.RateBurst = 20 }},
		{"no write limit", func(c *Config) { c.App.WriteLimit = 0 }},
		{"a secret of 32 characters", func(c *Config) { c.App.Secret = strings.Repeat("s", 32) }},
		{"pre-moderation", func(c *Config) { c.App.Moderation = ModerationPre }},
		{"an app tier that trusts nobody", func(c *Config) { c.App.TrustedProxies = nil }},
		{"no link allowed", func(c *Config) { c.App.MaxLinks = 0 }},
		{"the cache off, never stale, and pages no-store", func(c *Config) {
			c.Web.Cache, c.Web.CacheStaleWhileRevalidate, c.Web.CacheStaleIfError, c.App.CacheTTL = "off", 0, 0, 0
		}},
		{"the least cache", func(c *Config) { c.Web.CacheSize = "64KB" }},
		{"a cache of 1GB", func(c *Config) { c.Web.CacheSize = "1 GiB" }},
		{"a query_timeout longer than health_interval", func(c *Config) {
			c.Database.HealthInterval, c.Database.QueryTimeout = 100*time.Millisecond, 5*time.Second
		}},
		{"json logs at every level", func(c *Config) { c.Log.Format = "json"; c.Log.Level = "debug" }},
		{"warn", func(c *Config) { c.Log.Level = "warn" }},
		{"error", func(c *Config) { c.Log.Level = "error" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.change(&c)
			if err := c.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestParseSizeReadsBytesWithA1024BasedUnit(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"8MB", 8 << 20, true}, {"512KB", 512 << 10, true}, {"1gb", 1 << 30, true}, {"3 MiB", 3 << 20, true},
		{"65536", 65536, true}, {"100B", 100, true},
		{"", 0, false}, {"MB", 0, false}, {"1.5MB", 0, false}, {"-1MB", 0, false}, {"8TB", 0, false},
		{"99999999999999999GB", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

func TestBurstIsRateBurstOrTwiceTheRate(t *testing.T) {
	tests := []struct {
		limit float64
		burst int
		want  float64
	}{
		{10, 0, 20}, {10, 3, 3}, {0.5, 0, 1}, {2.5, 0, 5}, {0, 0, 0},
	}
	for _, tt := range tests {
		if got := (Web{RateLimit: tt.limit, RateBurst: tt.burst}).Burst(); got != tt.want {
			t.Errorf("Burst of web.rate_limit %g, web.rate_burst %d = %g, want %g", tt.limit, tt.burst, got, tt.want)
		}
	}
}

func TestKeysNameEveryFieldWithItsVariable(t *testing.T) {
	seen := map[string]bool{}
	for _, k := range Keys() {
		section, leaf, ok := strings.Cut(k.Name, ".")
		if !ok || section == "" || leaf == "" || strings.Contains(leaf, ".") {
			t.Errorf("key %q is not section.leaf", k.Name)
		}
		if want := "GUESTBOOK_" + strings.ToUpper(strings.ReplaceAll(k.Name, ".", "_")); k.Env != want {
			t.Errorf("key %s has variable %s, want %s", k.Name, k.Env, want)
		}
		if seen[k.Name] {
			t.Errorf("key %s listed twice", k.Name)
		}
		seen[k.Name] = true
	}
	for _, k := range []string{"web.listen", "database.connect_timeout", "instance.id", "log.level"} {
		if !seen[k] {
			t.Errorf("Keys() lacks %s", k)
		}
	}
}

// TestEveryKeyIsDocumentedInTheREADME fails when a key is added to Config
// without a row in the README's configuration table.
func TestEveryKeyIsDocumentedInTheREADME(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	for _, k := range Keys() {
		row := "| `" + k.Name + "` | `" + k.Env + "` |"
		if !strings.Contains(readme, row) {
			t.Errorf("README.md has no configuration row starting %q", row)
		}
	}
}

// TestTheREADMEDocumentsNoKeyThatDoesNotExist catches a row left behind when
// a key is renamed or removed.
func TestTheREADMEDocumentsNoKeyThatDoesNotExist(t *testing.T) {
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, k := range Keys() {
		known[k.Name] = true
		known[k.Env] = true
	}
	rows := 0
	for _, line := range strings.Split(string(data), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(strings.TrimSpace(cells[2]), "`GUESTBOOK_") {
			continue
		}
		rows++
		for _, cell := range cells[1:3] {
			name := strings.Trim(strings.TrimSpace(cell), "`")
			if !known[name] {
				t.Errorf("README.md documents %q, which is not a key or variable: %s", name, line)
			}
		}
	}
	if rows != len(Keys()) {
		t.Errorf("README.md's configuration table has %d rows, want one per key (%d)", rows, len(Keys()))
	}
}

// TestTheExampleConfigHasEveryKeyWithItsDefault fails when a key is added to
// Config without a line in config.example.yaml, or when a default changes in
// one place and not the other.
func TestTheExampleConfigHasEveryKeyWithItsDefault(t *testing.T) {
	const path = "../config.example.yaml"
	c, err := Load(path, nil)
	if err != nil {
		t.Fatalf("config.example.yaml does not load: %v", err)
	}
	// "upstreams: []" loads as an empty list, the default is nil: both are none.
	if len(c.Web.Upstreams) == 0 {
		c.Web.Upstreams = nil
	}
	if len(c.Database.Replicas) == 0 {
		c.Database.Replicas = nil
	}
	if len(c.Database.ReplicaNames) == 0 {
		c.Database.ReplicaNames = nil
	}
	if len(c.Web.TrustedProxies) == 0 {
		c.Web.TrustedProxies = nil
	}
	if len(c.App.TrustedProxies) == 0 {
		c.App.TrustedProxies = nil
	}
	if !reflect.DeepEqual(c, Default()) {
		t.Errorf("config.example.yaml's values differ from the defaults:\n file %+v\n want %+v", c, Default())
	}

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]map[string]any
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("config.example.yaml: %v", err)
	}
	for _, k := range Keys() {
		section, leaf, _ := strings.Cut(k.Name, ".")
		if _, ok := doc[section][leaf]; !ok {
			t.Errorf("config.example.yaml lacks %s (%q under %q)", k.Name, leaf, section+":")
		}
	}
}

func TestSetOverridesBeatVariablesAndTheFile(t *testing.T) {
	path := writeFile(t, "web:\n  listen: \":7000\"\n")
	c, err := Load(path, []string{"GUESTBOOK_WEB_LISTEN=:7001", "GUESTBOOK_LOG_LEVEL=warn"},
		"web.listen=:7002", "web.upstreams=http://a:1, http://b:2", "database.connect_timeout=3s")
	if err != nil {
		t.Fatal(err)
	}
	if c.Web.Listen != ":7002" || len(c.Web.Upstreams) != 2 || c.Database.ConnectTimeout != 3*time.Second || c.Log.Level != "warn" {
		t.Errorf("loaded %+v", c)
	}
}

func TestSetRefusesUnknownKeysAndBadValues(t *testing.T) {
	for override, want := range map[string]string{
		"web.listn=:1":                 `unknown key "web.listn"`,
		"web.listen":                   "want key=value",
		"database.connect_timeout=abc": "database.connect_timeout",
	} {
		if _, err := Load("", nil, override); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("--set %s: error %v, want it to say %q", override, err, want)
		}
	}
}

func TestAnUpstreamErrorNeverQuotesItsPassword(t *testing.T) {
	_, err := Load("", []string{"GUESTBOOK_WEB_UPSTREAMS=ftp://admin:hunter2@app:8081"})
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %v must exist and hide the password", err)
	}
}

func TestDatabaseServersAreNamedByConfigurationNeverByTheirDSN(t *testing.T) {
	tests := []struct {
		name                   string
		driver, primary        string
		primaryName            string
		replicas, replicaNames []string
		wantCandidates         []string
		wantReplicas           []string
	}{
		{"one sqlite file", "sqlite", "guestbook.db", "primary", nil, nil, []string{"primary"}, nil},
		{"a comma in a sqlite path is one file", "sqlite", "a,b.db", "primary", nil, nil, []string{"primary"}, nil},
		{"one mysql candidate", "mysql", "gb:pw@tcp(db1)/gb", "db-a", nil, nil, []string{"db-a"}, nil},
		{"two mysql candidates", "mysql", "gb:pw@tcp(db1)/gb, gb:pw@tcp(db2)/gb", "primary", nil, nil, []string{"primary-1", "primary-2"}, nil},
		{"unnamed replicas", "mysql", "gb:pw@tcp(db1)/gb", "primary",
			[]string{"gb:pw@tcp(db2)/gb", "gb:pw@tcp(db3)/gb"}, nil, []string{"primary"}, []string{"replica-1", "replica-2"}},
		{"named replicas", "mysql", "gb:pw@tcp(db1)/gb", "primary",
			[]string{"gb:pw@tcp(db2)/gb", "gb:pw@tcp(db3)/gb"}, []string{"db-seoul-c", "db-seoul-d"}, []string{"primary"}, []string{"db-seoul-c", "db-seoul-d"}},
		{"no primary_name, built by hand", "mysql", "gb:pw@tcp(db1)/gb", "", nil, nil, []string{"primary"}, nil},
		{"blank primary", "mysql", " , ", "primary", nil, nil, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Database{Driver: tt.driver, Primary: tt.primary, PrimaryName: tt.primaryName, Replicas: tt.replicas, ReplicaNames: tt.replicaNames}
			candidates, replicas := d.ServerNames()
			if !reflect.DeepEqual(candidates, tt.wantCandidates) || !reflect.DeepEqual(replicas, tt.wantReplicas) {
				t.Errorf("ServerNames() = %q, %q; want %q, %q", candidates, replicas, tt.wantCandidates, tt.wantReplicas)
			}
		})
	}
}

func TestCandidatesReadsDatabasePrimary(t *testing.T) {
	tests := []struct {
		driver, primary string
		want            []string
	}{
		{"sqlite", "guestbook.db", []string{"guestbook.db"}},
		{"sqlite", "/var/lib/guest,book.db", []string{"/var/lib/guest,book.db"}}, // one file, comma and all
		{"sqlite", " ", nil},
		{"mysql", "gb:pw@tcp(db1)/gb", []string{"gb:pw@tcp(db1)/gb"}},
		{"mysql", " gb:pw@tcp(db1)/gb ,gb:pw@tcp(db2)/gb,", []string{"gb:pw@tcp(db1)/gb", "gb:pw@tcp(db2)/gb"}},
		{"mysql", "gb@tcp(db1)/gb,,gb@tcp(db2)/gb", []string{"gb@tcp(db1)/gb", "gb@tcp(db2)/gb"}},
		{"mysql", " , ", nil},
		{"mysql", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.driver+" "+tt.primary, func(t *testing.T) {
			if got := (Database{Driver: tt.driver, Primary: tt.primary}).Candidates(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Candidates() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestAShortSecretIsRefusedWithoutQuotingIt(t *testing.T) {
	const secret = "hunter2-but-too-short"
	err := loadErr(t, "", []string{"GUESTBOOK_APP_SECRET=" + secret}, "app.secret", "32")
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error %q quotes the secret", err)
	}
}

func TestSecretsAreMarkedSo(t *testing.T) {
	secret := map[string]bool{}
	for _, k := range Keys() {
		secret[k.Name] = k.Secret
	}
	for _, name := range []string{"app.secret", "app.admin_token", "database.primary", "database.replicas"} {
		if !secret[name] {
			t.Errorf("%s is not marked secret", name)
		}
	}
	for _, name := range []string{"app.listen", "database.primary_name", "app.write_limit"} {
		if secret[name] {
			t.Errorf("%s is marked secret", name)
		}
	}
}

func TestAnEmptyAppTrustedProxiesTrustsNobody(t *testing.T) {
	c := mustLoad(t, writeFile(t, "app:\n  trusted_proxies: []\n"), nil)
	if len(c.App.TrustedProxies) != 0 {
		t.Errorf("app.trusted_proxies: [] loaded as %q, want none", c.App.TrustedProxies)
	}
	c = mustLoad(t, "", []string{"GUESTBOOK_APP_TRUSTED_PROXIES="})
	if len(c.App.TrustedProxies) != 0 {
		t.Errorf("an empty GUESTBOOK_APP_TRUSTED_PROXIES loaded as %q, want none", c.App.TrustedProxies)
	}
}

// secretFile writes a secret's value in a file of its own, as Docker,
// Kubernetes and systemd's LoadCredential= do, and returns its path.
func secretFile(t *testing.T, name, contents string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(contents), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestEverySecretKeyTakesItsValueFromAFileWithoutTheTrailingNewline(t *testing.T) {
	token := strings.Repeat("t", 40)
	secret := strings.Repeat("s", 40)
	primary := "guestbook:pa ss@tcp(db1:3306)/guestbook"
	replica := "guestbook:pass@tcp(db2:3306)/guestbook"
	c := mustLoad(t, "", []string{
		"GUESTBOOK_DATABASE_DRIVER=mysql",
		"GUESTBOOK_APP_ADMIN_TOKEN_FILE=" + secretFile(t, "token", token+"\n"),
		"GUESTBOOK_APP_SECRET_FILE=" + secretFile(t, "secret", secret+"\r\n"),
		"GUESTBOOK_DATABASE_PRIMARY_FILE=" + secretFile(t, "primary", primary),
		"GUESTBOOK_DATABASE_REPLICAS_FILE=" + secretFile(t, "replicas", replica+","+replica+"\n\n"),
	})
	if c.App.AdminToken != token || c.App.Secret != secret || c.Database.Primary != primary ||
		!slices.Equal(c.Database.Replicas, []string{replica, replica}) {
		t.Errorf("loaded admin_token %q, secret %q, primary %q, replicas %q; want the files' contents without their newlines",
			c.App.AdminToken, c.App.Secret, c.Database.Primary, c.Database.Replicas)
	}
	for _, k := range Keys() {
		if want := k.Env + "_FILE"; k.Secret && k.FileEnv != want {
			t.Errorf("key %s: FileEnv is %q, want %q", k.Name, k.FileEnv, want)
		}
		if !k.Secret && k.FileEnv != "" {
			t.Errorf("key %s is not secret but has FileEnv %q", k.Name, k.FileEnv)
		}
	}
}

func TestASecretSetBothDirectlyAndFromAFileIsAnErrorNamingBoth(t *testing.T) {
	path := secretFile(t, "token", strings.Repeat("f", 40))
	for _, environ := range [][]string{
		{"GUESTBOOK_APP_ADMIN_TOKEN=" + strings.Repeat("v", 40), "GUESTBOOK_APP_ADMIN_TOKEN_FILE=" + path},
		{"GUESTBOOK_APP_ADMIN_TOKEN_FILE=" + path, "GUESTBOOK_APP_ADMIN_TOKEN=" + strings.Repeat("v", 40)},
	} {
		err := loadErr(t, "", environ, "GUESTBOOK_APP_ADMIN_TOKEN ", "GUESTBOOK_APP_ADMIN_TOKEN_FILE", "both")
		if strings.Contains(err.Error(), strings.Repeat("f", 40)) || strings.Contains(err.Error(), strings.Repeat("v", 40)) {
			t.Errorf("error %q quotes the secret", err)
		}
	}
}

func TestOnlySecretKeysTakeAFileVariable(t *testing.T) {
	path := secretFile(t, "listen", ":9090")
	loadErr(t, "", []string{"GUESTBOOK_APP_LISTEN_FILE=" + path}, "GUESTBOOK_APP_LISTEN_FILE", "unknown variable")
}

func TestASecretFileThatCannotBeReadIsAnErrorNamingTheVariableAndPath(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nothing-here")
	loadErr(t, "", []string{"GUESTBOOK_APP_SECRET_FILE=" + missing}, "GUESTBOOK_APP_SECRET_FILE", missing)
	loadErr(t, "", []string{"GUESTBOOK_APP_SECRET_FILE="}, "GUESTBOOK_APP_SECRET_FILE", "empty")
}

func TestABadSecretFromAFileIsRefusedWithoutQuotingIt(t *testing.T) {
	const secret = "hunter2-from-a-file"
	err := loadErr(t, "", []string{"GUESTBOOK_APP_SECRET_FILE=" + secretFile(t, "secret", secret+"\n")}, "app.secret", "32")
	if strings.Contains(err.Error(), secret) {
		t.Errorf("error %q quotes the secret", err)
	}
}

func TestEveryKeysDefaultLoadsAsTheDefault(t *testing.T) {
	var environ []string
	for _, k := range Keys() {
		environ = append(environ, k.Env+"="+k.Default)
	}
	c := mustLoad(t, "", environ)
	want := Default()
	want.App.TrustedProxies = slices.Clone(want.App.TrustedProxies)
	if !reflect.DeepEqual(c, want) {
		t.Errorf("the keys' defaults load as\n %+v\nwant\n %+v", c, want)
	}
	for _, k := range Keys() {
		if k.Name == "instance.id" && k.Default != "" {
			t.Errorf("instance.id's default is %q, want empty (the hostname where it runs)", k.Default)
		}
	}
}
