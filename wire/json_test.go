package wire

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestJSONEncode(t *testing.T) {
	tests := []struct {
		name string
		in   Value
		want string
	}{
		{"null", nil, `null`},
		{"bools", List{true, false}, `[true, false]`},
		{"ints", List{int64(0), int64(-7), int64(math.MinInt64)}, `[0, -7, -9223372036854775808]`},
		{"big int", bigInt("-123456789012345678901234567890"), `-123456789012345678901234567890`},
		{"floats", List{1.0, 0.5, 1e16, 1.5e-7, math.Copysign(0, -1)}, `[1.0, 0.5, 1e+16, 1.5e-07, -0.0]`},
		{"specials", List{math.NaN(), math.Inf(1), math.Inf(-1)}, `[NaN, Infinity, -Infinity]`},
		{"escapes", "\"\\\n\r\t\b\f\x00\x1f\x7f/", `"\"\\\n\r\t\b\f\u0000\u001f` + "\x7f" + `/"`},
		{"non-ascii raw", "é\u2028😀", "\"é\u2028😀\""},
		{"tuple and set as lists", List{Tuple{int64(1)}, Set{"a"}}, `[[1], ["a"]]`},
		{"empty", List{List{}, Tuple{}, Set{}, NewDict(0)}, `[[], [], [], {}]`},
		{"key order kept", dictOf("b", int64(1), "a", int64(2)), `{"b": 1, "a": 2}`},
		{"keys converted", dictOf(int64(1), "i", 2.5, "f", nil, "n", true, "t", math.Inf(1), "inf"),
			`{"1": "i", "2.5": "f", "null": "n", "true": "t", "Infinity": "inf"}`},
		{"exception", (&Exception{Class: ClassNamingError, Message: "unknown name: x"}).Value(),
			`{"__class__": "Pyro4.errors.NamingError", "__exception__": true, "args": ["unknown name: x"], "attributes": {}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := jsonCodec{}.Marshal(tt.in)
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
	deep := Value(int64(1))
	for i := 0; i <= MaxDepth+1; i++ {
		deep = List{deep}
	}
	tests := []struct {
		name  string
		in    Value
		class string
		msg   string
	}{
		{"complex", complex(1, 2), ClassSerializeError, "<class 'complex'>"},
		{"bytes", List{[]byte("\x00\xffhi")}, ClassSerializeError, "don't know how to serialize class <class 'bytes'> using serializer JsonSerializer"},
		{"tuple key", dictOf(Tuple{int64(1)}, "x"), ClassTypeError, "keys must be str, int, float, bool or None, not tuple"},
		{"invalid utf-8", "\xff", ClassSerializeError, "UTF-8"},
		{"too deep", deep, ClassSerializeError, "nested deeper"},
		{"foreign type", struct{}{}, ClassSerializeError, "cannot encode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := jsonCodec{}.Marshal(tt.in)
			var e *Exception
			if !errors.As(err, &e) || e.Class != tt.class || !strings.Contains(e.Message, tt.msg) {
				t.Fatalf("got %v, want %s containing %q", err, tt.class, tt.msg)
			}
		})
	}
}

func TestJSONDecode(t *testing.T) {
	tests := []struct {
		in   string
		want Value
	}{
		{` null `, nil},
		{"\t[true,false]\r\n", List{true, false}},
		{`-0`, int64(0)},
		{`123456789012345678901234567890`, bigInt("123456789012345678901234567890")},
		{`-9223372036854775808`, int64(math.MinInt64)},
		{`9223372036854775808`, bigInt("9223372036854775808")},
		{`[1.5, 1E2, 1e-2, 0.0]`, List{1.5, 100.0, 0.01, 0.0}},
		{`1e400`, math.Inf(1)},
		{`[NaN, Infinity, -Infinity]`, List{pyNaN, math.Inf(1), math.Inf(-1)}},
		{`"\u00e9\ud83d\ude00\/\"\\\b\f\n\r\t"`, "é😀/\"\\\b\f\n\r\t"},
		{`"raw é 😀"`, "raw é 😀"},
		{`{"a": 1, "b": 2, "a": 3}`, dictOf("a", int64(3), "b", int64(2))},
		{`{}`, NewDict(0)},
		{`[[], {"x": [{}]}]`, List{List{}, dictOf("x", List{NewDict(0)})}},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := jsonCodec{}.Unmarshal([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !cgSameValue(got, tt.want) {
				t.Fatalf("got %s (%T), want %s", Repr(got), got, Repr(tt.want))
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
		{`"\ud800"`, "lone surrogate"},
		{`"\udc00\ud800"`, "lone surrogate"},
		{`"open`, "unterminated"},
		{`nul`, "expecting value"},
		{`-Inf`, "expecting value"},
		{"\"\xff\"", "UTF-8"},
		{"\ufeff1", "expecting value"},
		{strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1), "nested deeper"},
		{strings.Repeat("9", 4301), "4300 digits"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			v, err := jsonCodec{}.Unmarshal([]byte(tt.in))
			var e *Exception
			if !errors.As(err, &e) || e.Class != ClassSerializeError || !strings.Contains(e.Message, tt.msg) {
				t.Fatalf("got %v, %v; want SerializeError containing %q", Repr(v), err, tt.msg)
			}
		})
	}
}

