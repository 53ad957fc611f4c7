package pickle

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pyro4/pyro4/wire"
	"github.com/pyro4/pyro4/wire/internal/codectest"
)

// decodeInputs are hand-made pickles that only name safe builtins; Python's
// pickle.loads decides what each should give.
var decodeInputs = []string{
	"N.", "I01\n.", "I00\n.", "I-42\n.", "I123456789012345678901234567890\n.", "L-7L\n.", "F1.5\n.", "Finf\n.",
	"S'abc'\n.", "S\"a\\x41\\n\\101\"\n.", "S'\\xe9'\n.", "Vcaf\\u00e9 \\U0001f600\n.", "Vx\xe9\n.",
	"\x80\x02K\xff.", "\x80\x02M\xff\xff.", "\x80\x02J\xff\xff\xff\xff.", "\x80\x02\x8a\x00.", "\x80\x02\x8a\x01\xff.",
	"\x80\x02\x8a\x02\x00\x80.", "\x80\x02\x8b\x01\x00\x00\x00\x7f.", "\x80\x02G@\x09!\xfbTD-\x18.",
	"\x80\x02U\x03abc.", "\x80\x02T\x01\x00\x00\x00\xe9.", "\x80\x03C\x02\x00\xff.", "\x80\x04\x8c\x02\xc3\xa9.",
	"\x80\x05\x96\x02\x00\x00\x00\x00\x00\x00\x00hi.",
	"\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00K\x01K\x02\x86.",
	"(K\x01K\x02K\x03t.", "(K\x01l.", "(K\x01K\x02d.", "(K\x01K\x02K\x01K\x03d.", "(K\x01K\x02K\x01\x91.",
	"\x80\x04\x8f(K\x01K\x01\x88G?\xf0\x00\x00\x00\x00\x00\x00\x90.", // {1, True, 1.0}: one member
	"}(K\x01K\x02\x88K\x03u.",  // 1 and True: one key, last value
	"](K\x01q\x00h\x00e.",      // memo get
	"]q\x00(h\x00e.",           // list containing itself
	"K\x01K\x020.",             // POP
	"(K\x01K\x021K\x03.",       // POP_MARK
	"K\x012\x86.",              // DUP
	"(0K\x05.",                 // POP of an empty mark pops the mark
	"K\x01\x94K\x02h\x00\x86.", // MEMOIZE
	"K\x01p7\ng7\n\x86.",       // text PUT/GET
	"c__builtin__\nset\n((K\x01K\x02ltR.",
	"c__builtin__\nfrozenset\n)R.",
	"cbuiltins\ncomplex\nG?\xf0\x00\x00\x00\x00\x00\x00K\x02\x86R.",
	"c_codecs\nencode\nX\x02\x00\x00\x00\xc3\xa9X\x06\x00\x00\x00latin1\x86R.",
	"c__builtin__\nbytearray\n)R.",
	"\x80\x04}(](K\x01eK\x01u.", // unhashable key
	"\x80\x04\x8f(]\x90.",       // unhashable member
	".", "", "K", "\x80\x06N.", "(.", "a.", "h\x05.", "]K\x01s.", "X\x05\x00\x00\x00ab.", "I12", "Sabc\n.",
	"X\x03\x00\x00\x00\xed\xa0\x80.", // lone surrogate
	"\x8c\x06col\xed\xbf\xbf.", "X\x06\x00\x00\x00\xed\xa0\xbd\xed\xb8\x80.", "X\x02\x00\x00\x00\xed\xa0.",
	"Vcol\\ud800\n.", "V\\udfff\\ud800x\n.", "V\\U0000dc00\n.", "V\\U00110000\n.",
	"\x80\x02N", "K\x01K\x02.",
	// INT and LONG text: C strtol with base 0, then Python's int(text, 0)
	"I010\n.", "I-010\n.", "I08\n.", "I0x1f\n.", "I0X1F\n.", "I0o17\n.", "I0b101\n.", "I 12\n.", "I12 \n.", "I\t7\n.",
	"I\x0b7\n.", "I\x1c7\n.", "I1_000\n.", "I0x_1f\n.", "I+5\n.", "I-0\n.", "I+1\n.", "I 1\n.", "I 0\n.", "I001\n.",
	"I0\n.", "I-\n.", "I0x\n.", "I1e3\n.", "I\xff1\n.", "I0_0\n.", "I00_0\n.", "I07777777777777777777777\n.",
	"I0x7fffffffffffffff\n.", "I0x8000000000000000\n.", "I-0x8000000000000000\n.", "I-0x8000000000000001\n.",
	"I9223372036854775807\n.", "I9223372036854775808\n.", "I-9223372036854775808\n.", "I00000000000000000000001\n.",
	"L010\n.", "L0x10L\n.", "L0x10\n.", "L1_0L\n.", "L 5L\n.", "L5 L\n.", "L00L\n.", "L0\n.", "L0x_1L\n.",
	"L0x__1\n.", "L_1\n.", "L1_\n.", "L0b2\n.", "L-0o17\n.", "L\x1c7\n.", "L7\x0c\n.", "LL\n.", "L-L\n.",
}

