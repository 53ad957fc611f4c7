package commands

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
	"github.com/pyro4/pyro4/nameserver/config"
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

// nsSettings parses `pyro4 ns args...` as the command line does and layers
// the settings with env as the only PYRO_* items, without starting a server.
func nsSettings(t *testing.T, env []string, args ...string) config.Settings {
	t.Helper()
	nsCleanEnv(t, env...)
	var cli CLI
	parser, err := NewParser(&cli, io.Discard, io.Discard, func(int) { t.Fatalf("pyro4 ns %v exited while parsing", args) })
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parser.Parse(append([]string{"ns"}, args...)); err != nil {
		t.Fatal(err)
	}
	s, _, err := cli.Ns.load(&IO{Stderr: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestNsSettingsPrecedence checks flag > PYRO_* > file > default for the
// settings TestNsPrecedence and TestNsHMACKeyPrecedence leave out: storage
// (file or -s), serializers accepted and the comm timeout (file or
// environment), and the broadcast responder (file or -x). These rows read
// the layered settings; TestNsSettingsPrecedenceEffects shows the first
// three in a running server. The responder is only read: it starts only
// for a non-loopback bind, which tests make only in a network namespace.
func TestNsSettingsPrecedence(t *testing.T) {
	dir := t.TempDir()
	on, off := filepath.Join(dir, "on.toml"), filepath.Join(dir, "off.toml")
	body := "storage = \"bolt:file.db\"\nserializers_accepted = [\"serpent\", \"json\"]\ncomm_timeout = 7\n"
	writeNsFile(t, on, body+"[broadcast]\nenabled = true\n")
	writeNsFile(t, off, body+"[broadcast]\nenabled = false\n")
	env := []string{"PYRO_SERIALIZERS_ACCEPTED=serpent,marshal", "PYRO_COMMTIMEOUT=2.5"}
	fileDB, flagDB := "bolt:"+filepath.Join(dir, "file.db"), "bolt:"+filepath.Join(dir, "flag.db")
	for _, tc := range []struct {
		name        string
		env, args   []string
		storage     string
		serializers []string
		timeout     time.Duration
		broadcast   bool
	}{
		{"defaults", nil, nil, "memory", []string{"serpent", "marshal", "json"}, 0, true},
		{"file", nil, []string{"--config", off}, fileDB, []string{"serpent", "json"}, 7 * time.Second, false},
		{"file enables broadcast", nil, []string{"--config", on}, fileDB, []string{"serpent", "json"}, 7 * time.Second, true},
		{"environment over file", env, []string{"--config", on}, fileDB, []string{"serpent", "marshal"}, 2500 * time.Millisecond, true},
		{"flags over file", nil, []string{"--config", on, "-s", flagDB, "-x"}, flagDB, []string{"serpent", "json"}, 7 * time.Second, false},
		{"flags over environment over file", env, []string{"--config", on, "-s", flagDB, "-x"}, flagDB, []string{"serpent", "marshal"}, 2500 * time.Millisecond, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := nsSettings(t, tc.env, tc.args...)
			if s.Storage != tc.storage || !slices.Equal(s.SerializersAccepted, tc.serializers) || s.CommTimeout != tc.timeout || s.Broadcast != tc.broadcast {
				t.Fatalf("storage %q, serializers %v, comm timeout %v, broadcast %v; want %q, %v, %v, %v",
					s.Storage, s.SerializersAccepted, s.CommTimeout, s.Broadcast, tc.storage, tc.serializers, tc.timeout, tc.broadcast)
			}
		})
	}
}

// TestNsSettingsPrecedenceEffects shows the winner of each precedence pair
// in what a running server does: which file is its store, which serializers
// a Python client may use, whether an idle connection is closed.
func TestNsSettingsPrecedenceEffects(t *testing.T) {
	// start runs a server on a config file with body and flags, env being
	// the only PYRO_* items, and returns its URI.
	start := func(t *testing.T, body string, env []string, flags ...string) (string, string) {
		t.Helper()
		nsCleanEnv(t, env...)
		dir := t.TempDir()
		port := pypeer.FreePort(t)
		cfg := filepath.Join(dir, "ns.toml")
		writeNsFile(t, cfg, fmt.Sprintf("host = \"127.0.0.1\"\nport = %d\n%s", port, body))
		r := startNsInProcess(t, append([]string{"--config", cfg}, flags...)...)
		r.waitOut(t, "URI =")
		return nsURI(port), dir
	}
	t.Run("storage", func(t *testing.T) {
		flagDB := filepath.Join(t.TempDir(), "flag.db")
		for _, tc := range []struct {
			name  string
			flags []string
		}{{"file", nil}, {"-s over file", []string{"-s", "bolt:" + flagDB}}} {
			t.Run(tc.name, func(t *testing.T) {
				_, dir := start(t, "storage = \"bolt:file.db\"\n", nil, tc.flags...)
				_, fileErr := os.Stat(filepath.Join(dir, "file.db"))
				_, flagErr := os.Stat(flagDB)
				if (fileErr == nil) != (tc.flags == nil) || (flagErr == nil) != (tc.flags != nil) {
					t.Fatalf("file.db: %v; flag.db: %v", fileErr, flagErr)
				}
			})
		}
	})
	t.Run("serializers", func(t *testing.T) {
		pypeer.Require(t)
		for _, tc := range []struct {
			name        string
			env         []string
			ok, refused string
		}{
			{"file", nil, "json", "marshal"},
			{"environment over file", []string{"PYRO_SERIALIZERS_ACCEPTED=serpent,marshal"}, "marshal", "json"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				uri, _ := start(t, "serializers_accepted = [\"serpent\", \"json\"]\n", tc.env)
				count := "import sys, Pyro4\nwith Pyro4.Proxy(sys.argv[1]) as ns:\n    print(ns.count())\n"
				if out, err := pypeer.Run(t, nsWait, pypeer.Env("PYRO_SERIALIZER="+tc.ok), count, uri); err != nil || strings.TrimSpace(out) != "1" {
					t.Errorf("a %s client: %v\n%s", tc.ok, err, out)
				}
				out, err := pypeer.Run(t, nsWait, pypeer.Env("PYRO_SERIALIZER="+tc.refused), count, uri)
				if err == nil || !strings.Contains(out, "message used serializer that is not accepted") {
					t.Errorf("a %s client: %v\n%s", tc.refused, err, out)
				}
			})
		}
	})
	// A connection that sends nothing is closed after the timeout in
	// effect; the other value (an hour, or none) would leave it open past
	// the bounded wait.
	t.Run("comm timeout", func(t *testing.T) {
		for _, tc := range []struct {
			name, body string
			env        []string
		}{
			{"file over default", "comm_timeout = 0.2\n", nil},
			{"environment over file", "comm_timeout = 3600\n", []string{"PYRO_COMMTIMEOUT=0.2"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				uri, _ := start(t, tc.body, tc.env)
				c, err := net.Dial("tcp", strings.TrimPrefix(uri, "PYRO:Pyro.NameServer@"))
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				c.SetReadDeadline(time.Now().Add(nsWait))
				if n, err := c.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
					t.Fatalf("idle connection: read %d, %v; want the server to close it", n, err)
				}
			})
		}
	})
}

