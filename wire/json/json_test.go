package json

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/pyro4/pyro4/wire"
	"github.com/pyro4/pyro4/wire/internal/codectest"
)

func TestJSONEncode(t *testing.T) {
	tests := []struct {
		name string
		in   wire.Value
		want string
	}{
		{"null", nil, `null`},
		{"bools", wire.List{true, false}, `[true, false]`},
		{"ints", wire.List{int64(0), int64(-7), int64(math.MinInt64)}, `[0, -7, -9223372036854775808]`},
		{"big int", codectest.BigInt("-123456789012345678901234567890"), `-123456789012345678901234567890`},
		{"floats", wire.List{1.0, 0.5, 1e16, 1.5e-7, math.Copysign(0, -1)}, `[1.0, 0.5, 1e+16, 1.5e-07, -0.0]`},
		{"specials", wire.List{math.NaN(), math.Inf(1), math.Inf(-1)}, `[NaN, Infinity, -Infinity]`},
		{"escapes", "\"\\\n\r\t\b\f\x00\x1f\x7f/", `"\"\\\n\r\t\b\f\u0000\u001f` + "\x7f" + `/"`},
		{"non-ascii raw", "é\u2028😀", "\"é\u2028😀\""},
		{"tuple and set as lists", wire.List{wire.Tuple{int64(1)}, wire.Set{"a"}}, `[[1], ["a"]]`},
		{"empty", wire.List{wire.List{}, wire.Tuple{}, wire.Set{}, wire.NewDict(0)}, `[[], [], [], {}]`},
		{"key order kept", codectest.DictOf("b", int64(1), "a", int64(2)), `{"b": 1, "a": 2}`},
		{"keys converted", codectest.DictOf(int64(1), "i", 2.5, "f", nil, "n", true, "t", math.Inf(1), "inf"),
			`{"1": "i", "2.5": "f", "null": "n", "true": "t", "Infinity": "inf"}`},
		{"exception", (&wire.Exception{Class: wire.ClassNamingError, Message: "unknown name: x"}).Value(),
			`{"__class__": "Pyro4.errors.NamingError", "__exception__": true, "args": ["unknown name: x"], "attributes": {}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := codec{}.Marshal(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Fatalf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestJSONEncodeErrors(t *testing.T) {
	deep := wire.Value(int64(1))
	for i := 0; i <= wire.MaxDepth+1; i++ {
		deep = wire.List{deep}
	}
	tests := []struct {
		name  string
		in    wire.Value
		class string
		msg   string
	}{
		{"complex", complex(1, 2), wire.ClassSerializeError, "<class 'complex'>"},
		{"bytes", wire.List{[]byte("\x00\xffhi")}, wire.ClassSerializeError, "don't know how to serialize class <class 'bytes'> using serializer JsonSerializer"},
		{"tuple key", codectest.DictOf(wire.Tuple{int64(1)}, "x"), wire.ClassTypeError, "keys must be str, int, float, bool or None, not tuple"},
		{"invalid utf-8", "\xff", wire.ClassSerializeError, "UTF-8"},
		{"too deep", deep, wire.ClassSerializeError, "nested deeper"},
		{"foreign type", struct{}{}, wire.ClassSerializeError, "cannot encode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := codec{}.Marshal(tt.in)
			var e *wire.Exception
			if !errors.As(err, &e) || e.Class != tt.class || !strings.Contains(e.Message, tt.msg) {
				t.Fatalf("got %v, want %s containing %q", err, tt.class, tt.msg)
			}
		})
	}
}

func TestJSONDecode(t *testing.T) {
	tests := []struct {
		in   string
		want wire.Value
	}{
		{` null `, nil},
		{"\t[true,false]\r\n", wire.List{true, false}},
		{`-0`, int64(0)},
		{`123456789012345678901234567890`, codectest.BigInt("123456789012345678901234567890")},
		{`-9223372036854775808`, int64(math.MinInt64)},
		{`9223372036854775808`, codectest.BigInt("9223372036854775808")},
		{`[1.5, 1E2, 1e-2, 0.0]`, wire.List{1.5, 100.0, 0.01, 0.0}},
		{`1e400`, math.Inf(1)},
		{`[NaN, Infinity, -Infinity]`, wire.List{codectest.PyNaN, math.Inf(1), math.Inf(-1)}},
		{`"\u00e9\ud83d\ude00\/\"\\\b\f\n\r\t"`, "é😀/\"\\\b\f\n\r\t"},
		{`"raw é 😀"`, "raw é 😀"},
		{`{"a": 1, "b": 2, "a": 3}`, codectest.DictOf("a", int64(3), "b", int64(2))},
		{`{}`, wire.NewDict(0)},
		{`[[], {"x": [{}]}]`, wire.List{wire.List{}, codectest.DictOf("x", wire.List{wire.NewDict(0)})}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := codec{}.Unmarshal([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !codectest.SameValue(got, tt.want) {
				t.Fatalf("got %s (%T), want %s", wire.Repr(got), got, wire.Repr(tt.want))
			}
		})
	}
}

func TestJSONDecodeErrors(t *testing.T) {
	tests := []struct{ in, msg string }{
		{``, "expecting value"},
		{`   `, "expecting value"},
		{`[1] x`, "extra data"},
		{`01`, "extra data"},
		{`1.`, "extra data"},
		{`+1`, "expecting value"},
		{`-`, "expecting value"},
		{`.5`, "expecting value"},
		{`[1,]`, "expecting value"},
		{`[1 2]`, "delimiter"},
		{`{"a" 1}`, "':' delimiter"},
		{`{a: 1}`, "property name"},
		{`{"a": 1,}`, "property name"},
		{"\"tab\there\"", "control character"},
		{`"\x"`, "invalid \\escape"},
		{`"\u12"`, "\\uXXXX"},
		{`"open`, "unterminated"},
		{`nul`, "expecting value"},
		{`-Inf`, "expecting value"},
		{"\"\xff\"", "UTF-8"},
		{"\ufeff1", "expecting value"},
		{strings.Repeat("[", wire.MaxDepth+1) + strings.Repeat("]", wire.MaxDepth+1), "nested deeper"},
		{strings.Repeat("9", 4301), "4300 digits"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			v, err := codec{}.Unmarshal([]byte(tt.in))
			var e *wire.Exception
			if !errors.As(err, &e) || e.Class != wire.ClassSerializeError || !strings.Contains(e.Message, tt.msg) {
				t.Fatalf("got %v, %v; want SerializeError containing %q", wire.Repr(v), err, tt.msg)
			}
		})
	}
}

