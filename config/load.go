package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// EnvPrefix starts every environment variable that configures guestbook.
const EnvPrefix = "GUESTBOOK_"

// Load builds the configuration: defaults, then the YAML file at path (if
// path is not empty), then the GUESTBOOK_ variables in environ, then the
// overrides ("key=value", from --set flags). An unknown key or variable is an
// error that names it. The result is validated.
func Load(path string, environ []string, overrides ...string) (Config, error) {
	c := Default()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("config file: %w", err)
		}
		if err := decodeYAML(&c, data); err != nil {
			return c, fmt.Errorf("config file %s: %w", path, err)
		}
	}
	if err := applyEnv(&c, environ); err != nil {
		return c, err
	}
	if err := applyOverrides(&c, overrides); err != nil {
		return c, err
	}
	if c.Instance.ID == "" {
		c.Instance.ID = Default().Instance.ID // an empty id in a file still means the hostname
	}
	return c, c.Validate()
}

// Key is one configuration key with its environment variable.
type Key struct {
	Name string // such as "database.max_open_conns"
	Env  string // such as "GUESTBOOK_DATABASE_MAX_OPEN_CONNS"
	// Secret marks a key whose value must never be logged or shown (its
	// field's tag secret:"true").
	Secret bool
	// FileEnv, for a secret key, is the variable naming a file that holds
	// its value (Env with _FILE appended); empty for other keys.
	FileEnv string
	// Default is the key's default written as its variable takes it (lists
	// comma-separated, durations such as 2s), for files that list every
	// variable. Empty for instance.id, whose default is the hostname of the
	// machine it runs on.
	Default string
}

// FileSuffix ends the variable that gives a secret key's value as a file's
// contents, as Docker and Kubernetes secrets and systemd's LoadCredential=
// provide them: GUESTBOOK_APP_SECRET_FILE=/run/credentials/.../app.secret.
const FileSuffix = "_FILE"

// Keys lists every configuration key, in declaration order.
func Keys() []Key {
	c := Default()
	c.Instance.ID = "" // this machine's hostname, not a default for others
	var keys []Key
	for _, f := range fieldsOf(&c) {
		k := Key{Name: f.key, Env: f.env, Secret: f.secret, Default: formatValue(f.val)}
		if f.secret {
			k.FileEnv = f.env + FileSuffix
		}
		keys = append(keys, k)
	}
	return keys
}

type field struct {
	key    string
	env    string
	secret bool          // tagged secret:"true"
	val    reflect.Value // settable
}

// fieldsOf walks Config's two levels (section, then field) by their yaml tags.
func fieldsOf(c *Config) []field {
	var out []field
	root := reflect.ValueOf(c).Elem()
	for i := 0; i < root.NumField(); i++ {
		section := root.Type().Field(i).Tag.Get("yaml")
		sv := root.Field(i)
		for j := 0; j < sv.NumField(); j++ {
			tag := sv.Type().Field(j).Tag
			key := section + "." + tag.Get("yaml")
			out = append(out, field{
				key:    key,
				env:    EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_")),
				secret: tag.Get("secret") == "true",
				val:    sv.Field(j),
			})
		}
	}
	return out
}

func decodeYAML(c *Config, data []byte) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return err
	}
	keyAt, err := checkKnownKeys(c, &doc)
	if err != nil {
		return err
	}
	if err := doc.Decode(c); err != nil {
		return cleanYAMLError(err, keyAt)
	}
	return nil
}

// checkKnownKeys names the first key in the document that Config lacks, with
// its full dotted path and line, which yaml's own KnownFields error does not.
// It returns the dotted key on each line, to name the key of a bad value.
func checkKnownKeys(c *Config, doc *yaml.Node) (map[int]string, error) {
	keyAt := map[int]string{}
	known := map[string]bool{}
	for _, f := range fieldsOf(c) {
		known[f.key] = true
		known[strings.SplitN(f.key, ".", 2)[0]] = true
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return keyAt, nil
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: the file must be a mapping of sections (web, app, database, ...)", top.Line)
	}
	for i := 0; i+1 < len(top.Content); i += 2 {
		section, body := top.Content[i], top.Content[i+1]
		if !known[section.Value] {
			return nil, fmt.Errorf("line %d: unknown key %q", section.Line, section.Value)
		}
		if body.Kind == yaml.ScalarNode && body.Tag == "!!null" {
			continue
		}
		if body.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("line %d: %s must be a mapping of keys", body.Line, section.Value)
		}
		for j := 0; j+1 < len(body.Content); j += 2 {
			name := section.Value + "." + body.Content[j].Value
			if !known[name] {
				return nil, fmt.Errorf("line %d: unknown key %q", body.Content[j].Line, name)
			}
			keyAt[body.Content[j].Line] = name
			keyAt[body.Content[j+1].Line] = name
			for _, item := range body.Content[j+1].Content { // a list's items
				keyAt[item.Line] = name
			}
		}
	}
	return keyAt, nil
}

