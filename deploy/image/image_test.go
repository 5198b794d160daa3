// Package image's tests build the container image with scripts/image (make
// image), check its layers and configuration, run it with podman on the
// host's network and check that it answers /readyz and that its
// HEALTHCHECK passes, then fails once the role stops being ready.
package image

import (
	"archive/tar"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// podman runs podman with the flags this kind of machine needs: without
// systemd as PID 1, cgroupfs and a file for events, and Debian's runc
// (crun refuses hybrid cgroups).
func podman(args ...string) *exec.Cmd {
	var global []string
	if _, err := os.Stat("/run/systemd/system"); err != nil {
		global = []string{"--cgroup-manager=cgroupfs", "--events-backend=file"}
		if _, err := exec.LookPath("runc"); err == nil {
			global = append(global, "--runtime=runc")
		}
	}
	return exec.Command("podman", append(global, args...)...)
}

// mustPodman runs podman and returns its output, failing the test on an error.
func mustPodman(t *testing.T, args ...string) string {
	t.Helper()
	out, err := podman(args...).CombinedOutput()
	if err != nil {
		t.Fatalf("podman %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// buildImage runs scripts/image under a name of the test's own, removed
// after, and returns its tag.
func buildImage(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("podman"); err != nil {
		if os.Getenv("GBTEST_REQUIRE_TOOLS") != "" {
			t.Fatal("GBTEST_REQUIRE_TOOLS is set but podman is missing (Debian: apt-get install podman runc)")
		}
		t.Skip("podman is not installed here (Debian: podman, runc); make test requires it")
	}
	cmd := exec.Command("../../scripts/image")
	cmd.Env = append(os.Environ(), fmt.Sprintf("IMAGE_NAME=localhost/guestbook-test-%d", os.Getpid()),
		"PODMAN_FLAGS="+strings.Join(podman().Args[1:], " "))
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("scripts/image: %v\n%s%s", err, out, stderr)
	}
	tag := strings.TrimSpace(string(out))
	t.Cleanup(func() { podman("rmi", "--force", tag).Run() })
	return tag
}

func TestTheImageIsFromScratchWithTheBinaryCertificatesAndANonRootUser(t *testing.T) {
	tag := buildImage(t)
	var inspect []struct {
		Config struct {
			User         string
			ExposedPorts map[string]any
			Volumes      map[string]any
			Entrypoint   []string
			WorkingDir   string
		}
		HealthCheck *struct{ Test []string } `json:"Healthcheck"`
	}
	if err := json.Unmarshal([]byte(mustPodman(t, "image", "inspect", tag)), &inspect); err != nil || len(inspect) != 1 {
		t.Fatalf("podman image inspect: %v", err)
	}
	c := inspect[0].Config
	if c.User != "65532:65532" {
		t.Errorf("the image runs as %q, want the numeric non-root 65532:65532", c.User)
	}
	for _, port := range []string{"8080/tcp", "8081/tcp"} {
		if _, ok := c.ExposedPorts[port]; !ok {
			t.Errorf("the image does not expose %s: %v", port, c.ExposedPorts)
		}
	}
	if _, ok := c.Volumes["/data"]; !ok || c.WorkingDir != "/data" {
		t.Errorf("volumes %v, working directory %q; want /data for both", c.Volumes, c.WorkingDir)
	}
	if !slices.Equal(c.Entrypoint, []string{"/usr/bin/guestbook"}) {
		t.Errorf("entrypoint %q, want /usr/bin/guestbook", c.Entrypoint)
	}
	if hc := inspect[0].HealthCheck; hc == nil || !slices.Contains(hc.Test, "healthcheck") {
		t.Errorf("the image's HEALTHCHECK is %+v, want guestbook healthcheck", hc)
	}

	files := layerFiles(t, tag)
	for _, want := range []string{"usr/bin/guestbook", "etc/ssl/certs/ca-certificates.crt", "etc/passwd", "etc/group"} {
		if !slices.Contains(files, want) {
			t.Errorf("the image's layers lack /%s; they hold %q", want, files)
		}
	}
	for _, f := range files {
		if strings.HasPrefix(f, "bin/") || strings.HasPrefix(f, "lib") || f == "usr/bin/sh" {
			t.Errorf("the image holds /%s: it is not FROM scratch", f)
		}
	}
}

// layerFiles lists the regular files in every layer of the image, from
// podman save's archive.
func layerFiles(t *testing.T, tag string) []string {
	t.Helper()
	archive := filepath.Join(t.TempDir(), "image.tar")
	mustPodman(t, "save", "--format", "docker-archive", "--output", archive, tag)
	outer := readTar(t, archive, func(string) bool { return true })
	var manifest []struct{ Layers []string }
	if err := json.Unmarshal(outer["manifest.json"], &manifest); err != nil || len(manifest) != 1 {
		t.Fatalf("the saved image's manifest.json: %v", err)
	}
	var files []string
	for _, layer := range manifest[0].Layers {
		path := filepath.Join(t.TempDir(), "layer.tar")
		os.WriteFile(path, outer[layer], 0o600)
		for name := range readTar(t, path, func(string) bool { return false }) {
			files = append(files, strings.TrimPrefix(name, "./"))
		}
	}
	return files
}

// readTar reads a tar's regular files: their contents where keep says so.
func readTar(t *testing.T, path string, keep func(string) bool) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if h.Typeflag != tar.TypeReg {
			continue
		}
		out[h.Name] = nil
		if keep(h.Name) {
			out[h.Name], _ = io.ReadAll(tr)
		}
	}
}

// limits are ulimit flags at the current limits: podman's defaults raise
// them, which a machine without CAP_SYS_RESOURCE refuses.
func limits() []string {
	var nofile syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &nofile)
	n := min(nofile.Cur, 65536)
	return []string{"--ulimit", fmt.Sprintf("nofile=%d:%d", n, n), "--ulimit", "nproc=4096:4096"}
}

