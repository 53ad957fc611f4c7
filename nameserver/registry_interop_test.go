package nameserver

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/pyro4/pyro4/internal/pypeer"
	"github.com/pyro4/pyro4/persist"
)

// TestListOrderMatchesPyro4 replays one history of registrations,
// re-registrations, metadata changes and removals against the reference
// pyro4-ns and against this server, with every serializer, and requires
// the same key order from every list() variant; then restarts this server
// on a bolt file and requires the same order again.
func TestListOrderMatchesPyro4(t *testing.T) {
	pypeer.Require(t)
	for _, ser := range interopSerializers {
		t.Run(ser, func(t *testing.T) {
			t.Parallel()
			requireCodecs(t, ser)
			env := pypeer.Env("PYRO_SERIALIZER="+ser, "PYRO_SERIALIZERS_ACCEPTED=serpent,json,marshal,msgpack")
			_, port := pypeer.StartPythonNS(t, env)
			want, order := runChecks(t, env, "ns_order.py", fmt.Sprintf("PYRO:Pyro.NameServer@127.0.0.1:%d", port), "write")
			if len(order) == 0 {
				t.Fatal("no listings from pyro4-ns")
			}
			compare := func(what string, got map[string]string) {
				t.Helper()
				for _, label := range order {
					if got[label] != want[label] {
						t.Errorf("%s: %s:\n got %s\nwant %s", what, label, got[label], want[label])
					}
				}
			}

			s := startServer(t, Options{NoBroadcast: true, Accepted: allAccepted(t)})
			got, _ := runChecks(t, env, "ns_order.py", s.URI().String(), "write")
			compare("memory", got)

			path := filepath.Join(t.TempDir(), "ns.db")
			store, err := persist.OpenBolt(path, persist.BoltOptions{})
			if err != nil {
				t.Fatal(err)
			}
			b := startServer(t, Options{NoBroadcast: true, Accepted: allAccepted(t), Store: store})
			got, _ = runChecks(t, env, "ns_order.py", b.URI().String(), "write")
			compare("bolt", got)
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			if err := store.Close(); err != nil {
				t.Fatal(err)
			}
			store, err = persist.OpenBolt(path, persist.BoltOptions{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { store.Close() })
			b = startServer(t, Options{NoBroadcast: true, Accepted: allAccepted(t), Store: store})
			got, _ = runChecks(t, env, "ns_order.py", b.URI().String(), "list")
			compare("bolt after restart", got)
		})
	}
}