func TestJSONUnmarshalCall(t *testing.T) {
	good := `{"object": "Pyro.NameServer", "method": "list", "params": [], "kwargs": {"prefix": "a."}}`
	c, err := wire.UnmarshalCall(codec{}, []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.Object != "Pyro.NameServer" || c.Method != "list" || len(c.Args) != 0 || !codectest.SameValue(c.Kwargs, codectest.DictOf("prefix", "a.")) {
		t.Fatalf("got %+v", c)
	}
	bad := []struct{ in, msg string }{
		{`[]`, "must be an object"},
		{`{"object": "x", "method": "m", "params": []}`, `no "kwargs"`},
		{`{"object": 1, "method": "m", "params": [], "kwargs": {}}`, "object id must be a str"},
		{`{"object": "x", "method": null, "params": [], "kwargs": {}}`, "method name must be a str"},
		{`{"object": "x", "method": "m", "params": {}, "kwargs": {}}`, "call m: args must be a tuple or list, not dict"},
		{`{"object": "x", "method": "m", "params": [], "kwargs": []}`, "call m: kwargs must be a dict, not list"},
	}
	for _, tt := range bad {
		if _, err := wire.UnmarshalCall(codec{}, []byte(tt.in)); err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: got %v, want %q", tt.in, err, tt.msg)
		}
	}
}

