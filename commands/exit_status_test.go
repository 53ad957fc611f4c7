package commands

import (
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pyro4/pyro4/internal/pypeer"
)

// Classes of outcome, one exit status each for every command.
const (
	statusOK      = 0 // success
	statusFailure = 1 // the command ran and failed
	statusUsage   = 2 // usage error or a malformed setting
)

// exitRow is one command line and the status and messages it must give.
type exitRow struct {
	class  string
	args   []string
	env    []string
	status int
	stderr string // regular expression stderr must match ("" for empty stderr)
}

// TestExitStatusEveryCommand runs the built binary for every class of
// outcome of every command: success 0, a failure 1, a usage error 2 and a
// malformed setting 2, with the command's name leading each message. A
// command without rows here fails the test, so a new one must say how it
// exits.
func TestExitStatusEveryCommand(t *testing.T) {
	bin := buildPyro4(t)
	dir := t.TempDir()
	nsCleanEnv(t)
	port := pypeer.FreePort(t)
	r := startNsInProcess(t, "-n", "127.0.0.1", "-p", strconv.Itoa(port), "-x")
	r.waitOut(t, "URI =")
	taken, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	closed := strconv.Itoa(pypeer.FreePort(t)) // nobody listens: connection refused
	badCfg := filepath.Join(dir, "bad.toml")
	writeNsFile(t, badCfg, "port = 1\nstorage = \"foo\"\n")
	emptyJSON := filepath.Join(dir, "empty.json")
	writeNsFile(t, emptyJSON, "[]\n")
	host := func(p string) []string { return []string{"-n", "127.0.0.1", "-p", p} }
	ours := host(strconv.Itoa(port))
	usage := func(cmd string) string { return `^Usage: pyro4 ` + cmd + `\b.*\n\npyro4 ` + cmd + `: error: ` }

	rows := map[string][]exitRow{
		"": {
			{"ok", []string{"--version"}, nil, statusOK, ""},
			{"usage", []string{"nope"}, nil, statusUsage, `^Usage: pyro4 <command> \[flags\]\n\npyro4: error: unexpected argument nope`},
			{"usage", []string{"--bogus"}, nil, statusUsage, `pyro4: error: unknown flag --bogus`},
		},
		"ns": {
			{"ok", []string{"ns", "--check", "-n", "127.0.0.1", "-p", "0"}, nil, statusOK, ""},
			{"failure", []string{"ns", "-n", "127.0.0.1", "-p", strconv.Itoa(taken.Addr().(*net.TCPAddr).Port)}, nil, statusFailure, `^pyro4 ns: listen on .*address already in use`},
			{"failure", []string{"ns", "--config", filepath.Join(dir, "missing.toml")}, nil, statusFailure, `^pyro4 ns: read config: .*no such file`},
			{"usage", []string{"ns", "--bogus"}, nil, statusUsage, usage("ns") + `unknown flag --bogus`},
			{"usage", []string{"ns", "extra"}, nil, statusUsage, usage("ns") + `unexpected argument extra`},
			{"malformed flag", []string{"ns", "-p", "70000"}, nil, statusUsage, usage("ns") + `option -p: port 70000 is out of range`},
			{"malformed flag", []string{"ns", "--bcport", "65536"}, nil, statusUsage, usage("ns") + `option --bcport: port 65536 is out of range`},
			{"malformed flag", []string{"ns", "--nathost", "h", "--natport=-1"}, nil, statusUsage, usage("ns") + `option --natport: port -1 is out of range`},
			{"malformed flag", []string{"ns", "-p", "abc"}, nil, statusUsage, usage("ns") + `.*abc`},
			{"malformed env", []string{"ns"}, []string{"PYRO_NS_PORT=abc"}, statusUsage, `^pyro4 ns: configuration: PYRO_NS_PORT="abc": not an integer`},
			{"malformed file", []string{"ns", "--config", badCfg}, nil, statusUsage, `^pyro4 ns: ` + regexp.QuoteMeta(badCfg) + `:2: .*invalid storage type 'foo'`},
		},
		"nsc": {
			{"ok", append([]string{"nsc"}, append(ours, "ping")...), nil, statusOK, ""},
			{"failure", append([]string{"nsc"}, append(host(closed), "ping")...), nil, statusFailure, `^pyro4 nsc: `},
			{"failure", append([]string{"nsc"}, append(ours, "lookup", "nope")...), nil, statusFailure, ""},
			{"usage", []string{"nsc", "bogus"}, nil, statusUsage, usage("nsc")},
			{"usage", append([]string{"nsc"}, append(ours, "lookup")...), nil, statusUsage, `^pyro4 nsc: lookup: requires one argument`},
			{"malformed flag", []string{"nsc", "-p", "70000", "ping"}, nil, statusUsage, usage("nsc") + `option -p: port 70000 is out of range`},
			{"malformed env", []string{"nsc", "ping"}, []string{"PYRO_NS_PORT=abc"}, statusUsage, `^pyro4 nsc: configuration: PYRO_NS_PORT="abc"`},
			{"malformed env", append([]string{"nsc", "-k", "a"}, append(ours, "ping")...), []string{"PYRO_HMAC_KEY=b"}, statusUsage, `PYRO_HMAC_KEY`},
		},
		"resolve": {
			{"ok", []string{"resolve", "PYRO:x@h:1"}, nil, statusOK, ""},
			{"failure", []string{"resolve", "PYRONAME:x@127.0.0.1:" + closed}, nil, statusFailure, `^pyro4 resolve: PYRONAME:x@127\.0\.0\.1:` + closed + `: `},
			{"failure", []string{"resolve", "notauri"}, nil, statusFailure, `^pyro4 resolve: `},
			{"usage", []string{"resolve"}, nil, statusUsage, usage("resolve") + `expected "<uri> ..."`},
			{"malformed flag", []string{"resolve", "--port=-1", "PYRONAME:x"}, nil, statusUsage, usage("resolve") + `option -p: port -1 is out of range`},
			{"malformed env", []string{"resolve", "PYRO:x@h:1"}, []string{"PYRO_SERIALIZER=bogus"}, statusUsage, `^pyro4 resolve: .*PYRO_SERIALIZER="bogus": unknown serializer`},
		},
		"locate": {
			{"ok", append([]string{"locate"}, ours...), nil, statusOK, ""},
			{"failure", append([]string{"locate"}, host(closed)...), nil, statusFailure, `^pyro4 locate: failed to locate the name server`},
			{"usage", []string{"locate", "extra"}, nil, statusUsage, usage("locate") + `unexpected argument extra`},
			{"malformed flag", []string{"locate", "-p", "70000"}, nil, statusUsage, usage("locate") + `option -p: port 70000`},
			{"malformed env", []string{"locate"}, []string{"PYRO_NS_PORT=abc"}, statusUsage, `^pyro4 locate: configuration: PYRO_NS_PORT="abc"`},
		},
		"install-links": {
			{"ok", []string{"install-links", filepath.Join(dir)}, nil, statusOK, ""},
			{"failure", []string{"install-links", filepath.Join(dir, "missing")}, nil, statusFailure, `^pyro4 install-links: directory ` + regexp.QuoteMeta(filepath.Join(dir, "missing")) + `: .*no such file`},
			{"failure", []string{"install-links", badCfg}, nil, statusFailure, `^pyro4 install-links: ` + regexp.QuoteMeta(badCfg) + ` is not a directory`},
			{"usage", []string{"install-links", "a", "b"}, nil, statusUsage, usage("install-links") + `unexpected argument b`},
			// It reads no setting: a malformed PYRO_* item is no concern of it.
			{"settings ignored", []string{"install-links", filepath.Join(dir)}, []string{"PYRO_NS_PORT=abc"}, statusOK, ""},
		},
		"install-completions": {
			{"ok", []string{"install-completions", "bash"}, nil, statusOK, ""},
			{"failure", []string{"install-completions"}, []string{"SHELL=/bin/tcsh"}, statusFailure, `^pyro4 install-completions: \$SHELL is /bin/tcsh`},
			{"usage", []string{"install-completions", "tcsh"}, nil, statusUsage, `^pyro4 install-completions: no completion for shell "tcsh"`},
			{"usage", []string{"install-completions", "--bogus"}, nil, statusUsage, usage("install-completions") + `unknown flag --bogus`},
			{"settings ignored", []string{"install-completions", "zsh"}, []string{"PYRO_NS_PORT=abc"}, statusOK, ""},
		},
		"migrate": {
			{"ok", []string{"migrate", "json:" + emptyJSON, "bolt:" + filepath.Join(dir, "migrated.db")}, nil, statusOK, ""},
			{"failure", []string{"migrate", "bolt:" + filepath.Join(dir, "nope.db"), "json:" + filepath.Join(dir, "out.json")}, nil, statusFailure, `^pyro4 migrate: read bolt:` + regexp.QuoteMeta(filepath.Join(dir, "nope.db"))},
			{"malformed argument", []string{"migrate", "foo:x", "json:" + filepath.Join(dir, "out.json")}, nil, statusUsage, `^pyro4 migrate: invalid store 'foo:x'`},
			{"usage", []string{"migrate"}, nil, statusUsage, usage("migrate")},
			{"usage", []string{"migrate", "--bogus", "a", "b"}, nil, statusUsage, usage("migrate") + `unknown flag --bogus`},
		},
	}

	for _, cmd := range commandNames(t) {
		if len(rows[cmd]) == 0 {
			t.Errorf("command %q has no exit-status rows in this test", cmd)
		}
	}
	present := commandNames(t)
	for cmd, list := range rows {
		if cmd != "" && !slices.Contains(present, cmd) {
			continue // not in this build (a command on its way)
		}
		for _, row := range list {
			name := strings.TrimSpace(cmd + " " + row.class + " " + strings.Join(row.args, " "))
			t.Run(name, func(t *testing.T) {
				c := exec.Command(bin, row.args...)
				c.Env = pypeer.Env(append([]string{"PYRO_BROADCAST_ADDRS=127.0.0.1"}, row.env...)...)
				c.Stdin = strings.NewReader("")
				var stderr bytes.Buffer
				c.Stdout, c.Stderr = io.Discard, &stderr
				err := c.Run()
				if _, ok := err.(*exec.ExitError); err != nil && !ok {
					t.Fatal(err)
				}
				got := c.ProcessState.ExitCode()
				if got != row.status {
					t.Errorf("exit %d, want %d\nstderr:\n%s", got, row.status, stderr.String())
				}
				if row.stderr == "" {
					if row.status == statusOK && stderr.Len() != 0 {
						t.Errorf("stderr %q, want none", stderr.String())
					}
					return
				}
				if !regexp.MustCompile(row.stderr).MatchString(stderr.String()) {
					t.Errorf("stderr:\n%s\nwant a match for %s", stderr.String(), row.stderr)
				}
			})
		}
	}
}

