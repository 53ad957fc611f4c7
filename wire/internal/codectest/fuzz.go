package codectest

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/pyro4/pyro4/wire"
)

// The properties the decoder fuzz targets check. A decoder's panic is
// recovered into an error marked ErrDecoderPanic, so "no panic" means no
// such error; every other refusal of a plain value is a SerializeError.

// Refusal fails t unless err is an honest refusal of bad input: a
// SerializeError that is not a recovered panic.
func Refusal(t *testing.T, what string, err error) {
	t.Helper()
	if errors.Is(err, wire.ErrDecoderPanic) {
		t.Fatalf("%s: decoder panicked: %v", what, err)
	}
	var x *wire.Exception
	if !errors.As(err, &x) || x.Class != wire.ClassSerializeError {
		t.Fatalf("%s: error is not a SerializeError: %T %v", what, err, err)
	}
}

// FuzzRoundTrip is the property every binary decoder's fuzz target
// checks: Unmarshal refuses only with a SerializeError, UnmarshalCall agrees
// with it (CheckCall), and whatever decodes re-encodes and decodes to the
// same value.
func FuzzRoundTrip(t *testing.T, codec string, data []byte) {
	c := CodecFor(t, codec)
	v, err := c.Unmarshal(data)
	CheckCall(t, c, data, v, err, Exact)
	if err != nil {
		Refusal(t, "Unmarshal", err)
		return
	}
	enc, err := c.Marshal(v)
	if err != nil {
		t.Fatalf("decoded %s but cannot encode it: %v", wire.Repr(v), err)
	}
	back, err := c.Unmarshal(enc)
	if err != nil {
		t.Fatalf("cannot decode our encoding %q of %s: %v", enc, wire.Repr(v), err)
	}
	if !SameValue(v, back) {
		t.Fatalf("round trip changed the value:\n got %s\nwant %s", wire.Repr(back), wire.Repr(v))
	}
}

// Compare says how a codec's round trip may change a value: equal
// after normalising both sides with normal.
type Compare struct {
	Normal func(wire.Value) wire.Value
	Same   func(a, b wire.Value) bool
}

func (cmp Compare) equal(a, b wire.Value) bool { return cmp.Same(cmp.Normal(a), cmp.Normal(b)) }

// Exact is the comparison of the binary Codecs: no change at all.
var Exact = Compare{Normal: func(v wire.Value) wire.Value { return v }, Same: SameValue}

// CheckCall checks UnmarshalCall against Unmarshal of the same bytes
// (v, verr): where Unmarshal refuses, so does UnmarshalCall, with a
// SerializeError. Where it decodes, UnmarshalCall returns the call's parts
// of v, or refuses with a SerializeError (a malformed call) or with exactly
// what the class check says of v's arguments; and a call it returns
// encodes (MarshalCall) to bytes it reads back as the same call.
func CheckCall(t *testing.T, c wire.Codec, data []byte, v wire.Value, verr error, cmp Compare) {
	t.Helper()
	call, err := wire.UnmarshalCall(c, data)
	if verr != nil {
		if err == nil {
			t.Fatalf("UnmarshalCall accepted what Unmarshal refused (%v): %+v", verr, call)
		}
		Refusal(t, "UnmarshalCall", err)
		return
	}
	args, kwargs, shaped := fzCallParts(c.Name(), v)
	if err != nil {
		fzCallRefusal(t, c, err, shaped, wire.Call{Args: args, Kwargs: kwargs})
		return
	}
	if !shaped {
		t.Fatalf("UnmarshalCall accepted %s as a call", wire.Repr(v))
	}
	if err := fzClassVerdict(c, wire.Call{Args: args, Kwargs: kwargs}); err != nil {
		t.Fatalf("UnmarshalCall accepted arguments the class check refuses: %v", err)
	}
	if !cmp.equal(wire.List(call.Args), wire.List(args)) || (kwargs.Len() > 0) != (call.Kwargs != nil) ||
		(call.Kwargs != nil && !cmp.equal(call.Kwargs, kwargs)) {
		t.Fatalf("UnmarshalCall returned %+v, Unmarshal gave %s", call, wire.Repr(v))
	}
	enc, err := wire.MarshalCall(c, call)
	if err != nil {
		return // a value our encoder refuses (Unmarshal's round trip judges that)
	}
	back, err := wire.UnmarshalCall(c, enc)
	if err != nil {
		// serpent sends bytes as a dict: a bytes class name becomes one
		norm := wire.Call{Args: cmp.Normal(wire.List(call.Args)).(wire.List), Kwargs: wire.CallKwargs(call)}
		if nk, ok := cmp.Normal(norm.Kwargs).(*wire.Dict); ok {
			norm.Kwargs = nk
		}
		if want := fzClassVerdict(c, norm); want == nil || want.Error() != err.Error() {
			t.Fatalf("cannot decode our encoding %q of call %+v: %v", enc, call, err)
		}
		return
	}
	if back.Object != call.Object || back.Method != call.Method || !cmp.equal(wire.List(back.Args), wire.List(call.Args)) ||
		!cmp.equal(wire.CallKwargs(back), wire.CallKwargs(call)) {
		t.Fatalf("call round trip changed it:\n got %+v\nwant %+v", back, call)
	}
}

