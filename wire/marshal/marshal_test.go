package marshal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"github.com/pyro4/pyro4/wire"
	"github.com/pyro4/pyro4/wire/internal/codectest"
)

// mb builds a marshal payload from parts: strings as raw bytes, ints as
// little-endian int32.
func mb(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		switch x := p.(type) {
		case string:
			b = append(b, x...)
		case int:
			b = binary.LittleEndian.AppendUint32(b, uint32(int32(x)))
		case byte:
			b = append(b, x)
		}
	}
	return b
}

// inputs are hand-made payloads that exercise references, old type
// codes and malformed data; Python decides what each should give.
var inputs = [][]byte{
	mb("N\x00trailing bytes are ignored"),
	mb("\xce"), // None with FLAG_REF: no slot
	mb("\xce", "r", 0),
	mb("[", 3, "\xe9", 7, "r", 0, "r", 0),               // int slot shared
	mb("[", 2, "\xfa\x02ab", "r", 0),                    // str slot
	mb("(", 2, "\xdb", 1, "i", 1, "r", 1),               // slot 0 is the list; there is no slot 1
	mb("(", 2, "\xdb", 1, "i", 1, "r", 0),               // the completed list, shared
	mb("[", 2, "\xa9\x01", "i", 5, "r", 0),              // tuple ref after it is complete
	mb("\xdb", 1, "r", 0),                               // list containing itself
	mb("\xbe", 1, "r", 0),                               // frozenset ref to its reserved slot
	mb("\xfb", "z\x01a", "r", 0, "0"),                   // dict containing itself
	mb("[", 1, "r", 0),                                  // no slots yet
	mb("[", 1, "r", -1),                                 //
	mb("{", "N", "N", "0"),                              //
	mb("{", "i", 1, "z\x01a", "g", 0, 0, "z\x01b", "0"), // 1 and 1.0 are one key
	mb("{", "N", "0"),                                   // NULL value ends the dict
	mb("{", "N"),                                        // EOF
	mb("{", "[", 0, "N", "0"),                           // unhashable key
	mb("<", 3, "i", 1, "T", "g", 0, 0x3ff00000),         // {1, True, 1.0}: one member
	mb("<", 1, "[", 0),                                  // unhashable member
	mb("I\x00\xe4\x0bT\x02\x00\x00\x00"),                // TYPE_INT64
	mb("f\x03inf"), mb("f\x04-1e5"), mb("f\x030x1"), mb("x\x011\x012"),
	mb("a", 2, "\xe9\xff"), mb("z\x02\xc3\xa9"), // ASCII types are Latin-1
	mb("u", 2, "\xc3\xa9"), mb("t", 2, "\xc3\xa9"),
	mb("u", 2, "\xed\xa0"), mb("u", 3, "\xed\xa0\x80"), // bad UTF-8; a surrogate Python allows
	mb("u", 6, "\xed\xa0\xbd\xed\xb8\x80"), mb("u", 4, "\xf0\x9f\x98\x80"), // two surrogates are not the one character
	mb("u", 3, "\xed\xbf\xbf"), mb("u", 2, "\xed\xbf"), mb("u", 3, "\xed\xc0\x80"),
	mb("l", 1, "\x00\x80"), mb("l", 2, "\x01\x00\x00\x00"), mb("l", 0), mb("l", -1, "\x05\x00"),
	mb("l", 3, "\xff\x7f\xff\x7f\x01\x00"), mb("l", -2, "\x00\x00\x01\x00"),
	mb("s", 3, "abc"), mb("s", -1), mb("s", 1000, "x"), mb("(", -1),
	mb(")\x02N"), mb("0"), mb("\x80"), mb(""), mb("S"), mb("."), mb("c"), mb("?"),
	mb("\xe9", 1, "[", 2, "r", 0, "r", 0),
}

func TestMarshalDecodeAgreesWithPython(t *testing.T) {
	differ := map[string]string{
		string(mb("\xdb", 1, "r", 0)):             "recursive list",
		string(mb("\xfb", "z\x01a", "r", 0, "0")): "recursive dict",
		string(mb("S")):                           "StopIteration",
		string(mb(".")):                           "Ellipsis",
	}
	codectest.AgreeWithPython(t, "marshal", "marshal.loads", inputs, differ)
}

func TestMarshalDecodeErrors(t *testing.T) {
	tests := []struct {
		in  []byte
		msg string
	}{
		{mb(""), "EOF"},
		{mb("0"), "NULL object"},
		{mb("(", 1, "0"), "NULL object in marshal data for tuple"},
		{mb("\xdb", 1, "r", 0), "recursive reference"},
		{mb("[", 1, "r", 0), "invalid reference"},
		{mb("l", 1, "\x00\x80"), "digit out of range"},
		{mb("l", 2, "\x01\x00\x00\x00"), "unnormalized"},
		{mb("s", -1), "size out of range"},
		{mb("s", 1<<30), "too short"},
		{mb("[", 1<<30), "EOF"},
		{mb("c"), "code objects"},
		{mb("?"), "unknown type code"},
		{mb("{", "[", 0, "N", "0"), "unhashable type: 'list'"},
		{bytes.Repeat([]byte("[\x01\x00\x00\x00"), wire.MaxDepth+2), "recursion limit"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			_, err := codec{}.Unmarshal(tt.in)
			var e *wire.Exception
			if !errors.As(err, &e) || e.Class != wire.ClassSerializeError || !strings.Contains(e.Message, tt.msg) {
				t.Fatalf("got %v, want SerializeError containing %q", err, tt.msg)
			}
		})
	}
}

