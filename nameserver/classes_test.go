package nameserver

import (
	"fmt"
	"testing"

	"github.com/pyro4/pyro4/internal/pypeer"
)

// TestClassDictsMatchPyro4 sends calls carrying a Proxy, instances of a
// client's own classes and other class dicts (testdata/ns_classes.py) to
// pyro4-ns and to this server, with every serializer: the results, and the
// exception class and message of every refusal, must be the same. The class
// check itself is the wire package's (UnmarshalCall); this shows it reaches
// clients unchanged.
func TestClassDictsMatchPyro4(t *testing.T) {
	pypeer.Require(t)
	for _, ser := range interopSerializers {
		t.Run(ser, func(t *testing.T) {
			t.Parallel()
			got, want, order := runAgainstBoth(t, ser, "ns_classes.py")
			for _, label := range order {
				if got[label] != want[label] {
					t.Errorf("check %s:\n got %s\nwant %s", label, got[label], want[label])
				}
			}
		})
	}
}

// runAgainstBoth runs a check script with serializer ser against pyro4-ns
// and against this server; it returns this server's lines, pyro4-ns's, and
// the labels in pyro4-ns's order, and fails when the scripts ran a
// different number of checks.
func runAgainstBoth(t *testing.T, ser, name string) (got, want map[string]string, order []string) {
	t.Helper()
	requireCodecs(t, ser)
	env := pypeer.Env("PYRO_SERIALIZER="+ser, "PYRO_SERIALIZERS_ACCEPTED=serpent,json,marshal,msgpack")
	_, port := pypeer.StartPythonNS(t, env)
	want, order = runChecks(t, env, name, fmt.Sprintf("PYRO:Pyro.NameServer@127.0.0.1:%d", port))
	s := startServer(t, Options{NoBroadcast: true, Accepted: allAccepted(t)})
	got, _ = runChecks(t, env, name, s.URI().String())
	if len(got) != len(want) {
		t.Errorf("%d checks against this server, %d against pyro4-ns", len(got), len(want))
	}
	return got, want, order
}