func TestTheImageRunsAnswersReadyzAndItsHealthCheckFollowsTheRole(t *testing.T) {
	tag := buildImage(t)
	base := append([]string{"run", "--rm", "--network=host"}, limits()...)
	if out, err := podman(append(base, tag, "version")...).CombinedOutput(); err != nil {
		t.Skipf("podman cannot run a container on this machine (the image's layers and configuration are checked above): %v\n%s", err, out)
	}
	addr := freeAddr(t)
	name := fmt.Sprintf("guestbook-test-%d", os.Getpid())
	// A drain keeps the process serving, with /readyz at 503, after SIGTERM.
	args := append([]string{"run", "--detach", "--name", name, "--network=host"}, limits()...)
	args = append(args, "--env", "GUESTBOOK_WEB_LISTEN="+addr, "--env", "GUESTBOOK_INSTANCE_DRAIN=20s", tag)
	mustPodman(t, args...)
	t.Cleanup(func() { podman("rm", "--force", "--time", "0", name).Run() })

	if code := waitReadyz(t, addr, http.StatusOK); code != http.StatusOK {
		logs, _ := podman("logs", name).CombinedOutput()
		t.Fatalf("/readyz of the container answered %d, want 200; its log:\n%s", code, logs)
	}
	if out, err := podman("healthcheck", "run", name).CombinedOutput(); err != nil {
		t.Errorf("podman healthcheck run on a ready container: %v\n%s", err, out)
	}
	if out := mustPodman(t, "exec", name, "/usr/bin/guestbook", "version"); !strings.HasPrefix(out, "guestbook ") {
		t.Errorf("guestbook version in the container says %q", out)
	}

	mustPodman(t, "kill", "--signal", "TERM", name)
	if code := waitReadyz(t, addr, http.StatusServiceUnavailable); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz answered %d while draining, want 503", code)
	}
	out, err := podman("healthcheck", "run", name).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "unhealthy") {
		t.Errorf("podman healthcheck run on a draining container: %v %q, want it to fail as unhealthy", err, out)
	}
}

// freeAddr is a loopback address nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitReadyz polls addr's /readyz for up to 20s until it answers want, and
// returns the last status (0: no answer).
func waitReadyz(t *testing.T, addr string, want int) int {
	t.Helper()
	client := &http.Client{Timeout: 2 * time.Second}
	code := 0
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := client.Get("http://" + addr + "/readyz")
		if err != nil {
			continue
		}
		resp.Body.Close()
		if code = resp.StatusCode; code == want {
			return code
		}
	}
	return code
}