// cleanYAMLError keeps the first of yaml's errors, prefixed with the key
// whose value it is about ("database.connect_timeout: line 2: cannot
// unmarshal ...").
func cleanYAMLError(err error, keyAt map[int]string) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) || len(te.Errors) == 0 {
		return err
	}
	msg := strings.TrimSpace(te.Errors[0])
	var line int
	if _, scanErr := fmt.Sscanf(msg, "line %d:", &line); scanErr == nil && keyAt[line] != "" {
		return fmt.Errorf("%s: %s", keyAt[line], msg)
	}
	return errors.New(msg)
}

func applyEnv(c *Config, environ []string) error {
	byEnv := map[string]field{}
	byFileEnv := map[string]field{}
	for _, f := range fieldsOf(c) {
		byEnv[f.env] = f
		if f.secret {
			byFileEnv[f.env+FileSuffix] = f
		}
	}
	seen := map[string]string{} // a secret's Env → the variable that set it
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		f, ok := byEnv[name]
		if !ok {
			if f, ok = byFileEnv[name]; !ok {
				return fmt.Errorf("%s: unknown variable (see config.example.yaml for the keys)", name)
			}
			var err error
			if value, err = readSecretFile(value); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		if other, ok := seen[f.env]; ok && other != name {
			return fmt.Errorf("%s and %s are both set: set one", f.env, f.env+FileSuffix)
		}
		seen[f.env] = name
		if err := setFromString(f.val, value); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// readSecretFile reads a secret key's value from the file at path, without
// its trailing newline (echo and most editors end a file with one). Its
// errors name the path, never the contents.
func readSecretFile(path string) (string, error) {
	if path == "" {
		return "", errors.New("empty: want the path of a file holding the value")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read the secret: %w", err)
	}
	return strings.TrimRight(string(data), "\r\n"), nil
}

// applyOverrides sets "key=value" pairs, written as in a variable (lists
// comma-separated).
func applyOverrides(c *Config, overrides []string) error {
	byKey := map[string]field{}
	for _, f := range fieldsOf(c) {
		byKey[f.key] = f
	}
	for _, kv := range overrides {
		key, value, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("--set %s: want key=value", kv)
		}
		f, known := byKey[strings.TrimSpace(key)]
		if !known {
			return fmt.Errorf("--set: unknown key %q (see config.example.yaml for the keys)", key)
		}
		if err := setFromString(f.val, value); err != nil {
			return fmt.Errorf("--set %s: %w", f.key, err)
		}
	}
	return nil
}

var durationType = reflect.TypeOf(time.Duration(0))

// formatValue writes a field as setFromString reads it.
func formatValue(v reflect.Value) string {
	switch {
	case v.Type() == durationType:
		return time.Duration(v.Int()).String()
	case v.Kind() == reflect.Slice:
		return strings.Join(v.Interface().([]string), ",")
	default:
		return fmt.Sprint(v.Interface())
	}
}

// setFromString parses an environment variable's text into a field: lists are
// comma-separated, durations are Go durations, numbers decimal.
func setFromString(v reflect.Value, s string) error {
	switch {
	case v.Type() == durationType:
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not a duration such as 2s or 500ms", s)
		}
		v.SetInt(int64(d))
	case v.Kind() == reflect.String:
		v.SetString(s)
	case v.Kind() == reflect.Int:
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil {
			return fmt.Errorf("%q is not a whole number", s)
		}
		v.SetInt(int64(n))
	case v.Kind() == reflect.Float64:
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return fmt.Errorf("%q is not a number", s)
		}
		v.SetFloat(f)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		var list []string
		for _, item := range strings.Split(s, ",") {
			if item = strings.TrimSpace(item); item != "" {
				list = append(list, item)
			}
		}
		v.Set(reflect.ValueOf(list))
	default:
		return fmt.Errorf("unsupported kind %s", v.Kind())
	}
	return nil
}
