//go:build unix

package nameserver

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestListenUnixLeftovers: what is found at the socket path decides
// whether listenUnix replaces it, and a live server or a user's file is
// never disturbed.
func TestListenUnixLeftovers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		prepare func(t *testing.T, path string) (check func(t *testing.T))
		err     string // "" when the bind must succeed
	}{
		{"nothing there", func(*testing.T, string) func(*testing.T) { return nil }, ""},
		{"stale socket", func(t *testing.T, path string) func(*testing.T) {
			ln, err := net.Listen("unix", path)
			if err != nil {
				t.Fatal(err)
			}
			// As after kill -9: the file stays, nobody listens.
			ln.(*net.UnixListener).SetUnlinkOnClose(false)
			ln.Close()
			return nil
		}, ""},
		{"live socket", func(t *testing.T, path string) func(*testing.T) {
			ln, err := net.Listen("unix", path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
			go func() {
				for {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					c.Write([]byte("alive"))
					c.Close()
				}
			}()
			return func(t *testing.T) {
				c, err := net.Dial("unix", path)
				if err != nil {
					t.Fatalf("the running listener lost its socket: %v", err)
				}
				defer c.Close()
				b := make([]byte, 5)
				if n, _ := c.Read(b); string(b[:n]) != "alive" {
					t.Fatalf("the running listener answered %q", b[:n])
				}
			}
		}, "another server is listening on"},
		{"regular file", func(t *testing.T, path string) func(*testing.T) {
			if err := os.WriteFile(path, []byte("data"), 0o644); err != nil {
				t.Fatal(err)
			}
			return func(t *testing.T) {
				if b, err := os.ReadFile(path); err != nil || string(b) != "data" {
					t.Fatalf("the file was touched: %q %v", b, err)
				}
			}
		}, "exists and is not a socket (a regular file)"},
		{"directory", func(t *testing.T, path string) func(*testing.T) {
			if err := os.Mkdir(path, 0o755); err != nil {
				t.Fatal(err)
			}
			return func(t *testing.T) {
				if fi, err := os.Stat(path); err != nil || !fi.IsDir() {
					t.Fatalf("the directory was touched: %v", err)
				}
			}
		}, "exists and is not a socket (a directory)"},
		{"symlink to a stale socket", func(t *testing.T, path string) func(*testing.T) {
			target := path + ".target"
			ln, err := net.Listen("unix", target)
			if err != nil {
				t.Fatal(err)
			}
			ln.(*net.UnixListener).SetUnlinkOnClose(false)
			ln.Close()
			if err := os.Symlink(target, path); err != nil {
				t.Fatal(err)
			}
			return func(t *testing.T) {
				if fi, err := os.Lstat(path); err != nil || fi.Mode()&os.ModeSymlink == 0 {
					t.Fatalf("the link was replaced: %v", err)
				}
			}
		}, "exists and is not a socket (a symbolic link)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "ns.sock")
			check := tc.prepare(t, path)
			ln, err := listenUnix(path)
			if tc.err == "" {
				if err != nil {
					t.Fatalf("listenUnix: %v", err)
				}
				defer ln.Close()
				go func() {
					if c, err := ln.Accept(); err == nil {
						c.Close()
					}
				}()
				c, err := net.Dial("unix", path)
				if err != nil {
					t.Fatalf("the new listener does not accept: %v", err)
				}
				c.Close()
			} else {
				if err == nil {
					ln.Close()
					t.Fatalf("listenUnix bound over %s", tc.name)
				}
				if !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), path) {
					t.Fatalf("error %q, want %q naming %s", err, tc.err, path)
				}
			}
			if check != nil {
				check(t)
			}
		})
	}
}
