package serpent

import (
	"bytes"
	"testing"

	"github.com/pyro4/pyro4/wire"
	"github.com/pyro4/pyro4/wire/internal/codectest"
)

// TestMarshalCallToIsTheGenericForm holds the fast path to its promise
// (wire.CallMarshaler): the bytes of the tuple wire.MarshalCall would
// otherwise encode.
func TestMarshalCallToIsTheGenericForm(t *testing.T) {
	calls := []wire.Call{
		{Object: "Pyro.NameServer", Method: "ping"},
		{Object: "Pyro.NameServer", Method: "lookup", Args: []wire.Value{"my.object"}},
		{Object: "Pyro.NameServer", Method: "list", Kwargs: codectest.DictOf("prefix", "my.", "return_metadata", true)},
		{Object: "obj", Method: "m", Args: []wire.Value{int64(1), wire.Set{"a"}, wire.Tuple{}}, Kwargs: wire.NewDict(0)},
	}
	for _, c := range calls {
		fast, err := codec{}.MarshalCallTo(c)
		if err != nil {
			t.Fatalf("%s: %v", c.Method, err)
		}
		generic, err := codec{}.Marshal(wire.Tuple{c.Object, c.Method, wire.CallArgs(c), wire.CallKwargs(c)})
		if err != nil {
			t.Fatalf("%s: %v", c.Method, err)
		}
		if !bytes.Equal(fast, generic) {
			t.Errorf("%s: MarshalCallTo wrote %q, the generic form is %q", c.Method, fast, generic)
		}
	}
}