func TestPickleDecodeAgreesWithPython(t *testing.T) {
	inputs := make([][]byte, len(decodeInputs))
	for i, s := range decodeInputs {
		inputs[i] = []byte(s)
	}
	differ := map[string]string{
		"]q\x00(h\x00e.": "recursive list",
		"\x80\x05\x96\x02\x00\x00\x00\x00\x00\x00\x00hi.": codectest.SameInModel,
		"(K\x01K\x02K\x01\x91.":                           codectest.SameInModel,
		"c__builtin__\nfrozenset\n)R.":                    codectest.SameInModel,
		"c__builtin__\nbytearray\n)R.":                    codectest.SameInModel,
	}
	codectest.AgreeWithPython(t, "pickle", "pickle.loads", inputs, differ)
}

// TestPickleRefusesGlobals: whatever a payload names beyond the allowed
// classes is refused before anything is built.
func TestPickleRefusesGlobals(t *testing.T) {
	tests := []struct{ in, msg string }{
		{"cos\nsystem\n(S'echo hi'\ntR.", "global 'os.system' is forbidden"},
		{"\x80\x04\x8c\x02os\x94\x8c\x06system\x94\x93.", "global 'os.system' is forbidden"},
		{"c__builtin__\neval\n(S'1'\ntR.", "global '__builtin__.eval' is forbidden"},
		{"cbuiltins\ngetattr\n.", "forbidden"},
		{"csubprocess\nPopen\n.", "forbidden"},
		{"cPyro4.core\nProxy\n)\x81.", "global 'Pyro4.core.Proxy' is forbidden"},
		{"cPyro4.errors\nsys\n.", "forbidden"},
		{"\x80\x04K\x01\x8c\x03set\x93.", "STACK_GLOBAL requires str"},
		{"cbuiltins\nset\n.", "class builtins.set is not supported as a value"},
		{"cbuiltins\nset\n)\x81.", "cannot create builtins.set with NEWOBJ"},
		{"cbuiltins\nobject\n)R.", "unsupported call builtins.object"},
		{"ccopyreg\n_reconstructor\n(cbuiltins\nset\ncbuiltins\nobject\nNtR.", "unsupported call"},
		{"cPyro4.core\nURI\n)\x81.", "URI without state"},
		{"cPyro4.core\nURI\n)\x81K\x01b.", "state must hold 5 items"},
		{"cbuiltins\nValueError\n)R(K\x01tb.", "state is not a dictionary"},
		{"cbuiltins\nValueError\n)R}K\x01K\x02sb.", "attribute name must be string"},
		{"]K\x01b.", "BUILD on a list is not supported"},
		{"K\x01)R.", "cannot call a int"},
		{"cbuiltins\nset\nK\x01R.", "must be a tuple"},
		{"P1\n.", "not supported"},
		{"K\x01Q.", "not supported"},
		{"\x82\x01.", "not supported"},
		{"(i__main__\nX\n.", "not supported"},
		{"\x80\x05\x97.", "not supported"},
		{"\x80\x06N.", "unsupported pickle protocol"},
		{"\x80\x04\x95\xff\x00\x00\x00\x00\x00\x00\x00N.", "truncated"},
		{"X\xff\xff\xff\xffab.", "truncated"},
		{"\x8d\xff\xff\xff\xff\xff\xff\xff\xff.", "truncated"},
		{"T\xff\xff\xff\xffab.", "negative byte count"},
		{"\x8b\xff\xff\xff\xff.", "negative byte count"},
		{"cPyro4.core\nURI\n(S'not a uri'\ntR.", "invalid uri"},
		{"c__builtin__\nbytearray\n(X\x02\x00\x00\x00\xe2\x82X\x06\x00\x00\x00latin1tR.", "UTF-8"},
		{"c_codecs\nencode\n(X\x03\x00\x00\x00\xe2\x82\xacX\x06\x00\x00\x00latin1tR.", "latin-1"},
		{"c_codecs\nencode\n(X\x01\x00\x00\x00aX\x05\x00\x00\x00utf-8tR.", "latin-1"},
		{"cPyro4.futures\nFuture\n)\x81.", "global 'Pyro4.futures.Future' is forbidden"},
		{"cPyro4.futures\n_ExceptionWrapper\n)\x81.", "_ExceptionWrapper without an exception"},
		{"cPyro4.futures\n_ExceptionWrapper\nK\x01\x85\x81.", "takes no NEWOBJ arguments"},
		{"cPyro4.futures\n_ExceptionWrapper\n)R.", "unsupported call Pyro4.futures._ExceptionWrapper"},
		{"cPyro4.futures\n_ExceptionWrapper\n)\x81Nb.", "must be a dict with only 'exception'"},
		{"cPyro4.futures\n_ExceptionWrapper\n)\x81}X\x01\x00\x00\x00xK\x01sb.", "must be a dict with only 'exception'"},
		{"cPyro4.futures\n_ExceptionWrapper\n)\x81}X\x09\x00\x00\x00exceptionK\x01sb.", "must wrap an exception, not int"},
		{"cPyro4.futures\n_ExceptionWrapper\n)\x81}X\x09\x00\x00\x00exceptionh\x00sb.", "memo value not found"},
		{"cPyro4.futures\n_ExceptionWrapper\n)\x81q\x00}X\x09\x00\x00\x00exceptionh\x00sb.",
			"must wrap an exception, not Pyro4.futures._ExceptionWrapper"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.in), func(t *testing.T) {
			v, err := codec{}.Unmarshal([]byte(tt.in))
			var e *wire.Exception
			if !errors.As(err, &e) || e.Class != wire.ClassSerializeError || !strings.Contains(e.Message, tt.msg) {
				t.Fatalf("got %s, %v; want SerializeError containing %q", wire.Repr(v), err, tt.msg)
			}
		})
	}
}

