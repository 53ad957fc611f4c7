package wire

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
)

// The class check (classes.go) as Pyro4 4.82's dict_to_class decides: a
// call whose arguments hold the case's value is refused with want ("" when
// accepted), written "module.Class: str(exception)".
type classCase struct {
	name string
	arg  Value // the call's only positional argument
	kw   *Dict // or the keyword arguments
	want string
	// wantMsgpack, when set, is msgpack's verdict: its object_hook meets
	// inner dicts first.
	wantMsgpack string
	codecs      []string // nil: serpent, json, marshal, msgpack
}

// clsDict is a class dict with the given class name and further items.
func clsDict(class Value, kv ...Value) *Dict {
	return dictOf(append([]Value{"__class__", class}, kv...)...)
}

func clsException(class string, kv ...Value) *Dict {
	return clsDict(class, append([]Value{"__exception__", true, "args", List{"boom"}, "attributes", NewDict(0)}, kv...)...)
}

// clsProxyState is a proxy state with item i replaced by v.
func clsProxyState(i int, v Value) List {
	state := List(Proxy{URI: mustParseURI("PYRO:obj@localhost:9090"), Handshake: "hello"}.Value().(*Dict).Items[1].Value.(Tuple))
	state[i] = v
	return state
}

var (
	binaryCodecs = []string{"marshal", "msgpack"}
	seqCodecs    = []string{"serpent", "marshal"} // tuples stay tuples
)

