package nameserver

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pyro4/pyro4/internal/pypeer"
	"github.com/pyro4/pyro4/persist"
)

// deliberateSurrogates lists the checks of ns_surrogates.py where this
// server answers differently from pyro4-ns on purpose, with the line it
// must print instead, or its start when the line ends in Go's own words.
var deliberateSurrogates = func() map[string]string {
	m := map[string]string{
		// pyro4-ns fails to write its JSON reply (Pyro4 encodes the JSON
		// text as UTF-8); this server writes a surrogate as its \u escape,
		// which Python's json module reads back as the very str.
		"json-list":       `["json-list", "ok", ["dict", ["Pyro.NameServer", "NSURI"], ["json.\ufffd", "PYRO:offfd@localhost:1"], ["marshal.\ud800", "PYRO:od800@localhost:1"], ["marshal.\udfff", "PYRO:odfff@localhost:1"], ["marshal.\ufffd", "PYRO:offfd@localhost:1"], ["msgpack.\ufffd", "PYRO:offfd@localhost:1"], ["pickle.\ud800", "PYRO:od800@localhost:1"], ["pickle.\udfff", "PYRO:odfff@localhost:1"], ["pickle.\ufffd", "PYRO:offfd@localhost:1"], ["serpent.\ud800", "PYRO:od800@localhost:1"], ["serpent.\udfff", "PYRO:odfff@localhost:1"], ["serpent.\ufffd", "PYRO:offfd@localhost:1"]]]`,
		"json-list-regex": `["json-list-regex", "ok", ["dict", ["serpent.\ud800", "PYRO:od800@localhost:1"], ["serpent.\udfff", "PYRO:odfff@localhost:1"], ["serpent.\ufffd", "PYRO:offfd@localhost:1"]]]`,
	}
	// A reply that msgpack cannot carry fails as SerializeError naming the
	// character; pyro4-ns fails the same way but then also fails to write
	// that error, and sends a PyroError saying both.
	for _, label := range []string{"msgpack-list", "msgpack-list-regex"} {
		m[label] = `["` + label + `", "err", "SerializeError", "UnicodeEncodeError: 'utf-8' codec can't encode character '\\ud800' in position 8: surrogates not allowed"]`
	}
	// Regular expressions are Go's RE2 over the name's bytes, where a
	// surrogate is three invalid bytes, not one character: "." does not
	// match it whole, and a pattern holding one is refused.
	for _, ser := range []string{"serpent", "json", "marshal", "msgpack", "pickle"} {
		m[ser+"-list-regex-end"] = `["` + ser + `-list-regex-end", "ok", ["dict", ["serpent.\ufffd", "PYRO:offfd@localhost:1"]]]`
		if ser != "json" && ser != "msgpack" { // Pyro4's client cannot send the pattern
			m[ser+"-list-regex-literal"] = `["` + ser + `-list-regex-literal", "err", "NamingError", "invalid regex: error parsing regexp: invalid UTF-8: ` + "`"
		}
	}
	return m
}()

// TestSurrogateNamesMatchPyro4 registers names that differ only in a lone
// surrogate through every serializer and reads each back through every
// serializer, against the reference pyro4-ns and against this server with
// each store: the names stay distinct (a safe register of the second
// succeeds), and where a serializer cannot carry them (json and msgpack in
// Pyro4's client) the client gets the same clear error from both. The bolt
// file, reopened, holds each name as its exact bytes.
func TestSurrogateNamesMatchPyro4(t *testing.T) {
	pypeer.Require(t)
	requireCodecs(t, "serpent", "json", "marshal", "msgpack", "pickle")
	env := pypeer.Env("PYRO_SERIALIZERS_ACCEPTED=serpent,json,marshal,msgpack,pickle")
	_, port := pypeer.StartPythonNS(t, env)
	want, order := runChecks(t, env, "ns_surrogates.py", fmt.Sprintf("PYRO:Pyro.NameServer@127.0.0.1:%d", port))
	for _, kind := range []string{"memory", "bolt"} {
		t.Run(kind, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "names.db")
			var store persist.Store = persist.NewMemory()
			if kind == "bolt" {
				b, err := persist.OpenBolt(path, persist.BoltOptions{})
				if err != nil {
					t.Fatal(err)
				}
				store = b
			}
			s := startServer(t, Options{NoBroadcast: true, Accepted: allAccepted(t), Store: store})
			got, _ := runChecks(t, env, "ns_surrogates.py", s.URI().String())
			if len(got) != len(want) {
				t.Errorf("%d checks against this server, %d against pyro4-ns", len(got), len(want))
			}
			for _, label := range order {
				w := want[label]
				if d, ok := deliberateSurrogates[label]; ok {
					w = d
				}
				if got[label] != w && !(strings.HasSuffix(label, "-regex-literal") && strings.HasPrefix(got[label], w)) {
					t.Errorf("check %s:\n got %s\nwant %s\n(pyro4-ns: %s)", label, got[label], w, want[label])
				}
			}
			if kind == "bolt" {
				checkStoredNames(t, s, store, path)
			}
		})
	}
}

// checkStoredNames closes the server and its bolt store, reopens the file
// and requires the names the script leaves to be there as their exact
// bytes: the surrogate's three bytes, not U+FFFD.
func checkStoredNames(t *testing.T, s *Server, store persist.Store, path string) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := store.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := persist.OpenBolt(path, persist.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var names []string
	if err := b.Range("", func(e persist.Entry) bool {
		names = append(names, e.Name)
		return true
	}); err != nil {
		t.Fatal(err)
	}
	// Which names are stored is the point here, not their order (the
	// script's registration order; see TestListOrderMatchesPyro4).
	slices.Sort(names)
	wantNames := []string{"Pyro.NameServer", "json.\ufffd", "marshal.\xed\xa0\x80", "marshal.\ufffd", "msgpack.\ufffd",
		"pickle.\xed\xa0\x80", "pickle.\xed\xbf\xbf", "pickle.\ufffd", "serpent.\xed\xbf\xbf", "serpent.\ufffd"}
	if !slices.Equal(names, wantNames) {
		t.Errorf("stored names after reopening:\n got %q\nwant %q", names, wantNames)
	}
}