// TestHelpStatesExitStatus: every command's --help states its exit
// statuses, all three of them.
func TestHelpStatesExitStatus(t *testing.T) {
	for _, cmd := range commandNames(t) {
		res := runOurs(t, "", cmd, "--help")
		if res.code != 0 {
			t.Errorf("%s --help: exit %d\n%s", cmd, res.code, res.stderr)
			continue
		}
		_, rule, ok := strings.Cut(res.stdout, "Exit status: ")
		if !ok {
			t.Errorf("%s --help does not state the exit status:\n%s", cmd, res.stdout)
			continue
		}
		rule = strings.Join(strings.Fields(rule), " ")
		for _, n := range []string{"0", "1", "2"} {
			if !regexp.MustCompile(`(^|[^0-9])` + n + `\b`).MatchString(rule) {
				t.Errorf("%s --help: the exit status rule %q does not say what %s means", cmd, rule, n)
			}
		}
	}
}

// commandNames lists the subcommands of the CLI model.
func commandNames(t *testing.T) []string {
	t.Helper()
	var cli CLI
	p, err := NewParser(&cli, io.Discard, io.Discard, func(int) {})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, n := range p.Model.Children {
		if !n.Hidden {
			names = append(names, n.Name)
		}
	}
	return names
}

// TestRenamedCopiesRun: copies of the binary (not links: a release file
// renamed on download) named anything but pyro4-<subcommand> are plain
// pyro4; copies named after a subcommand run it and name themselves.
func TestRenamedCopiesRun(t *testing.T) {
	bin := buildPyro4(t)
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	copyAs := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string // prefix of the combined output
	}{
		{"pyro4-linux-amd64", []string{"--version"}, 0, "pyro4 "},
		{"pyro4-1.0", []string{"--version"}, 0, "pyro4 "},
		{"pyro4-vcs", []string{"--version"}, 0, "pyro4 "},
		{"pyro4-linux-amd64", []string{"locate", "extra"}, 2, "Usage: pyro4 locate [flags]\n\npyro4 locate: error: unexpected argument extra"},
		{"pyro4-vcs", []string{"vcs"}, 2, "Usage: pyro4 <command> [flags]\n\npyro4: error: unexpected argument vcs"},
		{"pyro4-ns", []string{"--help"}, 0, "Usage: pyro4-ns [flags]"},
		{"pyro4-ns", []string{"--bogus"}, 2, "Usage: pyro4-ns [flags]\n\npyro4-ns: error: unknown flag --bogus"},
		{"pyro4-nsc", []string{"--help"}, 0, "Usage: pyro4-nsc "},
		{"pyro4-nsc", []string{"bogus"}, 2, "Usage: pyro4-nsc "},
		{"pyro4-resolve", []string{"--help"}, 0, "Usage: pyro4-resolve "},
		{"pyro4-locate", []string{"-p", "70000"}, 2, "Usage: pyro4-locate [flags]\n\npyro4-locate: error: option -p: port 70000 is out of range"},
	} {
		cmd := exec.Command(copyAs(tc.name), tc.args...)
		cmd.Env = pypeer.Env()
		out, _ := cmd.CombinedOutput()
		if code := cmd.ProcessState.ExitCode(); code != tc.code || !strings.HasPrefix(string(out), tc.want) {
			t.Errorf("%s %v: exit %d, want %d and output starting %q; got\n%s", tc.name, tc.args, code, tc.code, tc.want, out)
		}
	}
}
