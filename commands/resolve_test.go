package commands

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
	"github.com/pyro4/pyro4/nameserver"
)

// registerAll registers name=uri pairs through our nsc, with one metadata tag.
func registerAll(t *testing.T, loc []string, regs ...[3]string) {
	t.Helper()
	for _, r := range regs {
		base := append([]string{"nsc"}, loc...)
		if res := runOurs(t, "", append(base, "register", r[0], r[1])...); res.code != 0 {
			t.Fatalf("register %s: %+v", r[0], res)
		}
		if res := runOurs(t, "", append(base, "setmeta", r[0], r[2])...); res.code != 0 {
			t.Fatalf("setmeta %s: %+v", r[0], res)
		}
	}
}

func TestResolve(t *testing.T) {
	_, port := pypeer.StartPythonNS(t, pypeer.Env())
	clientEnv(t)
	loc := hostFlags(port)
	registerAll(t, loc, [3]string{"thing", "PYRO:thing@host.example:4000", "shape"},
		[3]string{"other", "PYRO:other@[::1]:4001", "colour"})
	at := "@127.0.0.1:" + strconv.Itoa(port)

	tests := []struct {
		name   string
		env    []string
		args   []string
		stdout string
		stderr []string // substrings, one line each
		code   int
	}{
		{name: "name at location", args: []string{"PYRONAME:thing" + at},
			stdout: "PYRO:thing@host.example:4000\n"},
		{name: "several", args: []string{"PYRONAME:thing" + at, "PYRO:x@h:1", "PYROMETA:colour" + at},
			stdout: "PYRO:thing@host.example:4000\nPYRO:x@h:1\nPYRO:other@[::1]:4001\n"},
		{name: "flags give the name server", args: append(hostFlags(port), "PYRONAME:other", "pyroname:thing"),
			stdout: "PYRO:other@[::1]:4001\nPYRO:thing@host.example:4000\n"},
		{name: "default port from PYRO_NS_PORT", env: []string{"PYRO_NS_PORT=" + strconv.Itoa(port)},
			args: []string{"PYRONAME:thing@127.0.0.1"}, stdout: "PYRO:thing@host.example:4000\n"},
		{name: "search", env: []string{"PYRO_NS_HOST=127.0.0.1", "PYRO_NS_PORT=" + strconv.Itoa(port)},
			args: []string{"PYRONAME:thing"}, stdout: "PYRO:thing@host.example:4000\n"},
		{name: "unknown name", args: []string{"PYRONAME:nope" + at, "PYRONAME:thing" + at},
			stdout: "PYRO:thing@host.example:4000\n",
			stderr: []string{"pyro4 resolve: PYRONAME:nope" + at + ": NamingError: unknown name: nope"}, code: 1},
		{name: "no metadata match", args: []string{"PYROMETA:shape,colour" + at},
			stderr: []string{"NamingError: no registrations available with desired metadata properties {'colour', 'shape'}"}, code: 1},
		{name: "invalid", args: []string{"nonsense", "PYRO:x", "PYRONAME:x@h:port"},
			stderr: []string{"pyro4 resolve: nonsense: PyroError: invalid uri", "pyro4 resolve: PYRO:x: PyroError: invalid uri",
				"pyro4 resolve: PYRONAME:x@h:port: PyroError: invalid port in uri, port=port"}, code: 1},
		{name: "no name server", args: []string{"PYRONAME:x@127.0.0.1:" + strconv.Itoa(pypeer.FreePort(t)), "PYRO:ok@h:1"},
			stdout: "PYRO:ok@h:1\n", stderr: []string{"failed to locate the name server (host 127.0.0.1:"}, code: 1},
		{name: "wrong key", args: []string{"-k", "nope", "PYRONAME:thing" + at},
			stderr: []string{"warning: using -k", "failed to locate the name server (host 127.0.0.1:" + strconv.Itoa(port) + ": "}, code: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clientEnv(t, tt.env...)
			r := runOurs(t, "", append([]string{"resolve"}, tt.args...)...)
			if r.stdout != tt.stdout || r.code != tt.code {
				t.Fatalf("stdout %q exit %d, want %q exit %d; stderr:\n%s", r.stdout, r.code, tt.stdout, tt.code, r.stderr)
			}
			lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			if r.stderr == "" {
				lines = nil
			}
			if len(lines) != len(tt.stderr) {
				t.Fatalf("stderr has %d lines, want %d:\n%s", len(lines), len(tt.stderr), r.stderr)
			}
			for i, want := range tt.stderr {
				if !strings.Contains(lines[i], want) {
					t.Fatalf("stderr line %d %q does not contain %q", i, lines[i], want)
				}
			}
		})
	}
}

