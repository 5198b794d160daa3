package terraform

import (
	"bufio"
	"fmt"
	"net"
	"net/url"
	"os/exec"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/guestbook/guestbook/config"
)

// roles are the tiers that have instances: local.tiers' keys.
var roles = []string{"web", "app"}

// shellValues are what the app tier's boot script reads from Secrets
// Manager into shell variables; letters and digits, as random_password
// makes them.
var shellValues = map[string]string{
	"db_user":     "guestbook",
	"db_password": "Zx81CpqL0o4mWv2nTfR7sYb3KdE9hJu6GaN5iQxP",
	"admin_token": "Hq3LmV8cW1rT6yB0nS4dF9gK2jP7xZ5aE1uR8oIi",
}

// userDataLimit is EC2's limit on user data, before base64.
const userDataLimit = 16 << 10

// bootScript is one tier's user data as templatefile renders it, and what
// it writes.
type bootScript struct {
	role  string
	text  string
	env   map[string][]string // env file path → its variables, after the shell expanded them
	files map[string]string   // other files under /etc/guestbook → contents, expanded
}

// renderUserData finds the templatefile call, evaluates its arguments as
// Terraform would for one tier (each.key = role; resource attributes from
// fakeAttributes), and renders the template with them. An argument that
// reads a generated secret is an error: the user data must fetch secrets,
// never carry them.
func (m *module) renderUserData(role string, values map[string]cty.Value) (string, error) {
	var calls []*hclsyntax.FunctionCallExpr
	for _, key := range sortedKeys(m.resources) {
		hclsyntax.VisitAll(m.resources[key].Body, func(n hclsyntax.Node) hcl.Diagnostics {
			if call, ok := n.(*hclsyntax.FunctionCallExpr); ok && call.Name == "templatefile" {
				calls = append(calls, call)
			}
			return nil
		})
	}
	if len(calls) != 1 || len(calls[0].Args) != 2 {
		return "", fmt.Errorf("want one templatefile(path, vars) call for the user data, found %d", len(calls))
	}
	call := calls[0]
	ctx, err := m.evalContext(values)
	if err != nil {
		return "", err
	}
	ctx = ctx.NewChild()
	ctx.Variables = map[string]cty.Value{"each": cty.ObjectVal(map[string]cty.Value{"key": cty.StringVal(role)})}
	file, diags := call.Args[0].Value(ctx)
	if diags.HasErrors() {
		return "", fmt.Errorf("%s: template path: %w", where(call.Args[0].Range()), diags)
	}
	object, ok := call.Args[1].(*hclsyntax.ObjectConsExpr)
	if !ok {
		return "", fmt.Errorf("%s: templatefile's vars must be written out as an object", where(call.Args[1].Range()))
	}
	args := map[string]cty.Value{}
	for _, item := range object.Items {
		key := hcl.ExprAsKeyword(item.KeyExpr)
		for _, tr := range item.ValueExpr.Variables() {
			if root := tr.RootName(); root == "random_password" || root == "aws_secretsmanager_secret_version" {
				return "", fmt.Errorf("%s: templatefile var %q reads %s: a secret would be in the user data in clear", where(tr.SourceRange()), key, root)
			}
		}
		v, diags := item.ValueExpr.Value(ctx)
		if diags.HasErrors() || !v.IsWhollyKnown() {
			return "", fmt.Errorf("%s: templatefile var %q cannot be evaluated here (add what it reads to fakeAttributes): %s",
				where(item.ValueExpr.Range()), key, diags)
		}
		args[key] = v
	}
	src, err := m.readAbs(file.AsString())
	if err != nil {
		return "", err
	}
	tmpl, diags := hclsyntax.ParseTemplate(src, path.Base(file.AsString()), hcl.InitialPos)
	if diags.HasErrors() {
		return "", fmt.Errorf("parse template: %w", diags)
	}
	for _, tr := range tmpl.Variables() {
		if _, ok := args[tr.RootName()]; !ok {
			return "", fmt.Errorf("%s: the template uses ${%s}, which templatefile is not given", where(tr.SourceRange()), tr.RootName())
		}
	}
	out, diags := tmpl.Value(&hcl.EvalContext{Variables: args}) // no functions: keep the template plain
	if diags.HasErrors() {
		return "", fmt.Errorf("render template: %w", diags)
	}
	return out.AsString(), nil
}

// heredoc is `cat > PATH <<'END'` or `<<END` (which the shell expands).
var heredoc = regexp.MustCompile(`^cat > (\S+) <<('?)([A-Z]+)'?$`)

// shellVar is a $name the shell expands in an unquoted heredoc.
var shellVar = regexp.MustCompile(`\$[A-Za-z_][A-Za-z0-9_]*`)

