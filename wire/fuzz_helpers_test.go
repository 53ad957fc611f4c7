package wire

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// The properties the decoder fuzz targets check. A decoder's panic is
// recovered into an error marked ErrDecoderPanic, so "no panic" means no
// such error; every other refusal of a plain value is a SerializeError.

// fzRefusal fails t unless err is an honest refusal of bad input: a
// SerializeError that is not a recovered panic.
func fzRefusal(t *testing.T, what string, err error) {
	t.Helper()
	if errors.Is(err, ErrDecoderPanic) {
		t.Fatalf("%s: decoder panicked: %v", what, err)
	}
	var x *Exception
	if !errors.As(err, &x) || x.Class != ClassSerializeError {
		t.Fatalf("%s: error is not a SerializeError: %T %v", what, err, err)
	}
}

// cgFuzzRoundTrip is the property every binary decoder's fuzz target
// checks: Unmarshal refuses only with a SerializeError, UnmarshalCall agrees
// with it (fzCheckCall), and whatever decodes re-encodes and decodes to the
// same value.
func cgFuzzRoundTrip(t *testing.T, codec string, data []byte) {
	c := cgCodecFor(t, codec)
	v, err := c.Unmarshal(data)
	fzCheckCall(t, c, data, v, err, fzExact)
	if err != nil {
		fzRefusal(t, "Unmarshal", err)
		return
	}
	enc, err := c.Marshal(v)
	if err != nil {
		t.Fatalf("decoded %s but cannot encode it: %v", Repr(v), err)
	}
	back, err := c.Unmarshal(enc)
	if err != nil {
		t.Fatalf("cannot decode our encoding %q of %s: %v", enc, Repr(v), err)
	}
	if !cgSameValue(v, back) {
		t.Fatalf("round trip changed the value:\n got %s\nwant %s", Repr(back), Repr(v))
	}
}

// fzCompare says how a codec's round trip may change a value: equal
// after normalising both sides with normal.
type fzCompare struct {
	normal func(Value) Value
	same   func(a, b Value) bool
}

func (cmp fzCompare) equal(a, b Value) bool { return cmp.same(cmp.normal(a), cmp.normal(b)) }

// fzExact is the comparison of the binary codecs: no change at all.
var fzExact = fzCompare{normal: func(v Value) Value { return v }, same: cgSameValue}

// fzCheckCall checks UnmarshalCall against Unmarshal of the same bytes
// (v, verr): where Unmarshal refuses, so does UnmarshalCall, with a
// SerializeError. Where it decodes, UnmarshalCall returns the call's parts
// of v, or refuses with a SerializeError (a malformed call) or with exactly
// what the class check says of v's arguments; and a call it returns
// encodes (MarshalCall) to bytes it reads back as the same call.
func fzCheckCall(t *testing.T, c Codec, data []byte, v Value, verr error, cmp fzCompare) {
	t.Helper()
	call, err := UnmarshalCall(c, data)
	if verr != nil {
		if err == nil {
			t.Fatalf("UnmarshalCall accepted what Unmarshal refused (%v): %+v", verr, call)
		}
		fzRefusal(t, "UnmarshalCall", err)
		return
	}
	args, kwargs, shaped := fzCallParts(c.Name(), v)
	if err != nil {
		fzCallRefusal(t, c, err, shaped, Call{Args: args, Kwargs: kwargs})
		return
	}
	if !shaped {
		t.Fatalf("UnmarshalCall accepted %s as a call", Repr(v))
	}
	if err := fzClassVerdict(c, Call{Args: args, Kwargs: kwargs}); err != nil {
		t.Fatalf("UnmarshalCall accepted arguments the class check refuses: %v", err)
	}
	if !cmp.equal(List(call.Args), List(args)) || (kwargs.Len() > 0) != (call.Kwargs != nil) ||
		(call.Kwargs != nil && !cmp.equal(call.Kwargs, kwargs)) {
		t.Fatalf("UnmarshalCall returned %+v, Unmarshal gave %s", call, Repr(v))
	}
	enc, err := MarshalCall(c, call)
	if err != nil {
		return // a value our encoder refuses (Unmarshal's round trip judges that)
	}
	back, err := UnmarshalCall(c, enc)
	if err != nil {
		// serpent sends bytes as a dict: a bytes class name becomes one
		norm := Call{Args: cmp.normal(List(call.Args)).(List), Kwargs: CallKwargs(call)}
		if nk, ok := cmp.normal(norm.Kwargs).(*Dict); ok {
			norm.Kwargs = nk
		}
		if want := fzClassVerdict(c, norm); want == nil || want.Error() != err.Error() {
			t.Fatalf("cannot decode our encoding %q of call %+v: %v", enc, call, err)
		}
		return
	}
	if back.Object != call.Object || back.Method != call.Method || !cmp.equal(List(back.Args), List(call.Args)) ||
		!cmp.equal(CallKwargs(back), CallKwargs(call)) {
		t.Fatalf("call round trip changed it:\n got %+v\nwant %+v", back, call)
	}
}

// fzCallRefusal checks UnmarshalCall's refusal of a value that decodes: a
// SerializeError, or for a well-formed call exactly the class check's
// verdict on its arguments.
func fzCallRefusal(t *testing.T, c Codec, err error, shaped bool, args Call) {
	t.Helper()
	if errors.Is(err, ErrDecoderPanic) {
		t.Fatalf("UnmarshalCall: decoder panicked: %v", err)
	}
	var x *Exception
	if !errors.As(err, &x) {
		t.Fatalf("UnmarshalCall error %T %v is no Pyro4 exception", err, err)
	}
	want := fzClassVerdict(c, args)
	switch {
	case shaped && want != nil && want.Error() == err.Error():
	case !shaped && x.Class == ClassSerializeError:
	default:
		t.Fatalf("UnmarshalCall error %v; well-formed %v, class check says %v", err, shaped, want)
	}
}

// fzClassVerdict is what the class check says of a call's arguments for
// codec: pickle has none, msgpack checks bottom up.
func fzClassVerdict(c Codec, call Call) error {
	if c.ID() == PickleID {
		return nil
	}
	return checkCallClasses(call, classOrderOf(c))
}

// fzCallParts reads v as a well-formed call the way the codec's Pyro4
// serializer unpacks one: shaped is false where UnmarshalCall must refuse.
func fzCallParts(codec string, v Value) (args []Value, kwargs *Dict, shaped bool) {
	var parts []Value
	if codec == "json" {
		d, ok := v.(*Dict)
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
	} else if seq, ok := Sequence(v); ok && len(seq) == 4 {
		parts = seq
	} else {
		return nil, nil, false
	}
	_, objOK := parts[0].(string)
	_, methodOK := parts[1].(string)
	args, argsOK := Sequence(parts[2])
	kwargs, kwOK := parts[3].(*Dict)
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

// fzClassSeeds adds the calls of the class check's cases (classes_test.go)
// as codec encodes them.
func fzClassSeeds(f *testing.F, codec string) {
	c := cgCodecFor(f, codec)
	for _, cc := range classCases {
		if data, err := MarshalCall(c, cc.call()); err == nil {
			f.Add(data)
		}
	}
}

// cgFuzzSeeds adds the golden vectors of codec to f, and the class check's calls.
func cgFuzzSeeds(f *testing.F, codec string) {
	files, err := filepath.Glob(filepath.Join(cgGoldenCodecsDir, codec, "*.bin"))
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
	fzClassSeeds(f, codec)
}