var classCases = []classCase{
	{name: "plain dict", arg: dictOf("a", List{int64(1), dictOf("b", "c")})},
	{name: "unknown class", arg: clsDict("custom.Thing", "x", int64(1)), want: "Pyro4.errors.SerializeError: unsupported serialized class: custom.Thing"},
	{name: "main module", arg: clsDict("__main__.Thing"),
		want: "Pyro4.errors.SecurityError: refused to deserialize types with double underscores in their name: __main__.Thing"},
	{name: "dunder anywhere", arg: clsDict("Pyro4.core.__x"),
		want: "Pyro4.errors.SecurityError: refused to deserialize types with double underscores in their name: Pyro4.core.__x"},
	{name: "nested in list", arg: List{int64(1), List{clsDict("m.C")}}, want: "Pyro4.errors.SerializeError: unsupported serialized class: m.C"},
	{name: "nested in dict", arg: dictOf("k", clsDict("m.C")), want: "Pyro4.errors.SerializeError: unsupported serialized class: m.C"},
	{name: "in kwargs", kw: dictOf("metadata", List{clsDict("m.C")}), want: "Pyro4.errors.SerializeError: unsupported serialized class: m.C"},
	{name: "kwargs itself", kw: dictOf("__class__", "m.K"), want: "Pyro4.errors.SerializeError: unsupported serialized class: m.K"},
	{name: "first of two", arg: List{clsDict("m.A"), clsDict("m.B")}, want: "Pyro4.errors.SerializeError: unsupported serialized class: m.A"},
	{name: "outer first", arg: clsDict("m.Outer", "inner", clsDict("m.Inner")),
		want:        "Pyro4.errors.SerializeError: unsupported serialized class: m.Outer",
		wantMsgpack: "Pyro4.errors.SerializeError: unsupported serialized class: m.Inner"},
	{name: "inside accepted class", arg: clsDict(ClassURI, "state", List{"PYRO", "o", nil, "h", int64(1)}, "x", clsDict("m.Inner")),
		wantMsgpack: "Pyro4.errors.SerializeError: unsupported serialized class: m.Inner"},
	{name: "key not recreated", arg: dictOf(Tuple{"__class__"}, int64(1)), codecs: seqCodecs},
	{name: "class name int", arg: clsDict(int64(5)), want: "builtins.TypeError: argument of type 'int' is not iterable"},
	{name: "class name None", arg: clsDict(nil), want: "builtins.TypeError: argument of type 'NoneType' is not iterable"},
	{name: "class name list", arg: clsDict(List{"m.C"}), want: "builtins.TypeError: unhashable type: 'list'"},
	{name: "class name tuple", arg: clsDict(Tuple{"m.C"}), codecs: seqCodecs,
		want: "builtins.AttributeError: 'tuple' object has no attribute 'startswith'"},
	{name: "class name tuple dunder", arg: clsDict(Tuple{"__"}), codecs: seqCodecs,
		want: `builtins.TypeError: can only concatenate str (not "tuple") to str`},
	{name: "class name tuple of list", arg: clsDict(Tuple{List{}}), codecs: seqCodecs, want: "builtins.TypeError: unhashable type: 'list'"},
	{name: "class name bytes", arg: clsDict([]byte("m.C")), codecs: binaryCodecs, want: "Pyro4.errors.SerializeError: unsupported serialized class: m.C"},
	{name: "class name bad utf-8", arg: clsDict([]byte("m.\xe4\xb8")), codecs: binaryCodecs,
		want: "builtins.UnicodeDecodeError: 'utf-8' codec can't decode bytes in position 2-3: unexpected end of data"},
	{name: "class name bad start byte", arg: clsDict([]byte("\xff")), codecs: binaryCodecs,
		want: "builtins.UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"},
	{name: "class name bad continuation", arg: clsDict([]byte("a\xe0\x80")), codecs: binaryCodecs,
		want: "builtins.UnicodeDecodeError: 'utf-8' codec can't decode byte 0xe0 in position 1: invalid continuation byte"},

	{name: "uri", arg: uriValue("PYRO:obj@localhost:9090")},
	{name: "uri no state", arg: clsDict(ClassURI), want: "builtins.KeyError: 'state'"},
	{name: "uri short state", arg: clsDict(ClassURI, "state", List{"PYRO", "o", nil}),
		want: "builtins.ValueError: not enough values to unpack (expected 5, got 3)"},
	{name: "uri long state", arg: clsDict(ClassURI, "state", List{"PYRO", "o", nil, "h", int64(1), int64(2)}),
		want: "builtins.ValueError: too many values to unpack (expected 5)"},
	{name: "uri int state", arg: clsDict(ClassURI, "state", int64(7)), want: "builtins.TypeError: cannot unpack non-iterable int object"},
	{name: "uri str state", arg: clsDict(ClassURI, "state", "abcde")},
	{name: "daemon", arg: clsDict(ClassDaemon, "state", Tuple{})},
	{name: "daemon no state", arg: clsDict(ClassDaemon), want: "builtins.KeyError: 'state'"},
	{name: "other core class", arg: clsDict("Pyro4.core.Thing"), want: "Pyro4.errors.SerializeError: unsupported serialized class: Pyro4.core.Thing"},
	{name: "serializer", arg: clsDict("Pyro4.util.JsonSerializer")},
	{name: "other util class", arg: clsDict("Pyro4.util.Thing"), want: "Pyro4.errors.SerializeError: unsupported serialized class: Pyro4.util.Thing"},

	{name: "proxy", arg: Proxy{URI: mustParseURI("PYRO:obj@localhost:9090"), Methods: []string{"ping"},
		HMACKey: []byte("key"), Handshake: "hello", Serializer: "json"}.Value()},
	{name: "proxy no state", arg: clsDict(ClassProxy), want: "builtins.KeyError: 'state'"},
	{name: "proxy short state", arg: clsDict(ClassProxy, "state", List{"PYRO:o@h:1", List{}}),
		want: "builtins.IndexError: list index out of range"},
	{name: "proxy str state", arg: clsDict(ClassProxy, "state", "PYRO"), want: "Pyro4.errors.PyroError: invalid uri"},
	{name: "proxy bytes state", arg: clsDict(ClassProxy, "state", []byte("ab")), codecs: binaryCodecs,
		want: "builtins.TypeError: uri parameter object is of wrong type"},
	{name: "proxy dict state", arg: clsDict(ClassProxy, "state", dictOf("a", int64(1))), want: "builtins.KeyError: 0"},
	{name: "proxy none state", arg: clsDict(ClassProxy, "state", nil), want: "builtins.TypeError: 'NoneType' object is not subscriptable"},
	{name: "proxy bad uri", arg: clsDict(ClassProxy, "state", clsProxyState(0, "nonsense")), want: "Pyro4.errors.PyroError: invalid uri"},
	{name: "proxy uri not str", arg: clsDict(ClassProxy, "state", clsProxyState(0, int64(1))),
		want: "builtins.TypeError: uri parameter object is of wrong type"},
	{name: "proxy methods int", arg: clsDict(ClassProxy, "state", clsProxyState(2, int64(1))),
		want: "builtins.TypeError: 'int' object is not iterable"},
	{name: "proxy attrs unhashable", arg: clsDict(ClassProxy, "state", clsProxyState(3, List{List{}})),
		want: "builtins.TypeError: unhashable type: 'list'"},
	{name: "proxy hmac not b64", arg: clsDict(ClassProxy, "state", clsProxyState(5, "secret")),
		want: "Pyro4.errors.ProtocolError: hmac encoding error"},
	{name: "proxy hmac padding", arg: clsDict(ClassProxy, "state", clsProxyState(5, "b64:abc")),
		want: "binascii.Error: Incorrect padding"},
	{name: "proxy hmac one extra", arg: clsDict(ClassProxy, "state", clsProxyState(5, "b64:abcd e")),
		want: "binascii.Error: Invalid base64-encoded string: number of data characters (5) cannot be 1 more than a multiple of 4"},
	{name: "proxy hmac junk skipped", arg: clsDict(ClassProxy, "state", clsProxyState(5, "b64:YQ==!!"))},
	{name: "proxy hmac non-ascii", arg: clsDict(ClassProxy, "state", clsProxyState(5, "b64:aé€b")),
		want: "builtins.UnicodeEncodeError: 'ascii' codec can't encode characters in position 1-2: ordinal not in range(128)"},
	{name: "proxy hmac int", arg: clsDict(ClassProxy, "state", clsProxyState(5, int64(3))),
		want: "builtins.AttributeError: 'int' object has no attribute 'startswith'"},
	{name: "proxy hmac bytes", arg: clsDict(ClassProxy, "state", clsProxyState(5, []byte("b64:"))), codecs: binaryCodecs,
		want: "builtins.TypeError: startswith first arg must be bytes or a tuple of bytes, not str"},

	{name: "pyro error", arg: clsDict("Pyro4.errors.NamingError", "args", List{"x"})},
	{name: "pyro error unknown", arg: clsDict("Pyro4.errors.Nope", "args", List{}),
		want: "builtins.AttributeError: module 'Pyro4.errors' has no attribute 'Nope'"},
	{name: "pyro error no args", arg: clsDict("Pyro4.errors.NamingError"), want: "builtins.KeyError: 'args'"},
	{name: "pyro error int args", arg: clsDict("Pyro4.errors.NamingError", "args", int64(1)),
		want: "builtins.TypeError: Pyro4.errors.NamingError() argument after * must be an iterable, not int"},
	{name: "attributes list", arg: clsException("builtins.ValueError", "attributes", List{}),
		want: "builtins.AttributeError: 'list' object has no attribute 'items'"},
	{name: "attribute name int", arg: clsException("builtins.ValueError", "attributes", dictOf(int64(1), int64(2))),
		codecs: seqCodecs, want: "builtins.TypeError: attribute name must be string, not 'int'"},
	{name: "attribute args int", arg: clsException("builtins.ValueError", "attributes", dictOf("args", int64(2))),
		want: "builtins.TypeError: 'int' object is not iterable"},
	{name: "builtin exception", arg: clsException("builtins.ValueError")},
	{name: "python 2 exception", arg: clsException("exceptions.KeyError")},
	{name: "bare exception name", arg: clsException("NamingError")},
	{name: "builtin int", arg: clsException("builtins.int"), want: "Pyro4.errors.SerializeError: unsupported serialized class: builtins.int"},
	{name: "builtin function", arg: clsException("builtins.print"), want: "builtins.TypeError: issubclass() arg 1 must be a class"},
	{name: "builtin unknown", arg: clsException("builtins.Nope"), want: "builtins.AttributeError: module 'builtins' has no attribute 'Nope'"},
	{name: "no module", arg: clsException("Nope"), want: "builtins.ValueError: not enough values to unpack (expected 2, got 1)"},
	{name: "sqlite3 error", arg: clsException("sqlite3.OperationalError")},
	{name: "sqlite3 unknown error", arg: clsException("sqlite3.NopeError"), want: "builtins.AttributeError: module 'sqlite3' has no attribute 'NopeError'"},
	{name: "sqlite3 other", arg: clsException("sqlite3.Row"), want: "Pyro4.errors.SerializeError: unsupported serialized class: sqlite3.Row"},
	{name: "custom exception", arg: clsException("custom.Error"), want: "Pyro4.errors.SerializeError: unsupported serialized class: custom.Error"},
	{name: "exception flag false", arg: clsDict("builtins.ValueError", "__exception__", false, "args", List{}),
		want: "Pyro4.errors.SerializeError: unsupported serialized class: builtins.ValueError"},
	{name: "exception wrapper", arg: cgWrapperV(clsException("builtins.ValueError"))},
	{name: "exception wrapper plain", arg: cgWrapperV("not an exception")},
	{name: "exception wrapper bad inner", arg: cgWrapperV(clsDict("m.C")), want: "Pyro4.errors.SerializeError: unsupported serialized class: m.C"},
	{name: "exception wrapper empty", arg: clsDict(ExceptionWrapperClass), want: "builtins.KeyError: 'exception'"},
}