// TestNsReloadNAT edits the [nat] table of a running server's file where
// the server cannot follow it: a --nathost or PYRO_NATHOST overrides it (the
// reload says so, and the name server's entry keeps the overriding
// location), or the server listens on a Unix socket from -u (the reload
// says why, and nothing of the file is applied).
func TestNsReloadNAT(t *testing.T) {
	pypeer.Require(t)
	for _, tc := range []struct {
		name       string
		env, flags []string
		by         string
	}{
		{"overridden by --nathost", nil, []string{"--nathost", "over.example"}, "flag --nathost"},
		{"overridden by PYRO_NATHOST", []string{"PYRO_NATHOST=over.example"}, nil, "environment PYRO_NATHOST"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nsCleanEnv(t, tc.env...)
			port := pypeer.FreePort(t)
			cfg := filepath.Join(t.TempDir(), "ns.toml")
			head := fmt.Sprintf("host = \"127.0.0.1\"\nport = %d\n", port)
			writeNsFile(t, cfg, head+"[nat]\nhost = \"file.example\"\n")
			r := startNsInProcess(t, append([]string{"--config", cfg}, tc.flags...)...)
			r.waitOut(t, "external URI =")
			writeNsFile(t, cfg, head+"[nat]\nhost = \"edited.example\"\n"+nsStaticReg("svc.a", "PYRO:a@h:1"))
			r.waitErr(t, `msg="config setting changed in the file, but another source stays in effect" config=`+cfg+` key=nat.host overridden_by="`+tc.by+`"`)
			if !strings.Contains(r.err.String(), `msg="config reloaded" config=`+cfg+` added=1 changed=0 removed=0 added_names=svc.a`+"\n") {
				t.Fatalf("reload log:\n%s", r.err.String())
			}
			m := nsPyList(t, nsURI(port), "")
			if got, want := m["Pyro.NameServer"].URI, fmt.Sprintf("PYRO:Pyro.NameServer@over.example:%d", port); got != want || m["svc.a"].URI != "PYRO:a@h:1" {
				t.Fatalf("own entry %s (want %s), svc.a %+v", got, want, m["svc.a"])
			}
		})
	}
	t.Run("unix socket", func(t *testing.T) {
		nsCleanEnv(t)
		dir := t.TempDir()
		sock, cfg := filepath.Join(dir, "ns.sock"), filepath.Join(dir, "ns.toml")
		writeNsFile(t, cfg, nsStaticReg("svc.a", "PYRO:a@h:1"))
		r := startNsInProcess(t, "--config", cfg, "-u", sock)
		r.waitOut(t, "URI =")
		writeNsFile(t, cfg, "[nat]\nhost = \"ext.example\"\n"+nsStaticReg("svc.b", "PYRO:b@h:1"))
		r.waitErr(t, `msg="config not applied, keeping the running configuration" config=`+cfg+` err="nat: NAT ext.example: the name server listens on a Unix socket, which has no NAT"`)
		uri := "PYRO:Pyro.NameServer@./u:" + sock
		m := nsPyList(t, uri, "")
		if got := nsNames(m); got != "svc.a=PYRO:a@h:1" || m["Pyro.NameServer"].URI != uri {
			t.Fatalf("after the refused reload: %s, own entry %s", got, m["Pyro.NameServer"].URI)
		}
		if strings.Contains(r.err.String(), "reloaded") {
			t.Fatalf("a refused file logged as reloaded:\n%s", r.err.String())
		}
	})
}
