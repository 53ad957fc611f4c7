package commands

import (
	"bytes"
	"fmt"
	"os"
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
// and a crash in the middle of a burst, seen through the Python client; a
// store file that is not ours; which source wins for the settings beyond
// address and key; and what a reload says about NAT it cannot apply.

// testNsPersistence registers names through the Python client in a server
// on a bolt store, removes one and changes another's metadata, stops it
// (SIGTERM, and kill -9), restarts it on the same file at another port with
// NAT, and finds every entry in its last state, the name server's own entry
// at the new external address; the startup lines are those of Pyro4's name
// server doing the same with its own persistent store.
func testNsPersistence(t *testing.T, bin string) {
	pypeer.Require(t)
	entries := [][]string{
		{"app.one", "PYRO:one@127.0.0.1:5001", "class:One", "team:a"},
		{"app.two", "PYRO:two@127.0.0.1:5002"},
		{"app.three", "PYRO:three@./u:/run/three.sock", "x"},
	}
	// What survives: app.two removed, app.one's metadata replaced.
	want := map[string]nsEntry{
		"app.one":   {URI: "PYRO:one@127.0.0.1:5001", Metadata: []string{"class:One", "team:b"}},
		"app.three": {URI: "PYRO:three@./u:/run/three.sock", Metadata: []string{"x"}},
	}
	change := func(t *testing.T, uri string) {
		for _, e := range entries {
			if got := nsPyClient(t, uri, "", append([]string{"register"}, e...)...); got != "ok" {
				t.Fatalf("register %s: %s", e[0], got)
			}
		}
		if got := nsPyClient(t, uri, "", "remove", "app.two"); got != "1" {
			t.Fatalf("remove app.two: %s", got)
		}
		if got := nsPyClient(t, uri, "", "setmeta", "app.one", "team:b", "class:One"); got != "ok" {
			t.Fatalf("setmeta app.one: %s", got)
		}
	}
	const natHost, natPort = "ext.example", "5555"
	const ownURI = "PYRO:Pyro.NameServer@" + natHost + ":" + natPort
	restartArgs := func(port int) []string {
		return []string{"-n", "127.0.0.1", "-p", strconv.Itoa(port), "--nathost", natHost, "--natport", natPort}
	}
	// Pyro4's own name server with its sqlite store shows what the restart
	// prints, and that it too refreshes its own entry.
	pyStore := "sql:" + filepath.Join(t.TempDir(), "ns.sqlite")
	var pyRestart []string
	for round := range 2 {
		port := pypeer.FreePort(t)
		args := []string{"-n", "127.0.0.1", "-p", strconv.Itoa(port)}
		if round == 1 {
			args = restartArgs(port)
		}
		p := startNsProc(t, pypeer.Env(), pypeer.Python, pyNsArgs(append(args, "-s", pyStore)...)...)
		p.waitOut(t, "URI =")
		if round == 0 {
			change(t, nsURI(port))
		} else if got := nsPyList(t, nsURI(port), "")["Pyro.NameServer"].URI; got != ownURI {
			t.Fatalf("Pyro4's name server entry after its restart: %s, want %s", got, ownURI)
		}
		p.signal(t, syscall.SIGINT)
		pyRestart = nsNormalize(p.out.String(), port, "", false)
	}
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			store := "bolt:" + filepath.Join(t.TempDir(), "ns.db")
			ports := nsFreePorts(t, 2)
			p := startNsProc(t, pypeer.Env(), bin, "ns", "-n", "127.0.0.1", "-p", strconv.Itoa(ports[0]), "-s", store)
			p.waitOut(t, "URI =")
			if strings.Contains(p.out.String(), "Persistent store") {
				t.Fatalf("a new store reports registrations:\n%s", p.out.String())
			}
			change(t, nsURI(ports[0]))
			code := p.signal(t, sig)
			if sig == syscall.SIGTERM && code != 0 {
				t.Fatalf("exit %d after SIGTERM", code)
			}
			p = startNsProc(t, pypeer.Env(), bin, append([]string{"ns", "-s", store}, restartArgs(ports[1])...)...)
			p.waitOut(t, "external URI =")
			if got := nsNormalize(p.out.String(), ports[1], "", false); len(got) > len(pyRestart) || !slices.Equal(got, pyRestart[:len(got)]) {
				t.Fatalf("restart printed\n%s\nPyro4's name server printed\n%s", strings.Join(got, "\n"), strings.Join(pyRestart, "\n"))
			}
			if !strings.Contains(p.out.String(), "Persistent store contains 3 existing registrations.\n") {
				t.Fatalf("restart printed\n%s", p.out.String())
			}
			m := nsPyList(t, nsURI(ports[1]), "")
			for name, w := range want {
				if got := m[name]; got.URI != w.URI || !slices.Equal(got.Metadata, w.Metadata) {
					t.Errorf("%s after restart: %+v, want %+v", name, got, w)
				}
			}
			if got := m["Pyro.NameServer"]; got.URI != ownURI || !slices.Equal(got.Metadata, []string{"class:Pyro4.naming.NameServer"}) {
				t.Errorf("the name server's own entry after the restart: %+v, want %s", got, ownURI)
			}
			if len(m) != len(want)+1 {
				t.Errorf("%d names after restart: %v", len(m), m)
			}
		})
	}
}

