package commands

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pyro4/pyro4/internal/pypeer"
	"github.com/pyro4/pyro4/nameserver"
)

// sameServerSteps query registrations with several metadata tags each,
// which both tools print in the order the server sends them.
var sameServerSteps = []nscStep{
	step("list"),
	step("list", "multi"),
	step("listmatching", "multi\\..*"),
	step("listmeta_all", "alpha", "beta"),
	step("listmeta_any", "zeta", "nothing"),
	step("lookup", "multi.one"),
	step("lookup", "multi.two"),
	step("-v", "lookup", "multi.three"),
}

// sameServerSetup gives three registrations eight, three and one tags,
// made with pyro4-nsc.
var sameServerSetup = []nscStep{
	step("register", "multi.one", "PYRO:one@h:1"),
	step("register", "multi.two", "PYRO:two@h:2"),
	step("register", "multi.three", "PYRO:three@h:3"),
	step("setmeta", "multi.one", "zeta", "mid", "alpha", "beta", "kappa", "omega", "delta", "gamma"),
	step("setmeta", "multi.two", "zeta", "alpha", "beta"),
	step("setmeta", "multi.three", "mid"),
}

// compareOnSameServer runs pyro4-nsc and ours against one name server and
// requires the same standard output, byte for byte. It returns pyro4-nsc's
// output of every step.
func compareOnSameServer(t *testing.T, loc []string, steps []nscStep) []string {
	t.Helper()
	var outs []string
	for i, st := range steps {
		args := append(append([]string{}, loc...), st.args...)
		want := runPyNsc(t, nil, st.stdin, args...)
		got := runOurs(t, st.stdin, append([]string{"nsc"}, args...)...)
		if got.stdout != want.stdout {
			t.Fatalf("step %d %v: stdout differs\nours:\n%s\npyro4-nsc:\n%s\nour stderr: %s", i, st.args, got.stdout, want.stdout, got.stderr)
		}
		if got.code != 0 || want.code != 0 {
			t.Fatalf("step %d %v: exit %d (pyro4-nsc %d); stderr %q / %q", i, st.args, got.code, want.code, got.stderr, want.stderr)
		}
		outs = append(outs, want.stdout)
	}
	return outs
}

// metadataLines returns the tags of every "metadata: [...]" line.
func metadataLines(out string) [][]string {
	var tags [][]string
	for _, line := range strings.Split(out, "\n") {
		_, list, ok := strings.Cut(line, "metadata: [")
		if !ok {
			continue
		}
		var l []string
		for _, s := range strings.Split(strings.TrimSuffix(list, "]"), ", ") {
			l = append(l, strings.Trim(s, "'"))
		}
		tags = append(tags, l)
	}
	return tags
}

func TestNscMetadataOrderOnSameServer(t *testing.T) {
	// A fixed hash seed gives the Python server one set order, and
	// this one is not sorted: the comparison tells printing as received
	// from printing sorted.
	_, pyPort := pypeer.StartPythonNS(t, pypeer.Env("PYTHONHASHSEED=0"))
	ourPort := startOurNS(t, nameserver.Options{})
	for _, srv := range []struct {
		name      string
		port      int
		hashOrder bool
	}{{"pyro4-ns", pyPort, true}, {"ours", ourPort, false}} {
		t.Run(srv.name, func(t *testing.T) {
			clientEnv(t)
			for _, st := range sameServerSetup {
				if r := runPyNsc(t, nil, "", append(hostFlags(srv.port), st.args...)...); r.code != 0 || strings.Contains(r.stdout, "Error") {
					t.Fatalf("setup %v: %+v", st.args, r)
				}
			}
			outs := compareOnSameServer(t, hostFlags(srv.port), sameServerSteps)
			unsorted := 0
			for _, tags := range metadataLines(strings.Join(outs, "")) {
				if !slices.IsSorted(tags) {
					unsorted++
				}
			}
			if srv.hashOrder && unsorted == 0 {
				t.Fatalf("pyro4-ns sent every tag list sorted; the test no longer tells the orders apart:\n%s", strings.Join(outs, ""))
			}
		})
	}
}

func TestNscUnixSocketOnOurNS(t *testing.T) {
	pypeer.Require(t)
	var socks []string
	for range 2 {
		sock := filepath.Join(t.TempDir(), "ns.sock")
		startOurNS(t, nameserver.Options{UnixSocket: sock})
		socks = append(socks, sock)
	}
	norm := func(s string) string {
		return strings.ReplaceAll(strings.ReplaceAll(s, socks[0], "SOCK"), socks[1], "SOCK")
	}
	steps := []nscStep{step("ping"), step("-v", "list"), step("register", "x", "PYRO:x@./u:/tmp/x"),
		step("setmeta", "x", "t"), step("lookup", "x"), step("listmeta_any", "t"), step("remove", "x"), step("lookup", "x")}
	compareNsc(t, []string{"-u", socks[0]}, []string{"-u", socks[1]}, nil, steps, norm)
}

func TestResolveUnixSocketOnOurNS(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "ns.sock")
	startOurNS(t, nameserver.Options{UnixSocket: sock})
	clientEnv(t)
	registerAll(t, []string{"-u", sock}, [3]string{"x", "PYRO:x@h:1", "t"})
	tests := []struct {
		args   []string
		stdout string
		code   int
	}{
		{[]string{"PYRONAME:x@./u:" + sock}, "PYRO:x@h:1\n", 0},
		{[]string{"-u", sock, "PYRONAME:x", "PYROMETA:t"}, "PYRO:x@h:1\nPYRO:x@h:1\n", 0},
		{[]string{"-u", sock, "PYRONAME:nope"}, "", 1},
	}
	for _, tt := range tests {
		r := runOurs(t, "", append([]string{"resolve"}, tt.args...)...)
		if r.stdout != tt.stdout || r.code != tt.code {
			t.Fatalf("%v: %+v, want stdout %q exit %d", tt.args, r, tt.stdout, tt.code)
		}
	}
	r := runOurs(t, "", "locate", "-u", sock)
	if r.stdout != "PYRO:Pyro.NameServer@./u:"+sock+"\n" || r.code != 0 {
		t.Fatalf("locate -u: %+v", r)
	}
}