// TestPickleDecodeObjects reads the object forms older pickles use.
func TestPickleDecodeObjects(t *testing.T) {
	uri := codectest.URIValue("PYRO:obj@localhost:9090")
	tests := []struct {
		name, in string
		want     wire.Value
	}{
		{"URI from its string", "cPyro4.core\nURI\n(X\x17\x00\x00\x00PYRO:obj@localhost:9090tR.", uri},
		{"URI via _reconstructor", "ccopy_reg\n_reconstructor\n(cPyro4.core\nURI\nc__builtin__\nobject\nNtR" +
			"(X\x04\x00\x00\x00PYROX\x03\x00\x00\x00objNX\x09\x00\x00\x00localhostM\x82#tb.", uri},
		{"URI with list state", "cPyro4.core\nURI\n)\x81](X\x04\x00\x00\x00PYROX\x03\x00\x00\x00objNX\x09\x00\x00\x00localhostM\x82#eb.", uri},
		{"exception via NEWOBJ_EX", "\x80\x04cPyro4.errors\nNamingError\nX\x01\x00\x00\x00x\x85}\x92.",
			(&wire.Exception{Class: wire.ClassNamingError, Message: "x"}).Value()},
		{"exception aliases", "cexceptions\nIOError\n)R.", (&wire.Exception{Class: "builtins.OSError", Args: wire.Tuple{}}).Value()},
		{"StandardError", "cexceptions\nStandardError\n)R.", (&wire.Exception{Class: "builtins.Exception", Args: wire.Tuple{}}).Value()},
		{"BUILD None", "cbuiltins\nValueError\n)RNb.", (&wire.Exception{Class: wire.ClassValueError, Args: wire.Tuple{}}).Value()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := codec{}.Unmarshal([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if !codectest.SameValue(got, tt.want) {
				t.Fatalf("got %s, want %s", wire.Repr(got), wire.Repr(tt.want))
			}
		})
	}
}

// TestPickleBlowupBounded: memo references can name exponentially large
// values and repeat expensive calls; both are refused within a budget
// linear in the payload's size.
func TestPickleBlowupBounded(t *testing.T) {
	var dag strings.Builder
	dag.WriteString("NN\x86q\x00")
	for i := 1; i < 60; i++ {
		fmt.Fprintf(&dag, "h%ch%c\x86q%c", i-1, i-1, i)
	}
	dag.WriteString(".")
	var sets strings.Builder
	sets.WriteString("(c__builtin__\nset\nq\x00](")
	for i := 0; i < 200; i++ {
		sets.WriteString("K\x01")
	}
	sets.WriteString("eq\x01")
	for i := 0; i < 100000; i++ {
		sets.WriteString("h\x00h\x01\x85R0")
	}
	sets.WriteString("t.")
	for name, in := range map[string]string{"dag": dag.String(), "repeated set()": sets.String()} {
		t.Run(name, func(t *testing.T) {
			// The work is bounded by the budget named in the error, linear
			// in the payload's size.
			_, err := codec{}.Unmarshal([]byte(in))
			want := fmt.Sprintf("expands beyond %d units", wire.NodeBudget(len(in)))
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("got %v, want %q", err, want)
			}
		})
	}
}

