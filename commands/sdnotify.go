package commands

import (
	"fmt"
	"net"
	"os"
)

// sdNotify tells systemd the service's state (Type=notify units): one
// datagram to $NOTIFY_SOCKET, nothing when it is unset. A leading "@" names
// an abstract socket, which Go's net package maps itself.
func sdNotify(state string) error {
	path := os.Getenv("NOTIFY_SOCKET")
	if path == "" {
		return nil
	}
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("notify systemd at %s: %w", path, err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(state)); err != nil {
		return fmt.Errorf("notify systemd at %s: %w", path, err)
	}
	return nil
}
