package nameserver

import (
	"errors"
	"strings"
	"testing"

	"github.com/pyro4/pyro4/persist"
	"github.com/pyro4/pyro4/wire"
)

// kwargs builds a keyword-argument dict from alternating keys and values.
func kwargs(kv ...wire.Value) *wire.Dict {
	d := wire.NewDict(len(kv) / 2)
	for i := 0; i < len(kv); i += 2 {
		d.Append(kv[i], kv[i+1])
	}
	return d
}

// dict builds a str-keyed result dict in the given order.
func dict(kv ...wire.Value) *wire.Dict { return kwargs(kv...) }

func uriValue(t *testing.T, s string) wire.Value {
	t.Helper()
	u, err := wire.ParseURI(s)
	if err != nil {
		t.Fatal(err)
	}
	return u.Value()
}

// TestNameServerMethods calls the NameServer object's methods directly, as
// the daemon does once a request is decoded: no socket, no codec. The steps
// share one registry, in order. Results and errors are those of Pyro4
// 4.82's NameServer called in-process with the same arguments
// (testdata/ns_methods.py prints them), except where a step names a
// deliberate difference; the static entry s.fixed is one (Pyro4 has none),
// so the counts and the full listing have one more. Names and tags are
// registered in sorted order, so that the steps hold whichever order the
// registry keeps.
func TestNameServerMethods(t *testing.T) {
	reg := NewRegistry(persist.NewMemory())
	if _, _, _, err := reg.SetStatic([]persist.Entry{{Name: "s.fixed", URI: "PYRO:fixed@localhost:7"}}); err != nil {
		t.Fatal(err)
	}
	obj := newNameServer(reg, nil).object()
	one, two, bone := "PYRO:one@localhost:1", "PYRO:two@localhost:2", "PYRO:bone@localhost:3"
	steps := []struct {
		label  string
		method string
		args   []wire.Value
		kwargs *wire.Dict
		want   wire.Value // the result when wantErr is ""
		// wantErr is "Class: text"; a text ending in "..." is a prefix.
		wantErr string
	}{
		{"ping", "ping", nil, nil, nil, ""},
		{"count with a static entry", "count", nil, nil, int64(1), ""},
		{"register str", "register", []wire.Value{"a.one", one}, kwargs("metadata", wire.List{"x", "y"}), nil, ""},
		{"register URI object", "register", []wire.Value{"a.two", uriValue(t, two)}, nil, nil, ""},
		{"register set metadata", "register", []wire.Value{"b.one", bone, false, wire.Set{"y"}}, nil, nil, ""},
		{"register safe taken", "register", []wire.Value{"a.one", "PYRO:x@localhost:9"}, kwargs("safe", true), nil,
			"Pyro4.errors.NamingError: name already registered: a.one"},
		{"register int name", "register", []wire.Value{int64(5), "PYRO:x@localhost:9"}, nil, nil, "builtins.TypeError: name must be a str"},
		{"register int uri", "register", []wire.Value{"c", int64(5)}, nil, nil, "builtins.TypeError: only URIs or strings can be registered"},
		{"register bad uri", "register", []wire.Value{"c", "nouri"}, nil, nil, "Pyro4.errors.PyroError: invalid uri"},
		{"register int metadata", "register", []wire.Value{"c", "PYRO:c@localhost:4"}, kwargs("metadata", int64(5)), nil,
			"builtins.TypeError: 'int' object is not iterable"},
		{"register str metadata", "register", []wire.Value{"c", "PYRO:c@localhost:4"}, kwargs("metadata", "ab"), nil,
			"builtins.TypeError: metadata should not be a str, but another iterable (set, list, etc)"},
		{"register non-str tag (deliberate)", "register", []wire.Value{"c", "PYRO:c@localhost:4"}, kwargs("metadata", wire.List{"x", int64(1)}), nil,
			"builtins.TypeError: metadata items must be str, not int"},
		{"register over static (deliberate)", "register", []wire.Value{"s.fixed", "PYRO:c@localhost:4"}, nil, nil,
			"Pyro4.errors.NamingError: name is statically configured: s.fixed (edit the config file)"},
		{"count", "count", nil, nil, int64(4), ""},
		{"lookup", "lookup", []wire.Value{"a.one"}, nil, uriValue(t, one), ""},
		{"lookup with metadata", "lookup", []wire.Value{"a.one", true}, nil,
			wire.Tuple{uriValue(t, one), wire.List{"x", "y"}}, ""},
		{"lookup unknown", "lookup", []wire.Value{"nope"}, nil, nil, "Pyro4.errors.NamingError: unknown name: nope"},
		{"lookup int", "lookup", []wire.Value{int64(5)}, nil, nil, `builtins.TypeError: can only concatenate str (not "int") to str`},
		{"lookup list", "lookup", []wire.Value{wire.List{"x"}}, nil, nil, "builtins.TypeError: unhashable type: 'list'"},
		{"list", "list", nil, nil, dict("a.one", one, "a.two", two, "b.one", bone, "s.fixed", "PYRO:fixed@localhost:7"), ""},
		{"list prefix", "list", []wire.Value{"a."}, nil, dict("a.one", one, "a.two", two), ""},
		{"list regex", "list", nil, kwargs("regex", ".*one"), dict("a.one", one, "b.one", bone), ""},
		{"list metadata_all", "list", nil, kwargs("metadata_all", wire.Set{"x", "y"}), dict("a.one", one), ""},
		{"list metadata_any", "list", nil, kwargs("metadata_any", wire.Set{"y"}), dict("a.one", one, "b.one", bone), ""},
		{"list metadata_any with metadata", "list", nil, kwargs("metadata_any", wire.Set{"x"}, "return_metadata", true),
			dict("a.one", wire.Tuple{one, wire.List{"x", "y"}}), ""},
		{"list two filters", "list", []wire.Value{"a", "b"}, nil, nil, "builtins.ValueError: you can only filter on one thing at a time"},
		{"list bad regex", "list", nil, kwargs("regex", "("), nil, "Pyro4.errors.NamingError: invalid regex: ..."},
		{"set_metadata", "set_metadata", []wire.Value{"b.one", wire.List{"z"}}, nil, nil, ""},
		{"lookup after set_metadata", "lookup", []wire.Value{"b.one", true}, nil, wire.Tuple{uriValue(t, bone), wire.List{"z"}}, ""},
		{"set_metadata unknown", "set_metadata", []wire.Value{"nope", wire.List{"z"}}, nil, nil, "Pyro4.errors.NamingError: unknown name: nope"},
		{"set_metadata int", "set_metadata", []wire.Value{"b.one", int64(5)}, nil, nil, "builtins.TypeError: 'int' object is not iterable"},
		{"remove unknown", "remove", []wire.Value{"nope"}, nil, int64(0), ""},
		{"remove static (deliberate)", "remove", []wire.Value{"s.fixed"}, nil, nil,
			"Pyro4.errors.NamingError: name is statically configured: s.fixed (edit the config file)"},
		{"remove", "remove", []wire.Value{"b.one"}, nil, int64(1), ""},
		{"remove prefix", "remove", nil, kwargs("prefix", "a."), int64(2), ""},
		{"count after removals", "count", nil, nil, int64(1), ""},
		{"register for regex", "register", []wire.Value{"r.x", "PYRO:r@localhost:5"}, nil, nil, ""},
		{"remove regex", "remove", nil, kwargs("regex", `r\..*`), int64(1), ""},
		{"remove nothing", "remove", nil, nil, int64(0), ""},
		{"unbound call", "lookup", nil, nil, nil, "builtins.TypeError: NameServer.lookup() missing 1 required positional argument: 'name'"},
	}
	for _, st := range steps {
		m, err := obj.methodNamed(st.method)
		if err != nil {
			t.Fatalf("%s: %v", st.label, err)
		}
		got, err := obj.call("", m, st.args, st.kwargs)
		if st.wantErr != "" {
			var x *wire.Exception
			if !errors.As(err, &x) {
				t.Errorf("%s: got %s, %v; want %s", st.label, wire.Repr(got), err, st.wantErr)
				continue
			}
			text := x.Class + ": " + x.Text()
			if want, ok := strings.CutSuffix(st.wantErr, "..."); ok && strings.HasPrefix(text, want) {
				continue
			}
			if text != st.wantErr {
				t.Errorf("%s: error %s, want %s", st.label, text, st.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", st.label, err)
			continue
		}
		// Equal ignores dict order, as Python's == does: the order of
		// listings is the registry's business (registry_test.go).
		if !wire.Equal(got, st.want) {
			t.Errorf("%s: got %s, want %s", st.label, wire.Repr(got), wire.Repr(st.want))
		}
	}
}
