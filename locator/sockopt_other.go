//go:build !unix && !windows

package locator

import "net"

// setBroadcast has no socket option to set on this platform.
func setBroadcast(pc *net.UDPConn) error { return nil }
