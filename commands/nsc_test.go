package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
	"github.com/pyro4/pyro4/nameserver"
)

// clientEnv gives a client command test its own PYRO_* environment: the
// caller's items are removed, kv ("NAME=value") are set, and whatever
// locating without a host does stays on loopback: broadcasts go to
// 127.0.0.1 on a free port, and NS_PORT is a free port.
func clientEnv(t *testing.T, kv ...string) {
	t.Helper()
	for _, e := range os.Environ() {
		if name, _, _ := strings.Cut(e, "="); strings.HasPrefix(name, "PYRO_") {
			t.Setenv(name, "") // restores the value after the test
			os.Unsetenv(name)
		}
	}
	t.Setenv("PYRO_BROADCAST_ADDRS", "127.0.0.1")
	t.Setenv("PYRO_NS_BCPORT", strconv.Itoa(pypeer.FreeUDPPort(t)))
	t.Setenv("PYRO_NS_PORT", strconv.Itoa(pypeer.FreePort(t)))
	for _, e := range kv {
		name, value, _ := strings.Cut(e, "=")
		t.Setenv(name, value)
	}
}

// cmdResult is what a command printed and its exit status.
type cmdResult struct {
	stdout, stderr string
	code           int
}

// runOurs runs the pyro4 command line in-process.
func runOurs(t *testing.T, stdin string, args ...string) cmdResult {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(append([]string{"pyro4"}, args...), strings.NewReader(stdin), &out, &errb)
	return cmdResult{out.String(), errb.String(), code}
}

// noDNSNsc runs Pyro4's nsc main with socket.gethostbyaddr stubbed out:
// locateNS without a host would otherwise send a reverse DNS query for
// 127.0.1.1. The reference pyro4-nsc script is this same entry point.
const noDNSNsc = `import socket, sys
def _no_dns(addr):
    raise socket.herror(1, "no DNS lookups in tests")
socket.gethostbyaddr = _no_dns
from Pyro4.nsc import main
sys.exit(main(sys.argv[1:]))
`

// runPyNsc runs the reference pyro4-nsc with the PYRO_* items in env.
func runPyNsc(t *testing.T, env []string, stdin string, args ...string) cmdResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var cmd *exec.Cmd
	if hasLocation(args) {
		cmd = exec.CommandContext(ctx, pypeer.Nsc(t), args...)
	} else {
		cmd = exec.CommandContext(ctx, pypeer.Python, append([]string{"-c", noDNSNsc}, args...)...)
	}
	// searching must not broadcast beyond loopback
	cmd.Env = pypeer.Env(append([]string{"PYRO_BROADCAST_ADDRS=127.0.0.1"}, env...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("pyro4-nsc %v: %v", args, err)
	}
	return cmdResult{out.String(), errb.String(), code}
}

func hasLocation(args []string) bool {
	for _, a := range args {
		if a == "-n" || a == "-u" || strings.HasPrefix(a, "--host") || strings.HasPrefix(a, "--unixsocket") {
			return true
		}
	}
	return false
}

// nscStep is one pyro4-nsc invocation of a comparison scenario.
type nscStep struct {
	stdin string
	args  []string
}

func step(args ...string) nscStep { return nscStep{args: args} }

// nscScenario exercises every command and its failures. Metadata is one tag
// per registration where it is printed: the two servers of a comparison
// are two Python processes, whose sets iterate in different hash orders
// (TestNscMetadataOrderOnSameServer compares several tags on one server).
var nscScenario = []nscStep{
	step("ping"),
	step("list"),
	step("lookup", "Pyro.NameServer"),
	step("lookup", "nope"),
	step("register", "a.one", "PYRO:a@h:1"),
	step("register", "a.one", "PYRO:x@h:2"),
	step("register", "bad", "not-a-uri"),
	step("register", "bad", "PYRO:x"),
	step("register", "b.two", "PYRO:b@./u:/tmp/some.sock"),
	step("register", "c.ü", "PYRO:u@[::1]:5"),
	step("register", "d", "PYRONAME:elsewhere@h:9"),
	step("setmeta", "a.one", "red"),
	step("setmeta", "b.two", "red"),
	step("setmeta", "c.ü", "blue"),
	step("setmeta", "nope", "x"),
	step("list"),
	step("list", "a"),
	step("list", ""),
	step("list", "zz"),
	step("listmatching", "[ab]\\."),
	step("listmatching", ".*two"),
	step("listmatching", "two"),
	step("listmatching", "["),
	step("listmeta_all", "red"),
	step("listmeta_all", "red", "blue"),
	step("listmeta_any", "blue", "green"),
	step("listmeta_any", "green"),
	step("lookup", "a.one"),
	step("lookup", "c.ü"),
	step("setmeta", "a.one"),
	step("lookup", "a.one"),
	step("-v", "lookup", "nope"),
	step("-v", "list", "b"),
	step("remove", "nope"),
	step("remove", "Pyro.NameServer"),
	step("remove", "a.one"),
	{stdin: "n\n", args: []string{"removematching", ".*"}},
	{stdin: "", args: []string{"removematching", ".*"}},
	{stdin: "Y\n", args: []string{"removematching", "[bc]"}},
	{stdin: "y", args: []string{"removematching", "x"}},
	{stdin: "y\n", args: []string{"-v", "removematching", "d"}},
	step("list"),
}

