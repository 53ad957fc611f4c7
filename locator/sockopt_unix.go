//go:build unix

package locator

import (
	"net"
	"syscall"
)

// setBroadcast allows sending to broadcast addresses (SO_BROADCAST), which
// Linux refuses without it.
func setBroadcast(pc *net.UDPConn) error {
	rc, err := pc.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_BROADCAST, 1)
	}); err != nil {
		return err
	}
	return serr
}
