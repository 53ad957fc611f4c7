package commands

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pyro4/pyro4/internal/pypeer"
	"github.com/pyro4/pyro4/nameserver/config"
)

// TestNsCheck: --check prints every setting in effect with its source, for
// a file, an environment and a flag setting, and exits 0; a problem exits 1.
func TestNsCheck(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "ns.toml")
	writeNsFile(t, cfg, "host = \"127.0.0.1\"\nport = 9191\n")
	etcdCfg := filepath.Join(t.TempDir(), "etcd.toml")
	writeNsFile(t, etcdCfg, "[etcd]\nprefix = \"/ns-a/\"\nrequest_timeout = 2\n")
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		code int
		want []string // lines of standard output, as regular expressions
		err  string
	}{
		{"sources", []string{"PYRO_NATHOST=ext.example"}, []string{"--config", cfg, "-p", "9292"}, 0, []string{
			`^host +127\.0\.0\.1 +` + regexp.QuoteMeta(cfg) + `:1$`,
			`^port +9292 +flag -p$`,
			`^nat\.host +ext\.example +environment PYRO_NATHOST$`,
			`^storage +memory +default$`,
		}, ""},
		{"malformed item", []string{"PYRO_NS_PORT=abc"}, nil, 1, nil, `PYRO_NS_PORT="abc": not an integer`},
		{"TLS asked for", []string{"PYRO_SSL=1"}, nil, 1, nil, "TLS on the server needs a certificate"},
		{"bad storage", nil, []string{"-s", "foo"}, 1, nil, "invalid storage type 'foo'"},
		{"etcd", nil, []string{"--config", etcdCfg, "-s", "etcd:http://10.0.0.1:2379,http://10.0.0.2:2379"}, 0, []string{
			`^storage +etcd:http://10\.0\.0\.1:2379,http://10\.0\.0\.2:2379 +flag -s$`,
			`^etcd\.prefix +/ns-a/ +` + regexp.QuoteMeta(etcdCfg) + `:2$`,
			`^etcd\.request_timeout +2s +` + regexp.QuoteMeta(etcdCfg) + `:3$`,
			`^etcd\.dial_timeout +5s +default$`,
		}, ""},
		{"etcd empty endpoint", nil, []string{"--config", etcdCfg, "-s", "etcd:http://10.0.0.1:2379,"}, 1, nil, "empty etcd endpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			nsCleanEnv(t, tc.env...)
			code, stdout, stderr := runNsToEnd(t, append([]string{"--check"}, tc.args...)...)
			if code != tc.code || !strings.Contains(stderr, tc.err) {
				t.Fatalf("exit %d, want %d\nstdout %s\nstderr %s", code, tc.code, stdout, stderr)
			}
			for _, w := range tc.want {
				if !regexp.MustCompile(`(?m)` + w).MatchString(stdout) {
					t.Errorf("no line %s in\n%s", w, stdout)
				}
			}
		})
	}
}