// compareNsc runs each step with our nsc against one name server and with
// pyro4-nsc against another in the same state, and requires identical
// standard output. pyro4-nsc exits 0 even when a command fails; ours exits
// 1 exactly when an "Error: " line was printed.
func compareNsc(t *testing.T, ours, theirs []string, env []string, steps []nscStep, normalize func(string) string) {
	t.Helper()
	clientEnv(t, env...)
	for i, st := range steps {
		got := runOurs(t, st.stdin, append(append([]string{"nsc"}, ours...), st.args...)...)
		want := runPyNsc(t, env, st.stdin, append(append([]string{}, theirs...), st.args...)...)
		g, w := normalize(got.stdout), normalize(want.stdout)
		if g != w {
			t.Fatalf("step %d %v: stdout differs\nours:\n%s\npyro4-nsc:\n%s\nour stderr: %s", i, st.args, g, w, got.stderr)
		}
		if want.code != 0 {
			t.Fatalf("step %d %v: pyro4-nsc exited %d: %s", i, st.args, want.code, want.stderr)
		}
		wantCode := 0
		if strings.Contains(got.stdout, "Error: ") {
			wantCode = 1
		}
		if got.code != wantCode {
			t.Fatalf("step %d %v: exit status %d, want %d; stderr: %s", i, st.args, got.code, wantCode, got.stderr)
		}
	}
}

// portNormalizer replaces the name servers' ports, which differ between the
// two servers of a comparison.
func portNormalizer(ports ...int) func(string) string {
	return func(s string) string {
		for _, p := range ports {
			s = strings.ReplaceAll(s, ":"+strconv.Itoa(p), ":PORT")
		}
		return s
	}
}

func hostFlags(port int) []string { return []string{"-n", "127.0.0.1", "-p", strconv.Itoa(port)} }

func TestNscMatchesPyro4NscOnPythonNS(t *testing.T) {
	_, portA := pypeer.StartPythonNS(t, pypeer.Env())
	_, portB := pypeer.StartPythonNS(t, pypeer.Env())
	compareNsc(t, hostFlags(portA), hostFlags(portB), nil, nscScenario, portNormalizer(portA, portB))
}