func TestResolveJSON(t *testing.T) {
	_, port := pypeer.StartPythonNS(t, pypeer.Env())
	clientEnv(t)
	registerAll(t, hostFlags(port), [3]string{"thing", "PYRO:thing@h:1", "t"})
	r := runOurs(t, "", append([]string{"resolve", "--json"}, append(hostFlags(port), "PYRONAME:thing", "PYRONAME:nope", "bad")...)...)
	var got []map[string]string
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 1 {
		t.Fatalf("%+v: %v", r, err)
	}
	want := []map[string]string{
		{"input": "PYRONAME:thing", "uri": "PYRO:thing@h:1"},
		{"input": "PYRONAME:nope", "error": "NamingError: unknown name: nope"},
		{"input": "bad", "error": "PyroError: invalid uri"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v\nwant %v", got, want)
	}
}

func TestResolveUnixSocketLocation(t *testing.T) {
	pypeer.Require(t)
	sock := filepath.Join(t.TempDir(), "ns.sock")
	p := pypeer.Start(t, pypeer.Env(), pypeer.NS(t), "-u", sock)
	p.WaitLine(t, "URI =", 20*time.Second)
	clientEnv(t)
	registerAll(t, []string{"-u", sock}, [3]string{"x", "PYRO:x@h:1", "t"})
	for _, args := range [][]string{{"PYRONAME:x@./u:" + sock}, {"-u", sock, "PYRONAME:x"}} {
		r := runOurs(t, "", append([]string{"resolve"}, args...)...)
		if r.stdout != "PYRO:x@h:1\n" || r.code != 0 {
			t.Fatalf("%v: %+v", args, r)
		}
	}
}

func TestResolveHMACKey(t *testing.T) {
	_, port := pypeer.StartPythonNS(t, pypeer.Env("PYRO_HMAC_KEY=sesame"))
	clientEnv(t, "PYRO_HMAC_KEY=sesame")
	r := runOurs(t, "", "resolve", "PYRONAME:Pyro.NameServer@127.0.0.1:"+strconv.Itoa(port))
	if want := fmt.Sprintf("PYRO:Pyro.NameServer@127.0.0.1:%d\n", port); r.stdout != want || r.code != 0 {
		t.Fatalf("%+v", r)
	}
	clientEnv(t)
	r = runOurs(t, "", "resolve", "PYRONAME:Pyro.NameServer@127.0.0.1:"+strconv.Itoa(port))
	if r.code != 1 || !strings.Contains(r.stderr, "hmac key config not symmetric") {
		t.Fatalf("%+v", r)
	}
}

// TestResolveAndLocateOnOurNS runs resolve and locate against this
// project's name server, with an HMAC key.
func TestResolveAndLocateOnOurNS(t *testing.T) {
	port := startOurNS(t, nameserver.Options{HMACKey: []byte("sesame")})
	clientEnv(t, "PYRO_HMAC_KEY=sesame")
	loc := hostFlags(port)
	registerAll(t, loc, [3]string{"thing", "PYRO:thing@h:1", "shape"})
	r := runOurs(t, "", append([]string{"resolve"}, append(loc, "PYRONAME:thing", "PYROMETA:shape", "PYRONAME:nope")...)...)
	if r.stdout != "PYRO:thing@h:1\nPYRO:thing@h:1\n" || r.code != 1 || !strings.Contains(r.stderr, "NamingError: unknown name: nope") {
		t.Fatalf("resolve: %+v", r)
	}
	r = runOurs(t, "", append([]string{"locate"}, loc...)...)
	if want := fmt.Sprintf("PYRO:Pyro.NameServer@127.0.0.1:%d\n", port); r.stdout != want || r.code != 0 {
		t.Fatalf("locate: %+v", r)
	}
	clientEnv(t, "PYRO_HMAC_KEY=wrong")
	r = runOurs(t, "", append([]string{"locate"}, loc...)...)
	if r.code != 1 || !strings.Contains(r.stderr, "hmac") {
		t.Fatalf("locate with the wrong key: %+v", r)
	}
}