func TestJSONUnmarshalCall(t *testing.T) {
	good := `{"object": "Pyro.NameServer", "method": "list", "params": [], "kwargs": {"prefix": "a."}}`
	c, err := UnmarshalCall(jsonCodec{}, []byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if c.Object != "Pyro.NameServer" || c.Method != "list" || len(c.Args) != 0 || !cgSameValue(c.Kwargs, dictOf("prefix", "a.")) {
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
		if _, err := UnmarshalCall(jsonCodec{}, []byte(tt.in)); err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("%s: got %v, want %q", tt.in, err, tt.msg)
		}
	}
}

// TestJSONMarshalCallShape checks Pyro4's call layout, including the empty
// kwargs dict a Python proxy always sends.
func TestJSONMarshalCallShape(t *testing.T) {
	got, err := MarshalCall(jsonCodec{}, Call{Object: "obj", Method: "m", Args: []Value{int64(1), "two"}})
	if err != nil {
		t.Fatal(err)
	}
	want := `{"object": "obj", "method": "m", "params": [1, "two"], "kwargs": {}}`
	if string(got) != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func FuzzJSONDecode(f *testing.F) {
	cgFuzzSeeds(f, "json")
	f.Fuzz(func(t *testing.T, data []byte) { cgFuzzRoundTrip(t, "json", data) })
}

func BenchmarkJSONEncodeLookupCall(b *testing.B) { cgBenchEncodeLookupCall(b, "json") }
func BenchmarkJSONDecodeLookupCall(b *testing.B) { cgBenchDecodeLookupCall(b, "json") }
func BenchmarkJSONEncodeList1000(b *testing.B)   { cgBenchEncodeList1000(b, "json") }
func BenchmarkJSONDecodeList1000(b *testing.B)   { cgBenchDecodeList1000(b, "json") }

func Example_json() {
	c, _ := CodecByName("json")
	data, _ := MarshalCall(c, Call{Object: "Pyro.NameServer", Method: "lookup", Args: []Value{"my.object"}})
	fmt.Println(string(data))
	v, _ := c.Unmarshal([]byte(`{"handshake": "hello", "meta": {"methods": ["ping"]}}`))
	fmt.Println(Repr(v))
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
		[]byte(`1e5`), []byte(`1E+5`), []byte(`-1.5e-3`), []byte(`[1e]`), []byte(`"\u00E9"`), []byte(`tru`),
		[]byte(strings.Repeat("9", 4300)), []byte(strings.Repeat("9", 4301)),
	}
	differ := map[string]string{
		`"\ud800"`:  "lone surrogate",
		`"\udc00x"`: "lone surrogate",
	}
	cgAgreeWithPython(t, "json", "lambda b: json.loads(b.decode('utf-8'))", inputs, differ)
}
