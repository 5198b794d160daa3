package tier

import (
	"net"
	"os"
)

// notifySystemd tells systemd (a unit with Type=notify) about the process:
// "READY=1" once it serves, "STOPPING=1" when it begins to shut down. Outside
// systemd, with no NOTIFY_SOCKET, it does nothing. This is sd_notify(3): one
// datagram on a unix socket, too small a protocol for a dependency.
func notifySystemd(state string) error {
	socket := os.Getenv("NOTIFY_SOCKET")
	if socket == "" {
		return nil
	}
	if socket[0] == '@' { // an abstract socket
		socket = "\x00" + socket[1:]
	}
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: socket, Net: "unixgram"})
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.Write([]byte(state))
	return err
}
