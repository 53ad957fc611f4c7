package nameserver

import (
	"errors"
	"testing"

	"github.com/pyro4/pyro4/persist"
	"github.com/pyro4/pyro4/wire"
)

// TestBind checks argument binding against CPython 3.11's messages (the
// interop tests check the same against a live pyro4-ns for the common cases).
func TestBind(t *testing.T) {
	kw := func(kv ...wire.Value) *wire.Dict {
		d := wire.NewDict(len(kv) / 2)
		for i := 0; i < len(kv); i += 2 {
			d.Append(kv[i], kv[i+1])
		}
		return d
	}
	ns := newNameServer(NewRegistry(persist.NewMemory()), nil).object()
	tests := []struct {
		method string
		args   []wire.Value
		kwargs *wire.Dict
		want   string // error text, or "" for success
		bound  []wire.Value
	}{
		{"lookup", []wire.Value{"a"}, nil, "", []wire.Value{"a", false}},
		{"lookup", nil, kw("return_metadata", true, "name", "a"), "", []wire.Value{"a", true}},
		{"lookup", nil, nil, "NameServer.lookup() missing 1 required positional argument: 'name'", nil},
		{"register", nil, nil, "NameServer.register() missing 2 required positional arguments: 'name' and 'uri'", nil},
		{"register", []wire.Value{"a", "u", 1, 2, 3}, nil, "NameServer.register() takes from 3 to 5 positional arguments but 6 were given", nil},
		{"register", []wire.Value{"a", "u", 1, 2, 3}, kw("x", 1), "NameServer.register() got an unexpected keyword argument 'x'", nil},
		{"register", []wire.Value{"a"}, kw("uri", "u", "safe", 1, "name", "b"), "NameServer.register() got multiple values for argument 'name'", nil},
		{"register", []wire.Value{"a", "u"}, kw("metadata", wire.List{"m"}), "", []wire.Value{"a", "u", false, wire.List{"m"}}},
		{"count", []wire.Value{1}, nil, "NameServer.count() takes 1 positional argument but 2 were given", nil},
		{"set_metadata", []wire.Value{1, 2, 3}, nil, "NameServer.set_metadata() takes 3 positional arguments but 4 were given", nil},
		{"ping", nil, kw(int64(1), 2), "keywords must be strings", nil},
		{"list", nil, kw("metadata_any", wire.List{}), "", []wire.Value{nil, nil, nil, wire.List{}, false}},
	}
	for _, tt := range tests {
		m := ns.methods[tt.method]
		got, err := ns.bind(m, tt.args, tt.kwargs)
		if tt.want != "" {
			var x *wire.Exception
			if !errors.As(err, &x) || x.Class != wire.ClassTypeError || x.Text() != tt.want {
				t.Errorf("%s%v%v: error %v, want TypeError %q", tt.method, tt.args, wire.Repr(tt.kwargs), err, tt.want)
			}
			continue
		}
		if err != nil || !wire.Equal(wire.Tuple(got), wire.Tuple(tt.bound)) {
			t.Errorf("%s%v: bound %v (%v), want %v", tt.method, tt.args, got, err, tt.bound)
		}
	}
	if got := joinNames([]string{"'a'", "'b'", "'c'"}); got != "'a', 'b', and 'c'" {
		t.Errorf("joinNames: %s", got)
	}
}

func TestMethodLookup(t *testing.T) {
	nsObj := newNameServer(NewRegistry(persist.NewMemory()), nil).object()
	daemonObj := (&daemonObject{objects: newObjectTable()}).object()
	tests := []struct {
		obj  *object
		name wire.Value
		want string
	}{
		{nsObj, "frobnicate", "'NameServer' object has no attribute 'frobnicate'"},
		{nsObj, "_x", "attempt to access private attribute '_x'"},
		{nsObj, "__init__", "attempt to access private attribute '__init__'"},
		{nsObj, "__len__", "'NameServer' object has no attribute '__len__'"},
		{nsObj, "lock", "attempt to access unexposed attribute 'lock'"},
		{daemonObj, "daemon", "attempt to access unexposed attribute 'daemon'"},
		{daemonObj, int64(5), "'int' object has no attribute 'startswith'"},
		{nsObj, "lookup", ""},
	}
	for _, tt := range tests {
		_, err := tt.obj.lookup(tt.name)
		if tt.want == "" {
			if err != nil {
				t.Errorf("%v: %v", tt.name, err)
			}
			continue
		}
		var x *wire.Exception
		if !errors.As(err, &x) || x.Class != wire.ClassAttributeError || x.Text() != tt.want {
			t.Errorf("%v: %v, want AttributeError %q", tt.name, err, tt.want)
		}
	}
}

func TestTraceback(t *testing.T) {
	tb := traceback("lookup", namingError("unknown name: x"))
	want := []string{"Traceback (most recent call last):\n", "  File \"<pyro4 name server>\", in lookup\n",
		"Pyro4.errors.NamingError: unknown name: x\n"}
	if !wire.Equal(wire.StrList(tb), wire.StrList(want)) {
		t.Errorf("traceback %q", tb)
	}
	if got := exceptionLine(typeError("bad")); got != "TypeError: bad\n" {
		t.Errorf("builtins line %q", got)
	}
}