// fzCallRefusal checks UnmarshalCall's refusal of a value that decodes: a
// SerializeError, or for a well-formed call exactly the class check's
// verdict on its arguments.
func fzCallRefusal(t *testing.T, c wire.Codec, err error, shaped bool, args wire.Call) {
	t.Helper()
	if errors.Is(err, wire.ErrDecoderPanic) {
		t.Fatalf("UnmarshalCall: decoder panicked: %v", err)
	}
	var x *wire.Exception
	if !errors.As(err, &x) {
		t.Fatalf("UnmarshalCall error %T %v is no Pyro4 exception", err, err)
	}
	want := fzClassVerdict(c, args)
	switch {
	case shaped && want != nil && want.Error() == err.Error():
	case !shaped && x.Class == wire.ClassSerializeError:
	default:
		t.Fatalf("UnmarshalCall error %v; well-formed %v, class check says %v", err, shaped, want)
	}
}

// fzClassVerdict is what the class check says of a call's arguments for
// codec: pickle has none, msgpack checks bottom up.
func fzClassVerdict(c wire.Codec, call wire.Call) error {
	return wire.CheckCallClasses(c, call)
}

// fzCallParts reads v as a well-formed call the way the codec's Pyro4
// serializer unpacks one: shaped is false where UnmarshalCall must refuse.
func fzCallParts(codec string, v wire.Value) (args []wire.Value, kwargs *wire.Dict, shaped bool) {
	var parts []wire.Value
	if codec == "json" {
		d, ok := v.(*wire.Dict)
		if !ok {
			return nil, nil, false
		}
		for _, k := range []string{"object", "method", "params", "kwargs"} {
			p, ok := d.GetString(k)
			if !ok {
				return nil, nil, false
			}
			parts = append(parts, p)
		}
	} else if seq, ok := wire.Sequence(v); ok && len(seq) == 4 {
		parts = seq
	} else {
		return nil, nil, false
	}
	_, objOK := parts[0].(string)
	_, methodOK := parts[1].(string)
	args, argsOK := wire.Sequence(parts[2])
	kwargs, kwOK := parts[3].(*wire.Dict)
	if !objOK || !methodOK || !argsOK || !kwOK && parts[3] != nil {
		return nil, nil, false
	}
	if kwargs != nil {
		for _, it := range kwargs.Items {
			if _, ok := it.Key.(string); !ok {
				return nil, nil, false
			}
		}
	}
	return args, kwargs, true
}

// ClassSeeds adds the calls of the class check's cases (ClassCases)
// as codec encodes them.
func ClassSeeds(f *testing.F, codec string) {
	c := CodecFor(f, codec)
	for _, cc := range ClassCases() {
		if data, err := wire.MarshalCall(c, cc.Call()); err == nil {
			f.Add(data)
		}
	}
}

// FuzzSeeds adds the golden vectors of codec (in the package's GoldenDir) to
// f, the class check's calls and the strs with surrogates.
func FuzzSeeds(f *testing.F, codec string) {
	files, err := filepath.Glob(filepath.Join(GoldenDir, "*.bin"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no golden files for %s: %v", codec, err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	ClassSeeds(f, codec)
	SurrogateSeeds(f, codec)
}
