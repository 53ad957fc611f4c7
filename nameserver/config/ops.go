package config

import (
	"fmt"
	"net"
	"strconv"
)

// CheckLogFormat accepts the log formats the server writes.
func CheckLogFormat(f string) error {
	switch f {
	case "text", "json":
		return nil
	}
	return fmt.Errorf("%q is not a log format (text or json)", f)
}

// CheckHTTPListen accepts "" (no operations endpoint) or HOST:PORT, the
// host possibly empty (every address) and the port 0 for a random one.
func CheckHTTPListen(addr string) error {
	if addr == "" {
		return nil
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not HOST:PORT: %v", addr, err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q: port %q out of range (0-65535)", addr, port)
	}
	return nil
}