// parseBootScript reads the files a rendered script writes with heredocs
// under /etc/guestbook: env files and the DSN files the units load. It
// expands the shell variables that the script sets from the secret, as bash
// would.
func parseBootScript(role, text string) (bootScript, error) {
	b := bootScript{role: role, text: text, env: map[string][]string{}, files: map[string]string{}}
	if len(text) > userDataLimit {
		return b, fmt.Errorf("%s user data is %d bytes, over EC2's limit of %d", role, len(text), userDataLimit)
	}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		h := heredoc.FindStringSubmatch(sc.Text())
		if h == nil {
			continue
		}
		target, quoted, end := h[1], h[2] == "'", h[3]
		var body []string
		for closed := false; !closed; {
			if !sc.Scan() {
				return b, fmt.Errorf("%s user data: the heredoc for %s never ends", role, target)
			}
			if closed = sc.Text() == end; !closed {
				body = append(body, sc.Text())
			}
		}
		if !strings.HasPrefix(target, "/etc/guestbook/") {
			return b, fmt.Errorf("%s user data writes %s: the package installs everything outside /etc/guestbook", role, target)
		}
		lines, err := expand(body, quoted)
		if err != nil {
			return b, fmt.Errorf("%s user data: %s: %w", role, target, err)
		}
		if !strings.HasSuffix(target, ".env") {
			b.files[target] = strings.Join(lines, "\n") + "\n"
			continue
		}
		if b.env[target], err = envFile(lines); err != nil {
			return b, fmt.Errorf("%s user data: %s: %w", role, target, err)
		}
	}
	return b, nil
}

// expand is a heredoc's lines as the shell writes them: an unquoted one
// has its $names replaced by what the script set them to.
func expand(lines []string, quoted bool) ([]string, error) {
	var out []string
	for _, line := range lines {
		if quoted && strings.Contains(line, "$") {
			return nil, fmt.Errorf("%q: a quoted heredoc does not expand $", line)
		}
		if !quoted {
			if strings.ContainsAny(line, "`\\") || strings.Contains(line, "${") {
				return nil, fmt.Errorf("%q: only plain $name is expanded here", line)
			}
			var unknown string
			line = shellVar.ReplaceAllStringFunc(line, func(v string) string {
				s, ok := shellValues[v[1:]]
				if !ok {
					unknown = v
				}
				return s
			})
			if unknown != "" {
				return nil, fmt.Errorf("%s is not set by the script", unknown)
			}
		}
		out = append(out, line)
	}
	return out, nil
}

// envFile reads an EnvironmentFile's KEY='value' lines as systemd does.
func envFile(lines []string) ([]string, error) {
	var environ []string
	for _, line := range lines {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("%q is not KEY=value", line)
		}
		if len(value) >= 2 && value[0] == '\'' && value[len(value)-1] == '\'' {
			value = value[1 : len(value)-1]
		}
		environ = append(environ, key+"="+value)
	}
	return environ, nil
}

// tierPorts are the ports the rendered configurations listen on and dial.
type tierPorts struct {
	web, app, appLB, db int64
}

// checkBootScripts renders every tier's user data and checks what it does:
// installs the package make dist builds after checking its SHA-256, writes
// the env file and the DSN files that the tier's units of deploy/systemd
// (which the package installs) read, so that config.Load (the binary's own
// loading and Validate) accepts what systemd hands the binary; serving
// roles take their identity from the metadata service and keep /metrics
// off the public listener, and the tier is started. It returns the ports
// those configurations use.
func (m *module) checkBootScripts(values map[string]cty.Value) (tierPorts, []error) {
	var ports tierPorts
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	for _, role := range roles {
		text, err := m.renderUserData(role, values)
		if err != nil {
			fail("%s user data: %w", role, err)
			continue
		}
		b, err := parseBootScript(role, text)
		if err != nil {
			fail("%w", err)
			continue
		}
		if err := bashSyntax(text); err != nil {
			fail("%s user data: %w", role, err)
		}
		check, install := strings.Index(text, "sha256sum --check --strict"), strings.Index(text, "dnf install -y ")
		if install < 0 || check < 0 || check > install {
			fail("%s user data does not check the package's SHA-256 and then install it with dnf", role)
		}
		unit := "guestbook-" + role + ".service"
		if !strings.Contains(text, "systemctl enable --now "+unit) {
			fail("%s user data does not enable and start %s", role, unit)
		}
		names := []string{unit}
		if role == "app" {
			names = append(names, "guestbook-migrate.service")
		}
		for _, name := range names {
			contents, err := m.read("../systemd/" + name)
			if err != nil {
				fail("%s: deploy/systemd lacks %s: %w", role, name, err)
				continue
			}
			environ, err := b.unitEnviron(name, string(contents))
			if err != nil {
				fail("%w", err)
				continue
			}
			cfg, err := config.Load("", environ)
			if err != nil {
				fail("%s user data: %s: the binary refuses what it is handed: %w", role, name, err)
				continue
			}
			if name == unit {
				errs = append(errs, checkServing(role, cfg, &ports)...)
			}
		}
	}
	return ports, errs
}