// testNsCrashDuringBurst kills the server with SIGKILL while Python threads
// are registering, changing the metadata of and removing names
// concurrently; after a restart on the same store, every name is in the
// state of its last acknowledged operation (or of the one in flight at the
// kill, which may or may not have been committed).
func testNsCrashDuringBurst(t *testing.T, bin string) {
	pypeer.Require(t)
	store := "bolt:" + filepath.Join(t.TempDir(), "ns.db")
	port := pypeer.FreePort(t)
	args := []string{"ns", "-n", "127.0.0.1", "-p", strconv.Itoa(port), "-s", store}
	srv := startNsProc(t, pypeer.Env(), bin, args...)
	srv.waitOut(t, "URI =")
	const threads, per = 8, 2000
	burst := startNsProc(t, pypeer.Env(), pypeer.Python, filepath.Join("testdata", "ns_burst.py"), nsURI(port), strconv.Itoa(threads), strconv.Itoa(per))
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
	last := map[string]string{} // name -> last acknowledged operation
	ops := map[string]int{}
	for _, l := range strings.Split(burst.out.String(), "\n") {
		if op, name, _ := strings.Cut(l, " "); op == "ok" || op == "meta" || op == "removed" {
			last[name] = op
			ops[op]++
		}
	}
	if ops["ok"] >= threads*per {
		t.Fatalf("the burst finished before the kill; nothing was tested")
	}
	if ops["meta"] == 0 || ops["removed"] == 0 {
		t.Fatalf("acknowledged %v: no metadata change or removal to test", ops)
	}
	srv = startNsProc(t, pypeer.Env(), bin, args...)
	srv.waitOut(t, "URI =")
	m := nsPyList(t, nsURI(port), "")
	for name, op := range last {
		var th, i int
		fmt.Sscanf(name, "burst.%d.%d", &th, &i)
		uri := fmt.Sprintf("PYRO:obj_%d_%d@127.0.0.1:%d", th, i, 1024+i)
		state := func(e nsEntry, ok bool) string {
			switch {
			case !ok:
				return "removed"
			case e.URI == uri && slices.Equal(e.Metadata, []string{fmt.Sprintf("i%d", i), fmt.Sprintf("t%d", th)}):
				return "ok"
			case e.URI == uri && slices.Equal(e.Metadata, []string{"changed", fmt.Sprintf("i%d", i)}):
				return "meta"
			}
			return fmt.Sprintf("%+v", e)
		}
		e, ok := m[name]
		got := state(e, ok)
		// The operation after the acknowledged registration may have
		// committed without its reply arriving.
		inFlight := op == "ok" && (i%3 == 1 && got == "meta" || i%3 == 2 && got == "removed")
		if got != op && !inFlight {
			t.Errorf("%s: last acknowledged %q, after the crash %s", name, op, got)
		}
	}
	if !strings.Contains(srv.out.String(), fmt.Sprintf("Persistent store contains %d existing registrations.", len(m))) {
		t.Fatalf("startup after the crash:\n%s\n(%d names listed)", srv.out.String(), len(m))
	}
	t.Logf("acknowledged before the kill: %v; %d names after the restart", ops, len(m)-1)
}

// TestNsRefusesForeignStore points -s bolt: at files that are not stores:
// the server says so on one line, exits 1 and leaves the file as it was.
func TestNsRefusesForeignStore(t *testing.T) {
	nsCleanEnv(t)
	sqlite := []byte("SQLite format 3\x00")
	for _, tc := range []struct {
		name string
		data []byte
		why  string
	}{
		{"sqlite file", append(slices.Clone(sqlite), make([]byte, 8192)...), "not a bbolt database (invalid database); the file was left untouched"},
		{"one-page sqlite file", append(slices.Clone(sqlite), make([]byte, 4096)...), "not a bbolt database (file size too small 4112); the file was left untouched"},
		{"empty file", nil, "the file is empty (remove it to start a new store)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "x.db")
			writeNsFile(t, path, string(tc.data))
			before, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := runNsToEnd(t, "-n", "127.0.0.1", "-p", "0", "-s", "bolt:"+path)
			want := "pyro4 ns: storage: store " + path + " is not a pyro4 name server store: " + tc.why + "\n"
			if code != 1 || stdout != "" || stderr != want {
				t.Fatalf("exit %d\nstdout %q\nstderr %q\nwant %q", code, stdout, stderr, want)
			}
			after, err := os.Stat(path)
			if got, _ := os.ReadFile(path); err != nil || !bytes.Equal(got, tc.data) || !after.ModTime().Equal(before.ModTime()) {
				t.Fatalf("the refused file changed (%v)", err)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Fatalf("directory holds %v, want only the refused file", entries)
			}
		})
	}
}