var classCodecs = []string{"serpent", "json", "marshal", "msgpack"}

func (cc classCase) call() Call {
	c := Call{Object: "obj", Method: "m", Kwargs: cc.kw}
	if cc.kw == nil {
		c.Args = []Value{cc.arg}
	}
	return c
}

func (cc classCase) verdict(codec string) string {
	if codec == "msgpack" && cc.wantMsgpack != "" {
		return cc.wantMsgpack
	}
	return cc.want
}

func (cc classCase) codecList() []string {
	if cc.codecs != nil {
		return cc.codecs
	}
	return classCodecs
}

// ourVerdict is what UnmarshalCall makes of data, written as the cases are.
func ourVerdict(t *testing.T, c Codec, data []byte) string {
	t.Helper()
	_, err := UnmarshalCall(c, data)
	if err == nil {
		return ""
	}
	var x *Exception
	if !errors.As(err, &x) || errors.Is(err, ErrDecoderPanic) {
		t.Fatalf("UnmarshalCall: %v", err)
	}
	return x.Class + ": " + x.Text()
}

func TestClassCheck(t *testing.T) {
	for _, cc := range classCases {
		for _, codec := range cc.codecList() {
			t.Run(codec+"/"+cc.name, func(t *testing.T) {
				c := cgCodecFor(t, codec)
				data, err := MarshalCall(c, cc.call())
				if err != nil {
					t.Fatal(err)
				}
				if got, want := ourVerdict(t, c, data), cc.verdict(codec); got != want {
					t.Fatalf("got  %q\nwant %q", got, want)
				}
				// a plain value is not a call's arguments: no check
				if _, err := c.Unmarshal(data); err != nil {
					t.Fatalf("Unmarshal: %v", err)
				}
			})
		}
	}
}

