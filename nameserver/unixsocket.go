package nameserver

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"time"
)

// unixProbeTimeout bounds the connect that tells a live socket from one a
// crashed server left behind; a live server accepts at once (the kernel
// completes the connect before any accept).
const unixProbeTimeout = 2 * time.Second

// listenUnix binds the Unix socket at path. A clean stop removes the
// socket file, a crash (kill -9, OOM) does not, and a service restarted on
// failure would then never bind again. So a socket file that refuses
// connections is taken as stale and replaced; one that accepts belongs to
// a running server and is refused, leaving that server serving. Anything
// that is not a socket is never removed: the path may be a user's file.
// Two servers started at the same moment on one stale path can both see it
// stale; the second bind then fails or unlinks the first's fresh socket, a
// window a supervisor (one instance per unit) does not open.
func listenUnix(path string) (net.Listener, error) {
	ln, err := net.Listen("unix", path)
	if err == nil || !errors.Is(err, syscall.EADDRINUSE) {
		return ln, err
	}
	fi, serr := os.Lstat(path)
	if serr != nil {
		return nil, err
	}
	if fi.Mode()&os.ModeSocket == 0 {
		return nil, fmt.Errorf("%s exists and is not a socket (%s); remove it or choose another path", path, fileKind(fi.Mode()))
	}
	c, derr := net.DialTimeout("unix", path, unixProbeTimeout)
	if derr == nil {
		c.Close()
		return nil, fmt.Errorf("another server is listening on %s; stop it first or choose another path", path)
	}
	if !errors.Is(derr, syscall.ECONNREFUSED) {
		// Cannot tell whether it is live (no permission, a timeout): keep it.
		return nil, fmt.Errorf("%s is in use and could not be probed: %w", path, derr)
	}
	if rerr := os.Remove(path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
		return nil, fmt.Errorf("remove stale socket %s: %w", path, rerr)
	}
	return net.Listen("unix", path)
}

func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeSymlink != 0:
		return "a symbolic link"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe"
	case m.IsRegular():
		return "a regular file"
	}
	return "a " + m.Type().String() + " file"
}