func TestPickleEncodeForms(t *testing.T) {
	tests := []struct {
		name string
		in   wire.Value
		want string
	}{
		{"ints", wire.Tuple{int64(255), int64(65535), int64(-1), int64(1 << 31)},
			"(K\xffM\xff\xffJ\xff\xff\xff\xff\x8a\x05\x00\x00\x00\x80\x00t"},
		{"negative long", int64(-(1 << 40)), "\x8a\x06\x00\x00\x00\x00\x00\xff"},
		{"bytes", wire.List{[]byte{}, []byte{0xe9}}, "](c__builtin__\nbytes\n)Rc_codecs\nencode\nX\x02\x00\x00\x00\xc3\xa9X\x06\x00\x00\x00latin1\x86Re"},
		{"set in a key is a frozenset", codectest.DictOf(wire.Tuple{wire.Set{}}, nil), "}(c__builtin__\nfrozenset\n]\x85R\x85Nu"},
		{"python 2 exception module", (&wire.Exception{Class: wire.ClassTypeError, Message: "t"}).Value(),
			"cexceptions\nTypeError\nX\x01\x00\x00\x00t\x85R"},
		{"python 3 only exception", (&wire.Exception{Class: "builtins.ConnectionError", Message: "c"}).Value(),
			"cbuiltins\nConnectionError\nX\x01\x00\x00\x00c\x85R"},
		{"exception wrapper", codectest.WrapperValue((&wire.Exception{Class: wire.ClassValueError, Message: "v"}).Value()),
			"cPyro4.futures\n_ExceptionWrapper\n)\x81}X\x09\x00\x00\x00exception" +
				"cexceptions\nValueError\nX\x01\x00\x00\x00v\x85Rsb"},
		{"wrapper of no exception stays a dict", codectest.WrapperValue("v"),
			"}(X\x09\x00\x00\x00__class__X\x1f\x00\x00\x00Pyro4.futures._ExceptionWrapper" +
				"X\x09\x00\x00\x00exceptionX\x01\x00\x00\x00vu"},
		{"unknown exception class stays a dict", codectest.DictOf("__class__", "mod.Err", "__exception__", true,
			"args", wire.Tuple{}, "attributes", wire.NewDict(0)),
			"}(X\x09\x00\x00\x00__class__X\x07\x00\x00\x00mod.ErrX\x0d\x00\x00\x00__exception__\x88" +
				"X\x04\x00\x00\x00args)X\x0a\x00\x00\x00attributes}u"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := codec{}.Marshal(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if want := "\x80\x02" + tt.want + "."; string(got) != want {
				t.Fatalf("got  %q\nwant %q", got, want)
			}
		})
	}
}

