//go:build unix

package commands

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/pyro4/pyro4/internal/pypeer"
)

// TestNsUnixSocketRestart: a `-u` server killed with -9 leaves its socket
// file, and the next start on the same path replaces it (Restart=on-failure
// must not crash-loop); a second server on the path of a live one exits 1
// with a message naming the path, and the live one keeps answering a
// Python client.
func TestNsUnixSocketRestart(t *testing.T) {
	pypeer.Require(t)
	bin := buildPyro4(t)
	sock := filepath.Join(t.TempDir(), "ns.sock")
	uri := "PYRO:Pyro.NameServer@./u:" + sock
	env := pypeer.Env()

	first := startNsProc(t, env, bin, "ns", "-u", sock)
	first.waitOut(t, "URI =")
	if got := nsPyClient(t, uri, "", "register", "x", "PYRO:x@h:1"); got != "ok" {
		t.Fatalf("register: %s", got)
	}

	second := startNsProc(t, env, bin, "ns", "-u", sock)
	<-second.exited
	if want := "another server is listening on " + sock; second.code != 1 || !strings.Contains(second.err.String(), want) {
		t.Fatalf("second server on a live socket: exit %d, want 1 and %q\nstdout %s\nstderr %s", second.code, want, second.out.String(), second.err.String())
	}
	if got := nsNames(nsPyList(t, uri, "")); got != "x=PYRO:x@h:1" {
		t.Fatalf("the running server lost its registrations or socket: %q", got)
	}

	first.signal(t, syscall.SIGKILL)
	if fi, err := os.Lstat(sock); err != nil || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("kill -9 should leave the socket file behind: %v", err)
	}
	third := startNsProc(t, env, bin, "ns", "-u", sock)
	third.waitOut(t, "URI =")
	if _, ok := nsPyList(t, uri, "")["Pyro.NameServer"]; !ok {
		t.Fatalf("the restarted server does not answer on %s", sock)
	}
	if code := third.signal(t, syscall.SIGINT); code != 0 {
		t.Fatalf("restarted server exit %d on SIGINT\n%s", code, third.err.String())
	}
	if _, err := os.Lstat(sock); !os.IsNotExist(err) {
		t.Fatalf("a clean stop should remove the socket file: %v", err)
	}

	// A file that is not a socket is the user's: refused, never removed.
	writeNsFile(t, sock, "keep me")
	fourth := startNsProc(t, env, bin, "ns", "-u", sock)
	<-fourth.exited
	if b, _ := os.ReadFile(sock); fourth.code != 1 || string(b) != "keep me" || !strings.Contains(fourth.err.String(), "is not a socket (a regular file)") {
		t.Fatalf("regular file at the socket path: exit %d, file %q\nstderr %s", fourth.code, b, fourth.err.String())
	}
}
