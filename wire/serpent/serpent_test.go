package serpent

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/pyro4/pyro4/wire"
	"github.com/pyro4/pyro4/wire/internal/codectest"
)

func TestSerpentCodecRegistered(t *testing.T) {
	c, ok := wire.CodecByID(wire.SerpentID)
	if !ok || c.Name() != "serpent" {
		t.Fatalf("CodecByID(1) = %v, %v", c, ok)
	}
	if c2, ok := wire.CodecByName("Serpent"); !ok || c2.ID() != 1 {
		t.Fatalf("CodecByName(Serpent) = %v, %v", c2, ok)
	}
}

func TestSerpentEncodeSpecialCases(t *testing.T) {
	u, _ := wire.ParseURI("PYRO:x@h:1")
	cases := []struct {
		name string
		v    wire.Value
		want string
	}{
		{"neg zero imaginary written readable", complex(1, math.Copysign(0, -1)), "(1.0-0.0j)"},
		{"invalid utf8 as replacement char", "a\xffb", "'a\ufffdb'"},
		{"uri value", u, "{'__class__':'Pyro4.core.URI','state':('PYRO','x',None,'h',1)}"},
		{"exception value", &wire.Exception{Class: wire.ClassNamingError, Message: "x"},
			"{'__class__':'Pyro4.errors.NamingError','__exception__':True,'args':('x',),'attributes':{}}"},
		{"nil dict", (*wire.Dict)(nil), "{}"},
		{"tuple key with None", codectest.DictOf(wire.Tuple{nil}, int64(1)), "{(None,):1}"},
		{"float exponent forms", wire.List{1e-7, 1.5e-5, 2e16, 1.25e100, -3e-300}, "[1e-07,1.5e-05,2e+16,1.25e+100,-3e-300]"},
	}
	for _, c := range cases {
		got, err := codec{}.Marshal(c.v)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if want := header + c.want; string(got) != want {
			t.Errorf("%s: got %q, want %q", c.name, got, want)
		}
	}
}

func TestSerpentEncodeErrors(t *testing.T) {
	deep := deepList(wire.MaxDepth + 5)
	cyclic := wire.List{nil}
	cyclic[0] = cyclic
	huge := new(big.Int).Exp(big.NewInt(10), big.NewInt(wire.MaxIntDigits), nil) // 4301 digits
	cases := []struct {
		name string
		v    wire.Value
		want string
	}{
		{"None key (serpent refuses)", codectest.DictOf(nil, int64(1)), "NoneType cannot be a serpent key"},
		{"list key", codectest.DictOf(wire.List{}, int64(1)), "list cannot be a serpent key"},
		{"bytes key (unreadable)", codectest.DictOf([]byte("k"), int64(1)), "bytes cannot be a serpent key"},
		{"tuple key with list", codectest.DictOf(wire.Tuple{wire.List{}}, int64(1)), "list cannot be a serpent key"},
		{"nan key", codectest.DictOf(math.NaN(), int64(1)), "nan cannot be a serpent key"},
		{"dict in set", wire.Set{&wire.Dict{}}, "dict cannot be a serpent key"},
		{"complex nan", complex(math.NaN(), 1), "nan part"},
		{"too deep", deep, "nested deeper"},
		{"cycle", cyclic, "nested deeper"},
		{"go type", struct{}{}, "cannot encode Go type struct {}"},
		{"huge int", huge, "more than 4300 digits"},
	}
	for _, c := range cases {
		_, err := codec{}.Marshal(c.v)
		var exc *wire.Exception
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		} else if !errors.As(err, &exc) || exc.Class != wire.ClassSerializeError {
			t.Errorf("%s: error %T is not a SerializeError", c.name, err)
		}
		dst, err := codec{}.AppendMarshal([]byte("keep"), c.v)
		if err == nil || !errors.As(err, &exc) || string(dst) != "keep" {
			t.Errorf("%s: AppendMarshal = %q, %v; want dst unchanged and a SerializeError", c.name, dst, err)
		}
	}
	if _, err := (codec{}).Marshal(new(big.Int).Sub(huge, big.NewInt(1))); err != nil {
		t.Errorf("4300-digit int refused: %v", err)
	}
}

func TestSerpentUnmarshalCall(t *testing.T) {
	ok := []struct {
		in   string
		want wire.Call
	}{
		{"('o','m',(),{})", wire.Call{Object: "o", Method: "m", Args: []wire.Value{}}},
		{"['o','m',[1,2],{'k':None}]", wire.Call{Object: "o", Method: "m", Args: []wire.Value{int64(1), int64(2)}, Kwargs: codectest.DictOf("k", nil)}},
	}
	for _, c := range ok {
		got, err := wire.UnmarshalCall(codec{}, []byte(c.in))
		if err != nil || !sameCall(got, c.want) {
			t.Errorf("UnmarshalCall(%s) = %#v, %v", c.in, got, err)
		}
		if c.want.Kwargs == nil && got.Kwargs != nil {
			t.Errorf("UnmarshalCall(%s): empty kwargs not nil", c.in)
		}
	}
	bad := []struct{ in, want string }{
		{"{'object':'o'}", "must be a (object, method, args, kwargs) tuple, not dict"},
		{"('o','m',())", "has 3 items, want 4"},
		{"(1,'m',(),{})", "object id must be a str, not int"},
		{"('o',None,(),{})", "method name must be a str, not NoneType"},
		{"('o','m','abc',{})", "args must be a tuple or list, not str"},
		{"('o','m',(),())", "kwargs must be a dict, not tuple"},
		{"('o','m',(),{1:2})", "keyword names must be str, not int"},
		{"('o','m',(),{}", "expected ',' or ')'"},
	}
	for _, c := range bad {
		_, err := wire.UnmarshalCall(codec{}, []byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("UnmarshalCall(%s) error %v, want %q", c.in, err, c.want)
		}
	}
}

