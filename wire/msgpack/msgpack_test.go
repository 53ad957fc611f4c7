package msgpack

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/pyro4/pyro4/wire"
	"github.com/pyro4/pyro4/wire/internal/codectest"
)

func TestMsgpackEncodeForms(t *testing.T) {
	tests := []struct {
		name string
		in   wire.Value
		want string
	}{
		{"fixints", wire.List{int64(0), int64(127), int64(-1), int64(-32)}, "\x94\x00\x7f\xff\xe0"},
		{"unsigned for non-negative", wire.List{int64(128), int64(256), int64(65536)}, "\x93\xcc\x80\xcd\x01\x00\xce\x00\x01\x00\x00"},
		{"signed for negative", wire.List{int64(-33), int64(-129), int64(math.MinInt64)},
			"\x93\xd0\xdf\xd1\xff\x7f\xd3\x80\x00\x00\x00\x00\x00\x00\x00"},
		{"uint64 big int", codectest.BigInt("18446744073709551615"), "\xcf\xff\xff\xff\xff\xff\xff\xff\xff"},
		{"ext 0x31 big int", codectest.BigInt("-18446744073709551616"), "\xc7\x15\x31-18446744073709551616"},
		{"ext 0x30 complex", complex(1, 2), "\xd8\x30\x00\x00\x00\x00\x00\x00\xf0\x3f\x00\x00\x00\x00\x00\x00\x00\x40"},
		{"double always", 1.5, "\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00"},
		{"str8", strings.Repeat("x", 32), "\xd9\x20" + strings.Repeat("x", 32)},
		{"empty bin", []byte{}, "\xc4\x00"},
		{"bin", []byte{0xff}, "\xc4\x01\xff"},
		{"tuple and set as arrays", wire.List{wire.Tuple{}, wire.Set{"a"}}, "\x92\x90\x91\xa1a"},
		{"map with any keys", codectest.DictOf(int64(1), nil, wire.Tuple{"k"}, true), "\x82\x01\xc0\x91\xa1k\xc3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := codec{}.Marshal(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// inputs are hand-made payloads for decoding; Python's Pyro4
// (unpackb with its ext_hook and the default strict_map_key) decides each.
var inputs = [][]byte{
	[]byte("\xca\x3f\xc0\x00\x00"),                 // float32
	[]byte("\xcf\xff\xff\xff\xff\xff\xff\xff\xff"), // uint64 beyond int64
	[]byte("\xd3\x80\x00\x00\x00\x00\x00\x00\x00"),
	[]byte("\xc7\x05\x31 1_0 "), // int(b" 1_0 ")
	[]byte("\xc7\x03\x31+12"),
	[]byte("\xc7\x02\x31ab"),
	[]byte("\xd4\x31\x37"),
	[]byte("\xd8\x30\x00\x00\x00\x00\x00\x00\xf0\x3f\x00\x00\x00\x00\x00\x00\x00\x40"),
	[]byte("\xd7\x30\x00\x00\x00\x00\x00\x00\xf0\x3f"), // complex with 8 bytes
	[]byte("\xd4\x07\x00"), // unknown ext
	[]byte("\x83\x01\xa1a\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00\xa1b\xc3\xa1c"), // int, float, bool keys: not str
	[]byte("\x81\xc4\x01k\x01"),                            // bytes key
	[]byte("\x82\xa1k\x01\xc4\x01k\x02"),                   // str and bytes k: two keys
	[]byte("\x82\xa1k\x01\xa1k\x02"),                       // repeated key: last value
	[]byte("\x81\x91\x01\x02"),                             // list key
	[]byte("\x81\x80\x01"),                                 // dict key
	[]byte("\x81\xc0\x01"), []byte("\x81\xd4\x31\x35\x01"), // None key, ext int key
	[]byte("\x81\x01\xc1"),                                                     // bad value before bad key
	[]byte("\xa2\xc3\xa9"), []byte("\xa2\xc3\x28"), []byte("\xa3\xed\xa0\x80"), // str: é, invalid, surrogate
	[]byte("\x91\x01\x02"),         // trailing byte
	[]byte("\x92\x01"),             // truncated
	[]byte("\xdd\xff\xff\xff\xff"), // huge array claimed
	[]byte("\xc6\xff\xff\xff\xff"), // huge bin claimed
	[]byte("\xc1"),
	[]byte(""),
	[]byte("\x93\xc0\xc2\xc3"),
	[]byte("\xdc\x00\x02\xa0\xc4\x00"),
}

func TestMsgpackDecodeAgreesWithPython(t *testing.T) {
	loads := `lambda b: msgpack.unpackb(b, raw=False, ext_hook=Pyro4.util.MsgpackSerializer().ext_hook)`
	codectest.AgreeWithPython(t, "msgpack", loads, inputs, nil)
}

func TestMsgpackDecodeErrors(t *testing.T) {
	tests := []struct {
		in  string
		msg string
	}{
		{"\xd7\x32\x00\x00\x00\x00\x00\x00\x00\x00", "datetime (ext 0x32) is not supported"},
		{"\xd7\x33\x00\x00\x00\x00\x00\x00\x00\x00", "date (ext 0x33) is not supported"},
		{"\xd6\xff\x00\x00\x00\x00", "timestamp"},
		{"\xd4\x07\x00", "invalid ext code for msgpack: 7"},
		{"\xdd\xff\xff\xff\xff", "exceeds the data"},
		{"\xdf\x00\x01\x00\x00\x01", "exceeds the data"},
		{"\xc5\xff\xff", "exceeds the data"},
		{"\x91\x01\x02", "extra data"},
		{"\xa1\xff", "UTF-8"},
		{"\x81\x91\x01\x02", "msgpack: list is not allowed for map key when strict_map_key=True"},
		{"\x81\x01\x02", "msgpack: int is not allowed for map key when strict_map_key=True"},
		{"\x81\xc0\x02", "msgpack: NoneType is not allowed for map key when strict_map_key=True"},
		{strings.Repeat("\x91", wire.MaxDepth+2) + "\x01", "nested deeper"},
	}
	for _, tt := range tests {
		t.Run(tt.msg, func(t *testing.T) {
			_, err := codec{}.Unmarshal([]byte(tt.in))
			var e *wire.Exception
			if !errors.As(err, &e) || e.Class != wire.ClassSerializeError || !strings.Contains(e.Message, tt.msg) {
				t.Fatalf("got %v, want SerializeError containing %q", err, tt.msg)
			}
		})
	}
}

func TestMsgpackCallShape(t *testing.T) {
	got, err := wire.MarshalCall(codec{}, wire.Call{Object: "o", Method: "m", Args: []wire.Value{int64(1)}})
	if err != nil {
		t.Fatal(err)
	}
	if want := "\x94\xa1o\xa1m\x91\x01\x80"; string(got) != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if _, err := wire.UnmarshalCall(codec{}, []byte("\x93\xa1o\xa1m\x90")); err == nil {
		t.Fatal("accepted a 3-array as a call")
	}
	if _, err := wire.UnmarshalCall(codec{}, []byte("\x94\xa1o\xa1m\x90\x81\x01\x02")); err == nil {
		t.Fatal("accepted a non-str keyword")
	}
}

// TestMsgpackEncodeInvalidUTF8 refuses a str Python could not decode.
func TestMsgpackEncodeInvalidUTF8(t *testing.T) {
	if got, err := (codec{}).Marshal("\xff"); err == nil {
		t.Fatalf("encoded %q", got)
	}
	if got, err := (codec{}).Marshal(wire.List{[]byte("\xff")}); err != nil || !bytes.Equal(got, []byte("\x91\xc4\x01\xff")) {
		t.Fatalf("bytes: %q, %v", got, err)
	}
}

func FuzzMsgpackDecode(f *testing.F) {
	codectest.FuzzSeeds(f, "msgpack")
	for _, in := range inputs {
		f.Add(in)
	}
	f.Fuzz(func(t *testing.T, data []byte) { codectest.FuzzRoundTrip(t, "msgpack", data) })
}

func BenchmarkMsgpackEncodeLookupCall(b *testing.B) { codectest.BenchEncodeLookupCall(b, "msgpack") }
func BenchmarkMsgpackDecodeLookupCall(b *testing.B) { codectest.BenchDecodeLookupCall(b, "msgpack") }
func BenchmarkMsgpackEncodeList1000(b *testing.B)   { codectest.BenchEncodeList1000(b, "msgpack") }
func BenchmarkMsgpackDecodeList1000(b *testing.B)   { codectest.BenchDecodeList1000(b, "msgpack") }
