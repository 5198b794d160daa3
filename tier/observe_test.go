package tier_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/guestbook/guestbook/config"
	"github.com/guestbook/guestbook/tier"
)

// logBuffer collects JSON log lines from a running process.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// requests returns the access-log lines.
func (b *logBuffer) requests(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.buf.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q is not JSON: %v", line, err)
		}
		if m["msg"] == "request" {
			out = append(out, m)
		}
	}
	return out
}

// TestOneRequestCanBeFollowedFromTheWebTierToTheAppTier runs both with
// nothing configured but the upstream: app.trusted_proxies' default (the
// loopback and private ranges) believes the web tier's request id.
func TestOneRequestCanBeFollowedFromTheWebTierToTheAppTier(t *testing.T) {
	var webLog, appLog logBuffer
	cfg, _ := sqliteConfig(t)
	appProc, _, _ := startLogging(t, tier.RoleApp, cfg, slog.New(slog.NewJSONHandler(&appLog, nil)))
	webCfg := config.Default()
	webCfg.Web.Upstreams = []string{"http://" + appProc.Addr()}
	webProc, _, _ := startLogging(t, tier.RoleWeb, webCfg, slog.New(slog.NewJSONHandler(&webLog, nil)))

	req, _ := http.NewRequest("GET", "http://"+webProc.Addr()+"/visitor/visitor_list/", nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.50") // from an untrusted client: ignored
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	id := resp.Header.Get("X-Request-Id")

	find := func(lines []map[string]any) map[string]any {
		for _, l := range lines {
			if l["request_id"] == id && l["path"] == "/visitor/visitor_list/" {
				return l
			}
		}
		return nil
	}
	web, app := find(webLog.requests(t)), find(appLog.requests(t))
	if web == nil || app == nil {
		t.Fatalf("request %s is not in both logs:\nweb %s\napp %s", id, webLog.buf.String(), appLog.buf.String())
	}
	if web["upstream"] != "http://"+appProc.Addr() {
		t.Errorf("web line's upstream = %v, want the app instance", web["upstream"])
	}
	if web["client"] != "127.0.0.1" || app["client"] != "127.0.0.1" {
		t.Errorf("client = %v (web) and %v (app): the spoofed address must not be believed", web["client"], app["client"])
	}
	for _, key := range []string{"method", "status", "bytes", "duration"} {
		if web[key] == nil || app[key] == nil {
			t.Errorf("an access-log line lacks %s", key)
		}
	}
}
