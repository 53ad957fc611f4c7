package nameserver

import (
	"fmt"
	"testing"

	"github.com/pyro4/pyro4/internal/pypeer"
)

// interopSerializers are the serializers the Python client runs use.
var interopSerializers = []string{"serpent", "json", "marshal", "msgpack"}

// deliberate lists the checks of ns_semantics.py where this server answers
// differently from pyro4-ns on purpose, with the line it must print instead.
var deliberate = map[string]string{
	// Metadata is a set of str here (it is persisted as such); Pyro4 stores
	// whatever hashable values it is given.
	"register-meta-nonstr":         `["register-meta-nonstr", "err", "TypeError", "metadata items must be str, not int"]`,
	"register-meta-nonstr-cleanup": `["register-meta-nonstr-cleanup", "ok", 0]`,
	// Regular expressions are Go's RE2: the error text differs, and
	// look-arounds and back-references are refused.
	"list-regex-invalid":   "[\"list-regex-invalid\", \"err\", \"NamingError\", \"invalid regex: error parsing regexp: missing closing ): `(`\"]",
	"list-regex-lookahead": "[\"list-regex-lookahead\", \"err\", \"NamingError\", \"invalid regex: error parsing regexp: invalid or unsupported Perl syntax: `(?=`\"]",
}

// deliberateMarshal: Pyro4's marshal serializer cannot send a URI inside a
// tuple, so pyro4-ns fails lookup(name, return_metadata=True) with
// "unmarshallable object"; this server sends the URI class dict.
var deliberateMarshal = map[string]string{
	"lookup-self-meta":    `["lookup-self-meta", "ok", [["URI", "PYRO:Pyro.NameServer@NSLOC"], ["class:Pyro4.naming.NameServer"]]]`,
	"lookup-meta":         `["lookup-meta", "ok", [["URI", "PYRO:other@127.0.0.1:2"], ["m1", "m2"]]]`,
	"lookup-meta-pos":     `["lookup-meta-pos", "ok", [["URI", "PYRO:x@h:3"], ["m2", "m3"]]]`,
	"lookup-unicode":      `["lookup-unicode", "ok", [["URI", "PYRO:ob@hést:5"], ["métа"]]]`,
	"setmeta-after":       `["setmeta-after", "ok", [["URI", "PYRO:obj@localhost:1"], ["x1", "x2"]]]`,
	"setmeta-clear-after": `["setmeta-clear-after", "ok", [["URI", "PYRO:obj@localhost:1"], []]]`,
	"setmeta-self-after":  `["setmeta-self-after", "ok", [["URI", "PYRO:Pyro.NameServer@NSLOC"], ["extra"]]]`,
}

// TestSemanticsMatchPyro4 runs the same Python client script against the
// reference pyro4-ns and against this server, once per serializer, and
// requires the same result for every check but the deliberate differences.
func TestSemanticsMatchPyro4(t *testing.T) {
	pypeer.Require(t)
	for _, ser := range interopSerializers {
		t.Run(ser, func(t *testing.T) {
			t.Parallel()
			requireCodecs(t, ser)
			env := pypeer.Env("PYRO_SERIALIZER="+ser, "PYRO_SERIALIZERS_ACCEPTED=serpent,json,marshal,msgpack")
			_, port := pypeer.StartPythonNS(t, env)
			want, order := runChecks(t, env, "ns_semantics.py", fmt.Sprintf("PYRO:Pyro.NameServer@127.0.0.1:%d", port))
			s := startServer(t, Options{NoBroadcast: true, Accepted: allAccepted(t)})
			got, _ := runChecks(t, env, "ns_semantics.py", s.URI().String())
			if len(got) != len(want) {
				t.Errorf("%d checks against this server, %d against pyro4-ns", len(got), len(want))
			}
			for _, label := range order {
				w := want[label]
				if d, ok := deliberate[label]; ok {
					w = d
				}
				if d, ok := deliberateMarshal[label]; ok && ser == "marshal" {
					w = d
				}
				if got[label] != w {
					t.Errorf("check %s:\n got %s\nwant %s\n(pyro4-ns: %s)", label, got[label], w, want[label])
				}
			}
		})
	}
}