// TestNamesInvoked: a renamed binary is plain pyro4; a pyro4-<sub> link
// names itself in usage lines and errors; ports and malformed settings
// exit 2 before anything runs.
func TestNamesInvoked(t *testing.T) {
	dir := t.TempDir()
	link := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.Symlink(buildPyro4(t), p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, name := range []string{"pyro4-linux-amd64", "pyro4-1.0", "pyro4-vcs"} {
		out, err := exec.Command(link(name), "--version").CombinedOutput()
		if err != nil || !strings.HasPrefix(string(out), "pyro4 ") {
			t.Errorf("%s --version: %v\n%s", name, err, out)
		}
	}
	ns, nsc := link("pyro4-ns"), link("pyro4-nsc")
	for _, tc := range []struct {
		bin  string
		args []string
		env  string
		code int
		want string
	}{
		{ns, []string{"--help"}, "", 0, "Usage: pyro4-ns [flags]"},
		{ns, []string{"-p", "abc"}, "", 2, "Usage: pyro4-ns [flags]\n\npyro4-ns: error: "},
		{ns, []string{"-p", "70000"}, "", 2, "pyro4-ns: error: option -p: port 70000 is out of range"},
		{ns, []string{"--port=-1"}, "", 2, "pyro4-ns: error: option -p: port -1 is out of range"},
		{ns, nil, "PYRO_NS_PORT=abc", 2, "pyro4-ns: configuration: PYRO_NS_PORT=\"abc\": not an integer"},
		{nsc, []string{"bogus"}, "", 2, "pyro4-nsc: error: "},
		{nsc, []string{"-p", "70000", "ping"}, "", 2, "pyro4-nsc: error: option -p: port 70000 is out of range"},
	} {
		cmd := exec.Command(tc.bin, tc.args...)
		cmd.Env = append(os.Environ(), tc.env)
		out, _ := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != tc.code || !strings.Contains(string(out), tc.want) {
			t.Errorf("%s %v: exit %d, want %d and %q in\n%s", filepath.Base(tc.bin), tc.args, code, tc.code, tc.want, out)
		}
	}
}

// TestNscInvalidRegexMessage: an invalid pattern is quoted as the user
// wrote it, not inside the anchoring group the server adds.
func TestNscInvalidRegexMessage(t *testing.T) {
	nsCleanEnv(t)
	port := pypeer.FreePort(t)
	r := startNsInProcess(t, "-n", "127.0.0.1", "-p", strconv.Itoa(port), "-x")
	r.waitOut(t, "URI =")
	got := runOurs(t, "", append([]string{"nsc"}, append(hostFlags(port), "listmatching", "(")...)...)
	if want := "Error: NamingError - invalid regex: error parsing regexp: missing closing ): `(`\n"; got.stdout != want || got.code != 1 {
		t.Fatalf("exit %d, stdout %q, want %q", got.code, got.stdout, want)
	}
}

// TestJSONHelpExamples: the JSON shown in the help is what --json prints,
// byte for byte (compact, in field order).
func TestJSONHelpExamples(t *testing.T) {
	examples := func(help string) []string {
		var out []string
		for _, l := range strings.Split(help, "\n") {
			if strings.HasPrefix(l, "    [") || strings.HasPrefix(l, "    {") {
				out = append(out, strings.TrimPrefix(l, "    "))
			}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		help string
		into func() any
	}{
		{"nsc", (&NscCmd{}).Help(), nil},
		{"resolve", (&ResolveCmd{}).Help(), func() any { return &[]resolveJSON{} }},
		{"locate", (&LocateCmd{}).Help(), func() any { return &locateJSON{} }},
	} {
		ex := examples(tc.help)
		if len(ex) == 0 {
			t.Errorf("%s: no JSON example in the help", tc.name)
		}
		for _, e := range ex {
			var v any
			switch {
			case tc.into != nil:
				v = tc.into()
			case strings.HasPrefix(e, "["):
				v = &[]nscEntryJSON{}
			default:
				v = &nscEntryJSON{}
			}
			if err := json.Unmarshal([]byte(e), v); err != nil {
				t.Fatalf("%s: example %s: %v", tc.name, e, err)
			}
			var b bytes.Buffer
			if err := writeJSON(&b, v); err != nil {
				t.Fatal(err)
			}
			if got := strings.TrimSuffix(b.String(), "\n"); got != e {
				t.Errorf("%s: help shows\n%s\n--json prints\n%s", tc.name, e, got)
			}
		}
	}
}

// TestNsCheckListsEverySetting: --check prints one line for each setting
// that concerns the server, in the resolver's order, and shows a key only
// as set, never its bytes.
func TestNsCheckListsEverySetting(t *testing.T) {
	nsCleanEnv(t, "PYRO_HMAC_KEY=topsecret", "PYRO_COMMTIMEOUT=2.5")
	cfg := filepath.Join(t.TempDir(), "ns.toml")
	writeNsFile(t, cfg, "port = 0\n\n[broadcast]\nenabled = false\n")
	code, stdout, stderr := runNsToEnd(t, "--check", "--config", cfg, "-n", "127.0.0.1")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	r, err := config.Resolve(config.ForServer)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, s := range r.Report(config.ForServer) {
		want = append(want, s.Key)
	}
	lines := nsLines(stdout)
	var got []string
	for _, l := range lines {
		got = append(got, strings.Fields(l)[0])
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("--check lists\n%v\nwant\n%v", got, want)
	}
	if strings.Contains(stdout, "topsecret") {
		t.Fatalf("--check printed the HMAC key:\n%s", stdout)
	}
	for _, w := range []string{
		`^hmac_key +\(set, 9 bytes\) +environment PYRO_HMAC_KEY$`,
		`^comm_timeout +2\.5s +environment PYRO_COMMTIMEOUT$`,
		`^broadcast\.enabled +false +` + regexp.QuoteMeta(cfg) + `:4$`,
		`^host +127\.0\.0\.1 +flag -n$`,
		`^autoclean +0s +default$`,
	} {
		if !regexp.MustCompile(`(?m)` + w).MatchString(stdout) {
			t.Errorf("no line %s in\n%s", w, stdout)
		}
	}
}