// TestClassCheckPickle: pickle builds real objects, never from class dicts.
func TestClassCheckPickle(t *testing.T) {
	c := cgCodecFor(t, "pickle")
	data, err := MarshalCall(c, Call{Object: "o", Method: "m", Args: []Value{clsDict("custom.Thing")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := UnmarshalCall(c, data); err != nil {
		t.Fatalf("pickle refused a plain dict with a __class__ key: %v", err)
	}
}

// pyClassCheck loads every file of a directory with Pyro4's own serializer
// and prints its verdict, the way TestClassCheck writes one.
const pyClassCheck = `
import os, sys
import Pyro4.util
for name in sorted(os.listdir(sys.argv[1])):
    case, codec = name.rsplit(".", 1)
    with open(os.path.join(sys.argv[1], name), "rb") as f:
        data = f.read()
    try:
        Pyro4.util.get_serializer(codec).loadsCall(data)
        verdict = ""
    except Exception as x:
        verdict = "%s.%s: %s" % (type(x).__module__, type(x).__name__, x)
    print("%s.%s\t%s" % (case, codec, verdict.replace("\n", " ")))
`

// TestClassCheckAgreesWithPython has the real Pyro4 deserialize the same
// calls: its verdict must be the case's.
func TestClassCheckAgreesWithPython(t *testing.T) {
	pypeer.Require(t)
	dir := t.TempDir()
	want := map[string]string{}
	for i, cc := range classCases {
		for _, codec := range cc.codecList() {
			data, err := MarshalCall(cgCodecFor(t, codec), cc.call())
			if err != nil {
				t.Fatal(err)
			}
			key := fmt.Sprintf("case%02d.%s", i, codec)
			if err := os.WriteFile(filepath.Join(dir, key), data, 0o600); err != nil {
				t.Fatal(err)
			}
			want[key] = cc.verdict(codec)
		}
	}
	out, err := pypeer.Run(t, 60*time.Second, pypeer.Env(), pyClassCheck, dir)
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	seen := 0
	for _, line := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		key, got, ok := strings.Cut(line, "\t")
		w, known := want[key]
		if !ok || !known {
			t.Fatalf("python printed %q", line)
		}
		seen++
		var i int
		fmt.Sscanf(key, "case%d", &i)
		if got != w {
			t.Errorf("%s (%s): Pyro4 says %q, the case says %q", key, classCases[i].name, got, w)
		}
	}
	if seen != len(want) {
		t.Fatalf("python judged %d calls, want %d", seen, len(want))
	}
}

// UnmarshalData checks classes as each serializer's Pyro4 loads does: a
// dict naming an unknown class is refused, but not by pickle, whose loads
// is pickle's own.
func TestUnmarshalDataChecksClasses(t *testing.T) {
	d := NewDict(2)
	d.Append("__class__", "example.Thing")
	d.Append("x", int64(1))
	for _, name := range []string{"serpent", "json", "marshal", "msgpack", "pickle"} {
		codec, ok := CodecByName(name)
		if !ok {
			t.Fatalf("no codec %s", name)
		}
		data, err := codec.Marshal(d)
		if err != nil {
			t.Fatalf("%s: marshal: %v", name, err)
		}
		v, err := UnmarshalData(codec, data)
		if name == "pickle" {
			if err != nil || !Equal(v, d) {
				t.Errorf("pickle: %v, %v; want the dict back", Repr(v), err)
			}
			continue
		}
		var x *Exception
		if !errors.As(err, &x) || x.Class != ClassSerializeError || x.Message != "unsupported serialized class: example.Thing" {
			t.Errorf("%s: %v, %v; want SerializeError unsupported serialized class", name, v, err)
		}
	}
}