func TestSerpentMarshalCallEmpty(t *testing.T) {
	got, err := wire.MarshalCall(codec{}, wire.Call{Object: "o", Method: "m"})
	if err != nil || string(got) != header+"('o','m',(),{})" {
		t.Fatalf("MarshalCall = %q, %v", got, err)
	}
	_, err = wire.MarshalCall(codec{}, wire.Call{Object: "o", Method: "m", Args: []wire.Value{codectest.DictOf(wire.List{}, int64(1))}})
	if err == nil || !strings.Contains(err.Error(), "call m args") {
		t.Fatalf("MarshalCall with a bad arg: %v", err)
	}
}

// The serpent codec is found by name or by id; Pyro4 uses it by default.
func Example_serpent() {
	c, _ := wire.CodecByName("serpent")
	req, _ := wire.MarshalCall(c, wire.Call{Object: "Pyro.NameServer", Method: "lookup", Args: []wire.Value{"example.greeting"}})
	fmt.Printf("%s\n", req)
	reply, _ := c.Unmarshal([]byte("# serpent utf-8 python3.2\n{'__class__':'Pyro4.core.URI','state':('PYRO','obj_1',None,'localhost',51234)}"))
	u, _ := wire.URIFromValue(reply)
	fmt.Println(u)
	// Output:
	// # serpent utf-8 python3.2
	// ('Pyro.NameServer','lookup',('example.greeting',),{})
	// PYRO:obj_1@localhost:51234
}

// A server appends a reply to its output buffer, falling back to Marshal for
// codecs that cannot append.
func ExampleAppendMarshaler() {
	c, _ := wire.CodecByName("serpent")
	out := []byte("header|")
	if am, ok := c.(wire.AppendMarshaler); ok {
		out, _ = am.AppendMarshal(out, wire.List{"a", int64(1)})
	} else {
		body, _ := c.Marshal(wire.List{"a", int64(1)})
		out = append(out, body...)
	}
	fmt.Printf("%q\n", out)
	// Output:
	// "header|# serpent utf-8 python3.2\n['a',1]"
}

// The string writer classifies 8 bytes at a time and copies runs of plain
// bytes; these cases put every kind of byte on and across word boundaries.
// The wants are Python's repr() of the inputs.
func TestSerpentStrRepr(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", "''"},
		{"plain ascii, long enough for two words", "'plain ascii, long enough for two words'"},
		{"12345678'", "\"12345678'\""},
		{"1234567\"", "'1234567\"'"},
		{"abcdefgh'ijklmnop\"qrstuvwx\\yz", "'abcdefgh\\'ijklmnop\"qrstuvwx\\\\yz'"},
		{"0123456789abcdef\x01", "'0123456789abcdef\\x01'"},
		{"tab\there\nnl\rcr\x7fdel\x00nul", "'tab\\there\\nnl\\rcr\\x7fdel\\x00nul'"},
		{"caf\u00e9 \u0085 \u00ad \u2028 \U0001F600 end", "'caf\u00e9 \\x85 \\xad \\u2028 \U0001F600 end'"},
		{"both ' and \" quotes, 8+ bytes", "'both \\' and \" quotes, 8+ bytes'"},
		{"only 'single' quotes here", "\"only 'single' quotes here\""},
		{"only \"double\" quotes here", "'only \"double\" quotes here'"},
		{"invalid \xff utf-8", "'invalid \ufffd utf-8'"}, // a Python str cannot hold it
	}
	for _, c := range cases {
		if got := string(appendStr(nil, c.in)); got != c.want {
			t.Errorf("appendStr(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

// Interned strs come back as the same values as any other str, and a bytes
// literal with an interned text stays bytes.
func TestSerpentInternedStrings(t *testing.T) {
	v, err := codec{}.Unmarshal([]byte("('lookup',b'lookup','look' 'up',\"lookup\",'lookup2')"))
	if err != nil {
		t.Fatal(err)
	}
	want := wire.Tuple{"lookup", []byte("lookup"), "lookup", "lookup", "lookup2"}
	if !wire.Equal(v, want) {
		t.Errorf("got %#v, want %#v", v, want)
	}
}

// strWordBad must agree with strClass for every byte value in every lane,
// among plain and bad neighbours (a false positive would only cost speed,
// but a false negative would send a byte unescaped).
func TestSerpentStrWordBad(t *testing.T) {
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			for _, fill := range []byte{'a', ' ', '~', 0xff, 0x00, '\''} {
				var w uint64
				for k := 0; k < 8; k++ {
					b := fill
					if k == pos {
						b = byte(c)
					}
					w |= uint64(b) << (8 * k)
				}
				want := strClass[c] != 0 || strClass[fill] != 0
				if got := strWordBad(w) != 0; got != want {
					t.Fatalf("byte %#x in lane %d among %#x: bad=%v, want %v", c, pos, fill, got, want)
				}
			}
		}
	}
}
