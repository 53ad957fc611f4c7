package nameserver

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
)

// TestDefaultSerializersMatchPyro4: a server with Options{} accepts what
// pyro4-ns accepts by default (serpent, json, marshal) and refuses msgpack
// and pickle clients with pyro4-ns's CONNECTFAIL text, as a real Pyro4
// client reports it.
func TestDefaultSerializersMatchPyro4(t *testing.T) {
	pypeer.Require(t)
	env := pypeer.Env()
	_, port := pypeer.StartPythonNS(t, env)
	probe := func(uri string) string {
		out, err := pypeer.Run(t, 60*time.Second, env, script(t, "serializer_probe.py"), uri)
		if err != nil {
			t.Fatalf("serializer_probe.py: %v\n%s", err, out)
		}
		return out
	}
	want := probe(fmt.Sprintf("PYRO:Pyro.NameServer@127.0.0.1:%d", port))
	// Options{} but for the bind address: Accepted nil is the default.
	got := probe(startServer(t, Options{Host: "127.0.0.1"}).URI().String())
	if got != want {
		t.Errorf("against Options{}:\n%s\nagainst pyro4-ns:\n%s", got, want)
	}
	for _, refused := range []string{
		`["msgpack", "err", "CommunicationError", "connection to NSLOC rejected: message used serializer that is not accepted: 6"]`,
		`["pickle", "err", "CommunicationError", "connection to NSLOC rejected: message used serializer that is not accepted: 4"]`,
		`["serpent", "ok", 1, "PYRO:Pyro.NameServer@NSLOC"]`,
	} {
		if !strings.Contains(want, refused+"\n") {
			t.Errorf("pyro4-ns did not answer %s:\n%s", refused, want)
		}
	}
}