// startOurNS runs this project's name server on 127.0.0.1 for the test.
func startOurNS(t *testing.T, opts nameserver.Options) int {
	t.Helper()
	opts.Host = "127.0.0.1"
	s, err := nameserver.New(opts)
	if err != nil {
		t.Fatalf("nameserver.New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		s.Close()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	return s.URI().Port
}

func TestNscMatchesPyro4NscOnOurNS(t *testing.T) {
	pypeer.Require(t)
	portA := startOurNS(t, nameserver.Options{})
	portB := startOurNS(t, nameserver.Options{})
	compareNsc(t, hostFlags(portA), hostFlags(portB), nil, nscScenario, portNormalizer(portA, portB))
}

func TestNscHMACKey(t *testing.T) {
	const key = "PYRO_HMAC_KEY=sesame"
	_, portA := pypeer.StartPythonNS(t, pypeer.Env(key))
	_, portB := pypeer.StartPythonNS(t, pypeer.Env(key))
	norm := portNormalizer(portA, portB)
	steps := []nscStep{step("ping"), step("register", "k", "PYRO:k@h:1"), step("list")}
	t.Run("PYRO_HMAC_KEY", func(t *testing.T) {
		compareNsc(t, hostFlags(portA), hostFlags(portB), []string{key}, steps, norm)
	})
	t.Run("-k", func(t *testing.T) {
		k := []string{"-k", "sesame"}
		compareNsc(t, append(hostFlags(portA), k...), append(hostFlags(portB), k...), nil, []nscStep{step("lookup", "k")}, norm)
		if r := runOurs(t, "", append(append([]string{"nsc"}, hostFlags(portA)...), "-k", "sesame", "ping")...); !strings.Contains(r.stderr, "warning: using -k") {
			t.Fatalf("no deprecation warning for -k: %q", r.stderr)
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		steps := []nscStep{step("ping"), step("-v", "list")}
		compareNsc(t, hostFlags(portA), hostFlags(portB), []string{"PYRO_HMAC_KEY=wrong"}, steps, norm)
		r := runOurs(t, "", append(append([]string{"nsc"}, hostFlags(portA)...), "ping")...)
		if !strings.Contains(r.stderr, "hmac") {
			t.Fatalf("stderr does not say why: %q", r.stderr)
		}
	})
	t.Run("no key", func(t *testing.T) {
		compareNsc(t, hostFlags(portA), hostFlags(portB), nil, []nscStep{step("ping")}, norm)
	})
	t.Run("-k and PYRO_HMAC_KEY", func(t *testing.T) {
		clientEnv(t, key)
		r := runOurs(t, "", append(append([]string{"nsc"}, hostFlags(portA)...), "-k", "sesame", "ping")...)
		py := runPyNsc(t, []string{key}, "", append(hostFlags(portB), "-k", "sesame", "ping")...)
		if r.stdout != "" || py.stdout != "" || r.code != 2 || py.code != 1 ||
			!strings.Contains(r.stderr, "don't use -k and PYRO_HMAC_KEY at the same time") {
			t.Fatalf("ours %+v\npyro4-nsc %+v", r, py)
		}
	})
}

func TestNscUnixSocket(t *testing.T) {
	pypeer.Require(t)
	var socks []string
	for range 2 {
		sock := filepath.Join(t.TempDir(), "ns.sock")
		p := pypeer.Start(t, pypeer.Env(), pypeer.NS(t), "-u", sock)
		p.WaitLine(t, "URI =", 20*time.Second)
		socks = append(socks, sock)
	}
	norm := func(s string) string {
		return strings.ReplaceAll(strings.ReplaceAll(s, socks[0], "SOCK"), socks[1], "SOCK")
	}
	steps := []nscStep{step("ping"), step("-v", "list"), step("register", "x", "PYRO:x@./u:/tmp/x"), step("lookup", "x")}
	compareNsc(t, []string{"-u", socks[0]}, []string{"-u", socks[1]}, nil, steps, norm)
}

// TestNscSearch locates the name server without -n: through PYRO_NS_HOST
// and PYRO_NS_PORT, and with -p as the port tried on the local host.
func TestNscSearch(t *testing.T) {
	_, port := pypeer.StartPythonNS(t, pypeer.Env())
	steps := []nscStep{step("-v", "ping"), step("list", "zz")}
	env := []string{"PYRO_NS_HOST=127.0.0.1", "PYRO_NS_PORT=" + strconv.Itoa(port)}
	compareNsc(t, nil, nil, env, steps, portNormalizer())
	p := []string{"-p", strconv.Itoa(port)}
	compareNsc(t, p, p, []string{"PYRO_NS_HOST=127.0.0.1"}, steps, portNormalizer())
}

func TestNscNoNameServer(t *testing.T) {
	port := pypeer.FreePort(t)
	compareNsc(t, hostFlags(port), hostFlags(port), nil, []nscStep{step("ping"), step("-v", "list")}, portNormalizer())
	r := runOurs(t, "", append(append([]string{"nsc"}, hostFlags(port)...), "ping")...)
	if want := fmt.Sprintf("pyro4 nsc: failed to locate the name server (host 127.0.0.1:%d: connection refused)\n", port); r.stderr != want {
		t.Fatalf("stderr %q, want %q", r.stderr, want)
	}
}

func TestNscUsageErrors(t *testing.T) {
	clientEnv(t)
	tests := []struct {
		args []string
		msg  string
	}{
		{[]string{"nsc"}, `expected "<command>"`},
		{[]string{"nsc", "bogus"}, `<command> must be one of`},
		{[]string{"nsc", "lookup"}, "pyro4 nsc: lookup: requires one argument: name"},
		{[]string{"nsc", "lookup", "a", "b"}, "pyro4 nsc: lookup: requires one argument: name"},
		{[]string{"nsc", "register", "a"}, "pyro4 nsc: register: requires two arguments: name uri"},
		{[]string{"nsc", "remove"}, "pyro4 nsc: remove: requires one argument: name"},
		{[]string{"nsc", "listmatching"}, "pyro4 nsc: listmatching: requires one argument: pattern"},
		{[]string{"nsc", "removematching"}, "pyro4 nsc: removematching: requires one argument: pattern"},
		{[]string{"nsc", "setmeta"}, "pyro4 nsc: setmeta: requires at least 2 arguments"},
		{[]string{"nsc", "listmeta_all"}, "pyro4 nsc: listmeta_all: requires at least one metadata tag argument"},
		{[]string{"nsc", "listmeta_any"}, "pyro4 nsc: listmeta_any: requires at least one metadata tag argument"},
		{[]string{"nsc", "--json", "ping"}, "--json applies to list"},
		{[]string{"nsc", "-p", "x", "ping"}, "--port"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runOurs(t, "", tt.args...)
			if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, tt.msg) {
				t.Fatalf("got %+v, want exit 2 and %q on stderr", r, tt.msg)
			}
		})
	}
}

func TestNscJSON(t *testing.T) {
	_, port := pypeer.StartPythonNS(t, pypeer.Env())
	clientEnv(t)
	nsc := func(args ...string) cmdResult {
		return runOurs(t, "", append(append([]string{"nsc"}, hostFlags(port)...), args...)...)
	}
	if r := nsc("register", "x", "PYRO:x@h:1"); r.code != 0 {
		t.Fatal(r)
	}
	if r := nsc("setmeta", "x", "b", "a"); r.code != 0 {
		t.Fatal(r)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--json", "lookup", "x"}, `{"name":"x","uri":"PYRO:x@h:1","metadata":["a","b"]}`},
		{[]string{"--json", "list", "x"}, `[{"name":"x","uri":"PYRO:x@h:1","metadata":["a","b"]}]`},
		{[]string{"--json", "listmatching", "zz"}, `[]`},
		{[]string{"--json", "listmeta_any", "a"}, `[{"name":"x","uri":"PYRO:x@h:1","metadata":["a","b"]}]`},
		{[]string{"--json", "-v", "list"}, fmt.Sprintf(`[{"name":"Pyro.NameServer","uri":"PYRO:Pyro.NameServer@127.0.0.1:%d","metadata":["class:Pyro4.naming.NameServer"]},{"name":"x","uri":"PYRO:x@h:1","metadata":["a","b"]}]`, port)},
	}
	for _, tt := range tests {
		r := nsc(tt.args...)
		if r.code != 0 || r.stdout != tt.want+"\n" {
			t.Fatalf("%v: %+v\nwant %s", tt.args, r, tt.want)
		}
	}
	r := nsc("--json", "lookup", "nope")
	if r.code != 1 || r.stdout != "" || r.stderr != "Error: NamingError - unknown name: nope\n" {
		t.Fatalf("json lookup failure: %+v", r)
	}
	r = nsc("-y", "removematching", "x")
	if r.code != 0 || r.stdout != "1 items removed.\n" {
		t.Fatalf("removematching -y: %+v", r)
	}
}

// TestBinaryMulticall builds the binary and runs it as pyro4-nsc through a
// symlink, next to the reference pyro4-nsc.
func TestBinaryMulticall(t *testing.T) {
	bin := buildPyro4(t)
	_, port := pypeer.StartPythonNS(t, pypeer.Env())
	link := filepath.Join(t.TempDir(), "pyro4-nsc")
	if err := os.Symlink(bin, link); err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) cmdResult {
		cmd := exec.Command(name, args...)
		cmd.Env = pypeer.Env("PYRO_BROADCAST_ADDRS=127.0.0.1")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("%s: %v", name, err)
		}
		return cmdResult{out.String(), errb.String(), cmd.ProcessState.ExitCode()}
	}
	if r := run(link, append(hostFlags(port), "register", "x", "PYRO:x@h:1")...); r.stdout != "Registered x\n" || r.code != 0 {
		t.Fatalf("register through the link: %+v", r)
	}
	for _, args := range [][]string{{"list"}, {"lookup", "x"}, {"lookup", "nope"}} {
		got := run(link, append(hostFlags(port), args...)...)
		want := run(pypeer.Nsc(t), append(hostFlags(port), args...)...)
		if got.stdout != want.stdout {
			t.Fatalf("%v: pyro4-nsc link printed\n%s\nthe reference pyro4-nsc printed\n%s", args, got.stdout, want.stdout)
		}
		wantCode := 0
		if strings.Contains(got.stdout, "Error: ") {
			wantCode = 1
		}
		if got.code != wantCode || want.code != 0 {
			t.Fatalf("%v: exit %d (pyro4-nsc %d), want %d", args, got.code, want.code, wantCode)
		}
	}
}

// TestNscSerializers compares the output with each PYRO_SERIALIZER the name
// server accepts, including Pyro4's own failure to send lookup's metadata
// tuple in marshal.
func TestNscSerializers(t *testing.T) {
	accept := "PYRO_SERIALIZERS_ACCEPTED=serpent,json,marshal,msgpack"
	_, portA := pypeer.StartPythonNS(t, pypeer.Env(accept))
	_, portB := pypeer.StartPythonNS(t, pypeer.Env(accept))
	norm := portNormalizer(portA, portB)
	for i, ser := range []string{"json", "marshal", "msgpack"} {
		t.Run(ser, func(t *testing.T) {
			name := fmt.Sprintf("%s.%d", ser, i)
			steps := []nscStep{step("register", name, "PYRO:x@h:1"), step("setmeta", name, "tag"),
				step("lookup", name), step("list", ser), step("listmeta_any", "tag"), step("remove", name)}
			compareNsc(t, hostFlags(portA), hostFlags(portB), []string{"PYRO_SERIALIZER=" + ser}, steps, norm)
		})
	}
}
