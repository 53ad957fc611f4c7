package commands

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
)

// The persistence tests: what a bolt store keeps across a stop, a kill -9
// and a crash in the middle of a burst, seen through the Python client.

// testNsPersistence registers names through the Python client in a server
// on a bolt store, stops it (SIGTERM, and kill -9), restarts it on the same
// file and finds every entry with its metadata; the startup line counts
// them as Pyro4's name server does for its own persistent store.
func testNsPersistence(t *testing.T, bin string) {
	pypeer.Require(t)
	entries := [][]string{
		{"app.one", "PYRO:one@127.0.0.1:5001", "class:One", "team:a"},
		{"app.two", "PYRO:two@127.0.0.1:5002"},
		{"app.three", "PYRO:three@./u:/run/three.sock", "x"},
	}
	register := func(t *testing.T, uri string) {
		for _, e := range entries {
			if got := nsPyClient(t, uri, "", append([]string{"register"}, e...)...); got != "ok" {
				t.Fatalf("register %s: %s", e[0], got)
			}
		}
	}
	// Pyro4's own name server with its sqlite store shows what the restart
	// prints.
	pyStore := "sql:" + filepath.Join(t.TempDir(), "ns.sqlite")
	var pyRestart []string
	for round := range 2 {
		port := pypeer.FreePort(t)
		p := startNsProc(t, pypeer.Env(), pypeer.Python, pyNsArgs("-n", "127.0.0.1", "-p", strconv.Itoa(port), "-s", pyStore)...)
		p.waitOut(t, "URI =")
		if round == 0 {
			register(t, nsURI(port))
		}
		p.signal(t, syscall.SIGINT)
		pyRestart = nsNormalize(p.out.String(), port, "", false)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			store := "bolt:" + filepath.Join(t.TempDir(), "ns.db")
			port := pypeer.FreePort(t)
			args := []string{"ns", "-n", "127.0.0.1", "-p", strconv.Itoa(port), "-s", store}
			p := startNsProc(t, pypeer.Env(), bin, args...)
			p.waitOut(t, "URI =")
			if strings.Contains(p.out.String(), "Persistent store") {
				t.Fatalf("a new store reports registrations:\n%s", p.out.String())
			}
			register(t, nsURI(port))
			code := p.signal(t, sig)
			if sig == syscall.SIGTERM && code != 0 {
				t.Fatalf("exit %d after SIGTERM", code)
			}
			p = startNsProc(t, pypeer.Env(), bin, args...)
			p.waitOut(t, "URI =")
			if got := nsNormalize(p.out.String(), port, "", false); len(got) > len(pyRestart) || !slices.Equal(got, pyRestart[:len(got)]) {
				t.Fatalf("restart printed\n%s\nPyro4's name server printed\n%s", strings.Join(got, "\n"), strings.Join(pyRestart, "\n"))
			}
			if !strings.Contains(p.out.String(), "Persistent store contains 4 existing registrations.\n") {
				t.Fatalf("restart printed\n%s", p.out.String())
			}
			m := nsPyList(t, nsURI(port), "")
			for _, e := range entries {
				want := nsEntry{URI: e[1], Metadata: e[2:]}
				if got := m[e[0]]; got.URI != want.URI || !slices.Equal(got.Metadata, want.Metadata) {
					t.Errorf("%s after restart: %+v, want %+v", e[0], got, want)
				}
			}
			if len(m) != 4 {
				t.Errorf("%d names after restart: %v", len(m), m)
			}
		})
	}
}

// testNsCrashDuringBurst kills the server with SIGKILL while Python threads
// are registering names concurrently; after a restart on the same store,
// every registration whose reply had arrived is there.
func testNsCrashDuringBurst(t *testing.T, bin string) {
	pypeer.Require(t)
	store := "bolt:" + filepath.Join(t.TempDir(), "ns.db")
	port := pypeer.FreePort(t)
	args := []string{"ns", "-n", "127.0.0.1", "-p", strconv.Itoa(port), "-s", store}
	srv := startNsProc(t, pypeer.Env(), bin, args...)
	srv.waitOut(t, "URI =")
	burst := startNsProc(t, pypeer.Env(), pypeer.Python, filepath.Join("testdata", "ns_burst.py"), nsURI(port), "8", "2000")
	const before = 300
	nsPoll(t, "registrations to be acknowledged", func() bool {
		return strings.Count(burst.out.String(), "ok ") >= before
	})
	srv.signal(t, syscall.SIGKILL)
	select {
	case <-burst.exited:
	case <-time.After(nsWait):
		t.Fatalf("the burst did not end after the server died")
	}
	var acked []string
	for _, l := range strings.Split(burst.out.String(), "\n") {
		if name, ok := strings.CutPrefix(l, "ok "); ok {
			acked = append(acked, name)
		}
	}
	if len(acked) >= 8*2000 {
		t.Fatalf("the burst finished before the kill; nothing was tested")
	}
	srv = startNsProc(t, pypeer.Env(), bin, args...)
	srv.waitOut(t, "URI =")
	m := nsPyList(t, nsURI(port), "")
	for _, name := range acked {
		var th, i int
		fmt.Sscanf(name, "burst.%d.%d", &th, &i)
		want := nsEntry{URI: fmt.Sprintf("PYRO:obj_%d_%d@127.0.0.1:%d", th, i, 1024+i), Metadata: []string{fmt.Sprintf("i%d", i), fmt.Sprintf("t%d", th)}}
		if got, ok := m[name]; !ok || got.URI != want.URI || !slices.Equal(got.Metadata, want.Metadata) {
			t.Fatalf("acknowledged %s lost or changed after the crash: %+v (present %v), want %+v", name, got, ok, want)
		}
	}
	if !strings.Contains(srv.out.String(), fmt.Sprintf("Persistent store contains %d existing registrations.", len(m))) {
		t.Fatalf("startup after the crash:\n%s\n(%d names listed)", srv.out.String(), len(m))
	}
	t.Logf("%d registrations acknowledged before the kill, %d names after the restart", len(acked), len(m)-1)
}
