package tier_test

import (
	"net"
	"path/filepath"
	"testing"
	"time"

	"github.com/guestbook/guestbook/tier"
)

func TestTheProcessTellsSystemdWhenItIsReadyAndWhenItStops(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify.sock")
	sock, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	t.Setenv("NOTIFY_SOCKET", path)

	read := func() string {
		t.Helper()
		sock.SetReadDeadline(time.Now().Add(5 * time.Second))
		buf := make([]byte, 256)
		n, err := sock.Read(buf)
		if err != nil {
			t.Fatalf("no message to systemd: %v", err)
		}
		return string(buf[:n])
	}
	cfg, _ := sqliteConfig(t)
	_, stop, wait := start(t, tier.RoleAll, cfg)
	if got := read(); got != "READY=1" {
		t.Errorf("first message %q, want READY=1", got)
	}
	stop()
	if got := read(); got != "STOPPING=1" {
		t.Errorf("message on stop %q, want STOPPING=1", got)
	}
	if err := wait(10 * time.Second); err != nil {
		t.Fatal(err)
	}
}
