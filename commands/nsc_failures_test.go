package commands

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
)

// TestNscConnectionFailsMidCommand runs nsc against a Pyro4 name server
// whose list() drops the connection and whose lookup() never answers:
// the handshake succeeds, the call fails. Both tools print the same
// "Error: ..." line; ours exits 1.
func TestNscConnectionFailsMidCommand(t *testing.T) {
	pypeer.Require(t)
	port := pypeer.FreePort(t)
	p := pypeer.Start(t, pypeer.Env(), pypeer.Python, "testdata/nsc_faulty_ns.py", strconv.Itoa(port))
	p.WaitLine(t, "URI =", 20*time.Second)
	loc := hostFlags(port)
	env := []string{"PYRO_COMMTIMEOUT=0.5"}
	steps := []nscStep{step("ping"), step("list"), step("-v", "list", "a"), step("lookup", "x"), step("-v", "lookup", "x")}
	compareNsc(t, loc, loc, env, steps, portNormalizer())

	// and the failures really happened, each in its words
	clientEnv(t, env...)
	tests := []struct {
		args   []string
		stdout string
	}{
		{[]string{"list"}, "Error: ConnectionClosedError - receiving: not enough data\n"},
		{[]string{"lookup", "x"}, "Error: TimeoutError - receiving: timeout\n"},
	}
	for _, tt := range tests {
		r := runOurs(t, "", append(append([]string{"nsc"}, loc...), tt.args...)...)
		if r.stdout != tt.stdout || r.code != 1 || r.stderr != "" {
			t.Fatalf("nsc %v: %+v, want stdout %q and exit 1", tt.args, r, tt.stdout)
		}
	}
}

// clientCommands are the client commands with arguments that would run
// them to the point of locating a name server.
var clientCommands = [][]string{{"nsc", "ping"}, {"resolve", "PYRONAME:x"}, {"locate"}}

func TestClientBadEnvironment(t *testing.T) {
	tests := []struct {
		env    string
		stderr string // after "pyro4 <command>: "
	}{
		{"PYRO_SERIALIZER=bogus", `PYRO_SERIALIZER="bogus": unknown serializer`},
		{"PYRO_SERIALIZER=dill", `PYRO_SERIALIZER="dill": unknown serializer`},
		{"PYRO_NS_PORT=abc", `configuration: PYRO_NS_PORT="abc": not an integer`},
		{"PYRO_NS_BCPORT=9091x", `configuration: PYRO_NS_BCPORT="9091x": not an integer`},
		{"PYRO_COMMTIMEOUT=-1", `configuration: PYRO_COMMTIMEOUT="-1": not a number of seconds`},
	}
	for _, cmd := range clientCommands {
		for _, tt := range tests {
			t.Run(cmd[0]+" "+tt.env, func(t *testing.T) {
				clientEnv(t, tt.env)
				r := runOurs(t, "", cmd...)
				if want := "pyro4 " + cmd[0] + ": " + tt.stderr + "\n"; r.code != 2 || r.stdout != "" || r.stderr != want {
					t.Fatalf("%+v, want exit 2 and stderr %q", r, want)
				}
			})
		}
	}
}

func TestClientUsageErrors(t *testing.T) {
	clientEnv(t)
	tests := []struct {
		args   []string
		stderr string
	}{
		{[]string{"resolve"}, `pyro4 resolve: error: expected "<uri> ..."`},
		{[]string{"resolve", "--bogus", "PYRONAME:x"}, "pyro4 resolve: error: unknown flag --bogus"},
		{[]string{"resolve", "-p", "x", "PYRONAME:x"}, `pyro4 resolve: error: --port: expected a valid 64 bit int but got "x"`},
		{[]string{"resolve", "-p", "65536", "PYRONAME:x"}, `pyro4 resolve: error: option -p: port 65536 is out of range (0-65535)`},
		{[]string{"locate", "extra"}, "pyro4 locate: error: unexpected argument extra"},
		{[]string{"locate", "-p"}, "pyro4 locate: error: --port: expected int value"},
		{[]string{"locate", "-p", "x"}, `pyro4 locate: error: --port: expected a valid 64 bit int but got "x"`},
		{[]string{"locate", "--port=-1"}, `pyro4 locate: error: option -p: port -1 is out of range (0-65535)`},
		{[]string{"locate", "-v", "--bogus"}, "pyro4 locate: error: unknown flag --bogus"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			// As optparse: a usage line, a blank line, the error.
			r := runOurs(t, "", tt.args...)
			lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			if r.code != 2 || r.stdout != "" || len(lines) != 3 || !strings.HasPrefix(lines[0], "Usage: pyro4 "+tt.args[0]+" ") ||
				lines[1] != "" || !strings.HasPrefix(lines[2], tt.stderr) {
				t.Fatalf("%+v, want exit 2, a usage line and a line starting %q", r, tt.stderr)
			}
		})
	}
}

// TestClientKeyTwice: -k together with PYRO_HMAC_KEY is refused before
// anything is located, as pyro4-nsc refuses it (TestNscHMACKey).
func TestClientKeyTwice(t *testing.T) {
	for _, cmd := range clientCommands[1:] {
		t.Run(cmd[0], func(t *testing.T) {
			clientEnv(t, "PYRO_HMAC_KEY=sesame")
			r := runOurs(t, "", append([]string{cmd[0], "-k", "sesame"}, cmd[1:]...)...)
			want := "pyro4 " + cmd[0] + ": warning: using -k to supply the HMAC key on the command line is a security problem; set PYRO_HMAC_KEY instead\n" +
				"pyro4 " + cmd[0] + ": error: don't use -k and PYRO_HMAC_KEY at the same time\n"
			if r.code != 2 || r.stdout != "" || r.stderr != want {
				t.Fatalf("%+v, want exit 2 and stderr %q", r, want)
			}
		})
	}
}

// TestNscArgumentErrorsVsPyro4 shows the documented difference: ours
// refuses before locating, with exit 2; pyro4-nsc locates first and exits
// 1, or prints its locate error and exits 0 when there is no name server.
func TestNscArgumentErrorsVsPyro4(t *testing.T) {
	_, port := pypeer.StartPythonNS(t, pypeer.Env())
	clientEnv(t)
	tests := []struct {
		name     string
		port     int
		pyStdout string
		pyCode   int
	}{
		{"name server running", port, "", 1},
		{"no name server", pypeer.FreePort(t), "Error: Failed to locate the nameserver\n", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append(hostFlags(tt.port), "lookup")
			py := runPyNsc(t, nil, "", args...)
			if py.stdout != tt.pyStdout || py.code != tt.pyCode || tt.pyCode == 1 && py.stderr != "requires one argument: name\n" {
				t.Fatalf("pyro4-nsc: %+v, want stdout %q exit %d", py, tt.pyStdout, tt.pyCode)
			}
			r := runOurs(t, "", append([]string{"nsc"}, args...)...)
			if r.stdout != "" || r.code != 2 || r.stderr != "pyro4 nsc: lookup: requires one argument: name\n" {
				t.Fatalf("ours: %+v", r)
			}
		})
	}
}
