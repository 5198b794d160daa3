package cmd_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/guestbook/guestbook/store/storetest"
)

func TestHealthcheckExitsZeroWhileTheConfiguredRoleIsReadyAndOneOnceItStops(t *testing.T) {
	dir := t.TempDir()
	appAddr := storetest.FreeAddr(t)
	env := cleanEnv("GUESTBOOK_APP_LISTEN=" + appAddr)
	p := serve(t, dir, env, appAddr, "serve", "--role=app")
	r := mustRun(t, dir, env, "healthcheck", "--role=app")
	if want := "http://" + appAddr + "/readyz"; !strings.Contains(r.stdout, want) || strings.Count(r.stdout, "\n") != 1 {
		t.Errorf("stdout is %q, want one line naming %s", r.stdout, want)
	}
	p.stop(t, syscall.SIGTERM)
	if line := failsWithOneLine(t, run(t, dir, env, "healthcheck", "--role=app")); !strings.Contains(line, appAddr) {
		t.Errorf("%q does not name the listener %s", line, appAddr)
	}
}

func TestHealthcheckAsksTheListenerOfEachRoleOnLoopback(t *testing.T) {
	dir := t.TempDir()
	webAddr := storetest.FreeAddr(t)
	_, port, _ := strings.Cut(webAddr, ":")
	// Listening on every address, as in a container: asked on 127.0.0.1.
	_, appPort, _ := strings.Cut(storetest.FreeAddr(t), ":")
	env := cleanEnv("GUESTBOOK_WEB_LISTEN=:"+port, "GUESTBOOK_APP_LISTEN=0.0.0.0:"+appPort,
		"GUESTBOOK_DATABASE_PRIMARY="+filepath.Join(dir, "gb.db"))
	serve(t, dir, env, webAddr, "serve", "--role=all")
	mustRun(t, dir, env, "healthcheck") // role all by default
	mustRun(t, dir, env, "healthcheck", "--role=web")
	line := failsWithOneLine(t, run(t, dir, env, "healthcheck", "--role=app")) // role all opens no app.listen
	if !strings.Contains(line, "127.0.0.1:"+appPort) {
		t.Errorf("%q does not name app.listen on loopback", line)
	}
}

func TestHealthcheckFailsWithTheStatusWhenReadyzIsNot200(t *testing.T) {
	status := http.StatusServiceUnavailable
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	line := failsWithOneLine(t, run(t, t.TempDir(), cleanEnv(), "healthcheck", "--url", srv.URL+"/readyz"))
	if !strings.Contains(line, "503") {
		t.Errorf("%q does not say 503", line)
	}
	status = http.StatusOK
	mustRun(t, t.TempDir(), cleanEnv(), "healthcheck", "--url", srv.URL+"/readyz")
	// A redirect is not ready: it is not followed.
	status = http.StatusFound
	failsWithOneLine(t, run(t, t.TempDir(), cleanEnv(), "healthcheck", "--url", srv.URL+"/readyz"))
}

func TestHealthcheckGivesUpAfterItsTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-release }))
	t.Cleanup(func() { close(release); srv.Close() })
	began := time.Now()
	failsWithOneLine(t, run(t, t.TempDir(), cleanEnv(), "healthcheck", "--timeout=300ms", "--url", srv.URL+"/readyz"))
	if took := time.Since(began); took > 5*time.Second {
		t.Errorf("healthcheck took %s with --timeout=300ms", took)
	}
}

func TestHealthcheckRefusesAURLThatIsNotHTTP(t *testing.T) {
	if line := failsWithOneLine(t, run(t, t.TempDir(), cleanEnv(), "healthcheck", "--url", "ftp://x/readyz")); !strings.Contains(line, "--url") {
		t.Errorf("%q does not name --url", line)
	}
}

// TestASecretFromAFileIsUsedAndNeverPrinted gives the DSN's password in a
// file, as systemd's LoadCredential= does, to a database that does not
// answer: the error names the host, never the password.
func TestASecretFromAFileIsUsedAndNeverPrinted(t *testing.T) {
	host := storetest.FreeAddr(t) // closed: nothing answers there
	path := filepath.Join(t.TempDir(), "database.primary")
	if err := os.WriteFile(path, []byte("guestbook:f1lesecretpw@tcp("+host+")/guestbook\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := cleanEnv("GUESTBOOK_APP_LISTEN="+storetest.FreeAddr(t), "GUESTBOOK_DATABASE_DRIVER=mysql",
		"GUESTBOOK_DATABASE_PRIMARY_FILE="+path, "GUESTBOOK_DATABASE_CONNECT_TIMEOUT=1s")
	p := start(t, t.TempDir(), env, "serve", "--role=app")
	code := p.wait(t, 10*time.Second)
	r := result{stdout: p.stdout.String(), stderr: p.stderr.String(), code: code}
	if last := failsWithLastLine(t, r); !strings.Contains(last, host) {
		t.Errorf("last stderr line %q does not name %s: was the file read?", last, host)
	}
	if strings.Contains(r.stderr+r.stdout, "f1lesecretpw") {
		t.Errorf("the password from the file is printed; stderr:\n%s", r.stderr)
	}
	both := failsWithOneLine(t, run(t, t.TempDir(), append(env, "GUESTBOOK_DATABASE_PRIMARY=x"), "serve", "--role=app"))
	if !strings.Contains(both, "GUESTBOOK_DATABASE_PRIMARY and GUESTBOOK_DATABASE_PRIMARY_FILE") || strings.Contains(both, "f1lesecretpw") {
		t.Errorf("with both set: %q, want both named and no secret", both)
	}
}