// unitEnviron is what systemd hands a unit's binary on this machine: its
// EnvironmentFile= (which the user data must write) and its Environment=
// lines, with %d/ID the file that LoadCredential= ID loads (which the user
// data must write too), read as a file the binary is given.
func (b bootScript) unitEnviron(name, unit string) ([]string, error) {
	creds := map[string]string{}
	var environ []string
	for _, line := range strings.Split(unit, "\n") {
		if p, ok := strings.CutPrefix(line, "EnvironmentFile="); ok {
			env, ok := b.env[strings.TrimPrefix(p, "-")]
			if !ok {
				return nil, fmt.Errorf("%s user data does not write %s, which %s reads", b.role, strings.TrimPrefix(p, "-"), name)
			}
			environ = append(environ, env...)
		}
		if c, ok := strings.CutPrefix(line, "LoadCredential="); ok {
			id, src, _ := strings.Cut(c, ":")
			contents, ok := b.files[src]
			if !ok {
				return nil, fmt.Errorf("%s user data does not write %s, which %s loads as %s", b.role, src, name, id)
			}
			creds[id] = contents
		}
	}
	for _, line := range strings.Split(unit, "\n") {
		v, ok := strings.CutPrefix(line, "Environment=")
		if !ok {
			continue
		}
		key, value, _ := strings.Cut(v, "=")
		if id, ok := strings.CutPrefix(value, "%d/"); ok && strings.HasSuffix(key, config.FileSuffix) {
			// The binary reads the file and trims its newline: so here.
			contents, ok := creds[id]
			if !ok {
				return nil, fmt.Errorf("%s: %s names credential %s, which no LoadCredential= loads", name, key, id)
			}
			environ = append(environ, strings.TrimSuffix(key, config.FileSuffix)+"="+strings.TrimRight(contents, "\n"))
			continue
		}
		environ = append(environ, v)
	}
	return environ, nil
}

// bashBinary is bash, or "" when there is none.
func bashBinary() string {
	p, _ := exec.LookPath("bash")
	return p
}

// bashSyntax parses a script with bash -n (without running it), when bash
// is installed.
func bashSyntax(script string) error {
	bin := bashBinary()
	if bin == "" {
		return nil
	}
	cmd := exec.Command(bin, "-n")
	cmd.Stdin = strings.NewReader(script)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("bash -n: %v: %s", err, out)
	}
	return nil
}

// checkServing checks a serving role's configuration and records its ports.
func checkServing(role string, cfg config.Config, ports *tierPorts) []error {
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(role+" tier: "+format, a...)) }
	if cfg.Instance.Metadata != "ec2" {
		fail("instance.metadata is %q, want ec2: every instance of the group has the same user data", cfg.Instance.Metadata)
	}
	if host, _, err := net.SplitHostPort(cfg.Metrics.Listen); err != nil || !slices.Contains([]string{"127.0.0.1", "::1", "localhost"}, host) {
		fail("metrics.listen is %q, want a loopback address: else /metrics is public through the load balancer", cfg.Metrics.Listen)
	}
	switch role {
	case "web":
		ports.web = listenPort(cfg.Web.Listen)
		if len(cfg.Web.Upstreams) == 0 {
			fail("web.upstreams is empty")
		}
		for _, u := range cfg.Web.Upstreams {
			p, err := url.Parse(u)
			if err != nil {
				fail("web.upstreams: %v", err)
				continue
			}
			port, err := strconv.ParseInt(p.Port(), 10, 64)
			if err != nil {
				port = map[string]int64{"http": 80, "https": 443}[p.Scheme]
			}
			ports.appLB = port
		}
	case "app":
		ports.app = listenPort(cfg.App.Listen)
		if cfg.Database.Driver != "mysql" {
			fail("database.driver is %q, want mysql", cfg.Database.Driver)
		}
		for _, dsn := range append([]string{cfg.Database.Primary}, cfg.Database.Replicas...) {
			d, err := mysql.ParseDSN(dsn)
			if err != nil {
				fail("a database DSN does not parse: %v", err)
				continue
			}
			ports.db = listenPort(d.Addr)
		}
		if len(cfg.Database.Replicas) == 0 {
			fail("database.replicas is empty: the reader endpoint is not used")
		}
	}
	return errs
}

// listenPort is the port of host:port, or 0.
func listenPort(addr string) int64 {
	_, port, _ := net.SplitHostPort(addr)
	n, _ := strconv.ParseInt(port, 10, 64)
	return n
}