// TestMarshalRefBlowupBounded builds a payload whose references double the
// value at every level: 2**60 nodes named in a few hundred bytes.
func TestMarshalRefBlowupBounded(t *testing.T) {
	data := mb("\xa9\x02", "N", "N") // slot 0: (None, None)
	for i := 1; i < 60; i++ {
		data = append(data, mb("\xa9\x02", "r", i-1, "r", i-1)...)
	}
	// wrap every level in an outer tuple so the payload is one value
	data = append(mb(")", byte(60)), data...)
	// The work is bounded by the budget named in the error, linear in the
	// payload's size: without it this decode would not end.
	_, err := codec{}.Unmarshal(data)
	want := fmt.Sprintf("expands beyond %d nodes", wire.NodeBudget(len(data)))
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want %q", err, want)
	}
}

// TestMarshalLongDigits round-trips ints around every 15-bit digit boundary.
func TestMarshalLongDigits(t *testing.T) {
	for bits := 0; bits <= 200; bits++ {
		for _, delta := range []int64{-1, 0, 1} {
			x := new(big.Int).Lsh(big.NewInt(1), uint(bits))
			x.Add(x, big.NewInt(delta))
			for _, v := range []*big.Int{x, new(big.Int).Neg(x)} {
				data, err := codec{}.Marshal(wire.Int(v))
				if err != nil {
					t.Fatal(err)
				}
				got, err := codec{}.Unmarshal(data)
				if err != nil {
					t.Fatalf("%s: %v", v, err)
				}
				if !wire.Equal(got, wire.Int(v)) {
					t.Fatalf("%s came back as %s", v, wire.Repr(got))
				}
			}
		}
	}
}

func TestMarshalEncodeForms(t *testing.T) {
	tests := []struct {
		name string
		in   wire.Value
		want []byte
	}{
		{"int32 range", wire.List{int64(-2147483648), int64(2147483647)}, mb("[", 2, "i", -2147483648, "i", 2147483647)},
		{"long", int64(1 << 31), mb("l", 3, "\x00\x00\x00\x00\x02\x00")},
		{"negative long", int64(-(1 << 45)), mb("l", -4, "\x00\x00\x00\x00\x00\x00\x01\x00")},
		{"short ascii", "abc", mb("z\x03abc")},
		{"long ascii", strings.Repeat("a", 256), append(mb("a", 256), strings.Repeat("a", 256)...)},
		{"unicode", "é", mb("u", 2, "\xc3\xa9")},
		{"bytes", []byte("ab"), mb("s", 2, "ab")},
		{"small tuple", wire.Tuple{nil}, mb(")\x01N")},
		{"set and frozenset key", codectest.DictOf(wire.Set{int64(1)}, wire.Set{}), mb("{", ">", 1, "i", 1, "<", 0, "0")},
		{"tuple key holding a set", codectest.DictOf(wire.Tuple{wire.Set{}}, nil), mb("{", ")\x01", ">", 0, "N", "0")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := codec{}.Marshal(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestMarshalCallShape(t *testing.T) {
	c := wire.Call{Object: "o", Method: "m", Args: []wire.Value{int64(1)}, Kwargs: codectest.DictOf("k", true)}
	got, err := wire.MarshalCall(codec{}, c)
	if err != nil {
		t.Fatal(err)
	}
	// (object, method, [args], {kwargs}), as Pyro4's dumpsCall builds it
	want := mb(")\x04", "z\x01o", "z\x01m", "[", 1, "i", 1, "{", "z\x01k", "T", "0")
	if !bytes.Equal(got, want) {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	back, err := wire.UnmarshalCall(codec{}, got)
	if err != nil || back.Object != "o" || back.Method != "m" || !codectest.SameValue(wire.List(back.Args), wire.List{int64(1)}) {
		t.Fatalf("got %+v, %v", back, err)
	}
	if _, err := wire.UnmarshalCall(codec{}, mb(")\x03NNN")); err == nil {
		t.Fatal("accepted a 3-tuple as a call")
	}
}

func FuzzMarshalDecode(f *testing.F) {
	codectest.FuzzSeeds(f, "marshal")
	for _, in := range inputs {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, data []byte) { codectest.FuzzRoundTrip(t, "marshal", data) })
}

func BenchmarkMarshalEncodeLookupCall(b *testing.B) { codectest.BenchEncodeLookupCall(b, "marshal") }
func BenchmarkMarshalDecodeLookupCall(b *testing.B) { codectest.BenchDecodeLookupCall(b, "marshal") }
func BenchmarkMarshalEncodeList1000(b *testing.B)   { codectest.BenchEncodeList1000(b, "marshal") }
func BenchmarkMarshalDecodeList1000(b *testing.B)   { codectest.BenchDecodeList1000(b, "marshal") }