// TestJSONMarshalCallShape checks Pyro4's call layout, including the empty
// kwargs dict a Python proxy always sends.
func TestJSONMarshalCallShape(t *testing.T) {
	got, err := wire.MarshalCall(codec{}, wire.Call{Object: "obj", Method: "m", Args: []wire.Value{int64(1), "two"}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"object": "obj", "method": "m", "params": [1, "two"], "kwargs": {}}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func FuzzJSONDecode(f *testing.F) {
	codectest.FuzzSeeds(f, "json")
	f.Fuzz(func(t *testing.T, data []byte) { codectest.FuzzRoundTrip(t, "json", data) })
}

func BenchmarkJSONEncodeLookupCall(b *testing.B) { codectest.BenchEncodeLookupCall(b, "json") }
func BenchmarkJSONDecodeLookupCall(b *testing.B) { codectest.BenchDecodeLookupCall(b, "json") }
func BenchmarkJSONEncodeList1000(b *testing.B)   { codectest.BenchEncodeList1000(b, "json") }
func BenchmarkJSONDecodeList1000(b *testing.B)   { codectest.BenchDecodeList1000(b, "json") }

func Example_json() {
	c, _ := wire.CodecByName("json")
	data, _ := wire.MarshalCall(c, wire.Call{Object: "Pyro.NameServer", Method: "lookup", Args: []wire.Value{"my.object"}})
	fmt.Println(string(data))
	v, _ := c.Unmarshal([]byte(`{"handshake": "hello", "meta": {"methods": ["ping"]}}`))
	fmt.Println(wire.Repr(v))
	// Output:
	// {"object": "Pyro.NameServer", "method": "lookup", "params": ["my.object"], "kwargs": {}}
	// {'handshake': 'hello', 'meta': {'methods': ['ping']}}
}

// TestJSONDecodeAgreesWithPython runs the decode tables through Python's
// json.loads too: same acceptance, same values.
func TestJSONDecodeAgreesWithPython(t *testing.T) {
	inputs := [][]byte{
		[]byte(` null `), []byte("\t[true,false]\r\n"), []byte(`-0`), []byte(`123456789012345678901234567890`),
		[]byte(`[1.5, 1E2, 1e-2, 0.0, -0.0, 1e400, 5e-324, 1e-400]`), []byte(`[NaN, Infinity, -Infinity]`),
		[]byte(`"\u00e9\ud83d\ude00\/\"\\\b\f\n\r\t"`), []byte(`{"a": 1, "b": 2, "a": 3}`),
		[]byte(``), []byte(`[1] x`), []byte(`01`), []byte(`1.`), []byte(`+1`), []byte(`-`), []byte(`.5`),
		[]byte(`[1,]`), []byte(`[1 2]`), []byte(`{"a" 1}`), []byte(`{a: 1}`), []byte(`{"a": 1,}`),
		[]byte("\"tab\there\""), []byte(`"\x"`), []byte(`"\u12"`), []byte(`"open`), []byte(`nul`),
		[]byte(`-Inf`), []byte("\"\xff\""), []byte("\ufeff1"), []byte(`"\ud800"`), []byte(`"\udc00x"`),
		[]byte(`"col\udfff"`), []byte(`"\udc00\ud800"`), []byte(`"\ud800\u0041"`), []byte(`"\ud83d\ude00\ud83d"`),
		[]byte("\"\xed\xa0\x80\""), // a raw surrogate is not UTF-8: refused by both
		[]byte(`1e5`), []byte(`1E+5`), []byte(`-1.5e-3`), []byte(`[1e]`), []byte(`"\u00E9"`), []byte(`tru`),
		[]byte(strings.Repeat("9", 4300)), []byte(strings.Repeat("9", 4301)),
	}
	codectest.AgreeWithPython(t, "json", "lambda b: json.loads(b.decode('utf-8'))", inputs, nil)
}