func TestPickleCallShape(t *testing.T) {
	got, err := wire.MarshalCall(codec{}, wire.Call{Object: "o", Method: "m"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "\x80\x02(X\x01\x00\x00\x00oX\x01\x00\x00\x00m)}t."; string(got) != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if _, err := wire.UnmarshalCall(codec{}, []byte("K\x01.")); err == nil {
		t.Fatal("accepted an int as a call")
	}
}

func FuzzPickleDecode(f *testing.F) {
	codectest.FuzzSeeds(f, "pickle")
	for _, in := range decodeInputs {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, data []byte) { codectest.FuzzRoundTrip(t, "pickle", data) })
}

func BenchmarkPickleEncodeLookupCall(b *testing.B) { codectest.BenchEncodeLookupCall(b, "pickle") }
func BenchmarkPickleDecodeLookupCall(b *testing.B) { codectest.BenchDecodeLookupCall(b, "pickle") }
func BenchmarkPickleEncodeList1000(b *testing.B)   { codectest.BenchEncodeList1000(b, "pickle") }
func BenchmarkPickleDecodeList1000(b *testing.B)   { codectest.BenchDecodeList1000(b, "pickle") }

func Example_pickle() {
	c, _ := wire.CodecByName("pickle")
	// What a Python 3.11 Pyro4 client sends for ns.lookup("my.object").
	call, _ := wire.UnmarshalCall(c, []byte("\x80\x05\x95/\x00\x00\x00\x00\x00\x00\x00(\x8c\x0fPyro.NameServer\x94"+
		"\x8c\x06lookup\x94\x8c\tmy.object\x94\x85\x94}\x94t\x94."))
	fmt.Println(call.Object, call.Method, wire.Repr(wire.Tuple(call.Args)))
	// A pickle that names anything but the allowed classes is refused.
	_, err := c.Unmarshal([]byte("cos\nsystem\n(S'echo hi'\ntR."))
	fmt.Println(err)
	// Output:
	// Pyro.NameServer lookup ('my.object',)
	// SerializeError: pickle: global 'os.system' is forbidden
}

// TestPickleTextIntErrors: INT and LONG refusals carry CPython's messages.
func TestPickleTextIntErrors(t *testing.T) {
	tests := []struct{ in, msg string }{
		{"I08\n.", "pickle: could not convert string to int"},
		{"I0x\n.", "pickle: could not convert string to int"},
		{"L010\n.", `pickle: invalid literal for int() with base 0: '010\n'`},
		{"L0x__1L\n.", "pickle: invalid literal for int() with base 16: '0x__1'"},
		{"L_1\n.", `pickle: invalid literal for int() with base 10: '_1\n'`},
		{"L0b2\n.", `pickle: invalid literal for int() with base 2: '0b2\n'`},
	}
	for _, tt := range tests {
		_, err := codec{}.Unmarshal([]byte(tt.in))
		var x *wire.Exception
		if !errors.As(err, &x) || x.Class != wire.ClassSerializeError || !strings.HasPrefix(x.Message, tt.msg) {
			t.Errorf("%q: error %v, want SerializeError %q", tt.in, err, tt.msg)
		}
	}
}
