package serpent

import (
	"bytes"
	"math"
	"testing"

	"github.com/pyro4/pyro4/wire"
	"github.com/pyro4/pyro4/wire/internal/codectest"
)

// FuzzSerpentDecode checks that the decoder never panics, fails only with a
// SerializeError, that UnmarshalCall agrees with Unmarshal (codectest.CheckCall),
// and that whatever it reads we can write and read back to the same value.
// Seeds: testdata/fuzz/FuzzSerpentDecode (the golden files) and the syntax
// table of the Python comparison test, the strs with surrogates.
func FuzzSerpentDecode(f *testing.F) {
	for _, s := range syntaxInputs {
		f.Add([]byte(s))
	}
	f.Add([]byte("-0j"))
	codectest.ClassSeeds(f, "serpent")
	codectest.SurrogateSeeds(f, "serpent")
	codec := codec{}
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := codec.Unmarshal(data)
		codectest.CheckCall(t, codec, data, v, err, compare)
		if err != nil {
			codectest.Refusal(t, "Unmarshal", err)
			return
		}
		enc, err := codec.Marshal(v)
		if err != nil {
			// What serpent itself refuses to write (a None key) or Python
			// cannot read back (a bytes key, an int over 4300 digits).
			return
		}
		v2, err := codec.Unmarshal(enc)
		if err != nil {
			t.Fatalf("cannot read our own encoding %q of %q: %v", enc, data, err)
		}
		if !codectest.SameValueAnyOrder(normal(v), normal(v2)) {
			t.Fatalf("round trip changed the value:\n in  %q\n got %s\n then %s", data, wire.Repr(v), wire.Repr(v2))
		}
		// A normalized value (see normal) is a fixed point of the round
		// trip, byte for byte. Unnormalized ones need not be: serpent writes
		// complex(-0.0, 0.0) as "(-0.0+0.0j)", which Python reads as 0j.
		enc2, err := codec.Marshal(normal(v2))
		if err != nil {
			t.Fatalf("cannot encode %s again: %v", wire.Repr(v2), err)
		}
		v3, err := codec.Unmarshal(enc2)
		if err != nil {
			t.Fatalf("cannot read %q: %v", enc2, err)
		}
		if enc3, err := codec.Marshal(v3); err != nil || !bytes.Equal(enc3, enc2) {
			t.Fatalf("encoding not stable: %q then %q (%v)", enc2, enc3, err)
		}
	})
}

// compare is the serpent round trip's comparison: a normalized value
// (normal) comes back the same, sets in any order.
var compare = codectest.Compare{Normal: normal, Same: codectest.SameValueAnyOrder}

// normal maps a decoded value to what it becomes after one trip through
// serpent: bytes to the base64 dict, an empty set to an empty tuple, and a
// complex's zero parts to +0.0 (a literal cannot always carry their sign).
func normal(v wire.Value) wire.Value {
	switch x := v.(type) {
	case []byte:
		b, _ := codec{}.Marshal(x)
		d, _ := parse(b)
		return d
	case complex128:
		return complex(real(x)+0, imag(x)+0)
	case float64:
		if math.IsNaN(x) {
			return math.NaN()
		}
	case wire.Set:
		if len(x) == 0 {
			return wire.Tuple{}
		}
		return wire.Set(normalItems(x))
	case wire.Tuple:
		return wire.Tuple(normalItems(x))
	case wire.List:
		return wire.List(normalItems(x))
	case *wire.Dict:
		d := wire.NewDict(x.Len())
		for _, it := range x.Items {
			d.Append(normal(it.Key), normal(it.Value))
		}
		return d
	}
	return v
}

func normalItems(items []wire.Value) []wire.Value {
	out := make([]wire.Value, len(items))
	for i, it := range items {
		out[i] = normal(it)
	}
	return out
}
