package codectest

import (
	"github.com/pyro4/pyro4/wire"
)

// ClassCase is the class check (wire's classes.go) as Pyro4 4.82's
// dict_to_class decides: a call whose arguments hold the case's value is
// refused with Want ("" when accepted), written "module.Class:
// str(exception)".
type ClassCase struct {
	Name string
	Arg  wire.Value // the call's only positional argument
	Kw   *wire.Dict // or the keyword arguments
	Want string
	// WantMsgpack, when set, is msgpack's verdict: its object_hook meets
	// inner dicts first.
	WantMsgpack string
	Codecs      []string // nil: serpent, json, marshal, msgpack
}

// ClassDict is a class dict with the given class name and further items.
func ClassDict(class wire.Value, kv ...wire.Value) *wire.Dict {
	return DictOf(append([]wire.Value{"__class__", class}, kv...)...)
}

// ClassException is the class dict of an exception.
func ClassException(class string, kv ...wire.Value) *wire.Dict {
	return ClassDict(class, append([]wire.Value{"__exception__", true, "args", wire.List{"boom"}, "attributes", wire.NewDict(0)}, kv...)...)
}

// ProxyState is a proxy state with item i replaced by v.
func ProxyState(i int, v wire.Value) wire.List {
	state := wire.List(wire.Proxy{URI: MustParseURI("PYRO:obj@localhost:9090"), Handshake: "hello"}.Value().(*wire.Dict).Items[1].Value.(wire.Tuple))
	state[i] = v
	return state
}

var (
	binaryCodecs = []string{"marshal", "msgpack"}
	seqCodecs    = []string{"serpent", "marshal"} // tuples stay tuples
)

// ClassCases returns the class check's cases; the table is read-only.
func ClassCases() []ClassCase { return classCases }

var classCases = []ClassCase{
	{Name: "plain dict", Arg: DictOf("a", wire.List{int64(1), DictOf("b", "c")})},
	{Name: "unknown class", Arg: ClassDict("custom.Thing", "x", int64(1)), Want: "Pyro4.errors.SerializeError: unsupported serialized class: custom.Thing"},
	{Name: "main module", Arg: ClassDict("__main__.Thing"),
		Want: "Pyro4.errors.SecurityError: refused to deserialize types with double underscores in their name: __main__.Thing"},
	{Name: "dunder anywhere", Arg: ClassDict("Pyro4.core.__x"),
		Want: "Pyro4.errors.SecurityError: refused to deserialize types with double underscores in their name: Pyro4.core.__x"},
	{Name: "nested in list", Arg: wire.List{int64(1), wire.List{ClassDict("m.C")}}, Want: "Pyro4.errors.SerializeError: unsupported serialized class: m.C"},
	{Name: "nested in dict", Arg: DictOf("k", ClassDict("m.C")), Want: "Pyro4.errors.SerializeError: unsupported serialized class: m.C"},
	{Name: "in kwargs", Kw: DictOf("metadata", wire.List{ClassDict("m.C")}), Want: "Pyro4.errors.SerializeError: unsupported serialized class: m.C"},
	{Name: "kwargs itself", Kw: DictOf("__class__", "m.K"), Want: "Pyro4.errors.SerializeError: unsupported serialized class: m.K"},
	{Name: "first of two", Arg: wire.List{ClassDict("m.A"), ClassDict("m.B")}, Want: "Pyro4.errors.SerializeError: unsupported serialized class: m.A"},
	{Name: "outer first", Arg: ClassDict("m.Outer", "inner", ClassDict("m.Inner")),
		Want:        "Pyro4.errors.SerializeError: unsupported serialized class: m.Outer",
		WantMsgpack: "Pyro4.errors.SerializeError: unsupported serialized class: m.Inner"},
	{Name: "inside accepted class", Arg: ClassDict(wire.ClassURI, "state", wire.List{"PYRO", "o", nil, "h", int64(1)}, "x", ClassDict("m.Inner")),
		WantMsgpack: "Pyro4.errors.SerializeError: unsupported serialized class: m.Inner"},
	{Name: "key not recreated", Arg: DictOf(wire.Tuple{"__class__"}, int64(1)), Codecs: seqCodecs},
	{Name: "class name int", Arg: ClassDict(int64(5)), Want: "builtins.TypeError: argument of type 'int' is not iterable"},
	{Name: "class name None", Arg: ClassDict(nil), Want: "builtins.TypeError: argument of type 'NoneType' is not iterable"},
	{Name: "class name list", Arg: ClassDict(wire.List{"m.C"}), Want: "builtins.TypeError: unhashable type: 'list'"},
	{Name: "class name tuple", Arg: ClassDict(wire.Tuple{"m.C"}), Codecs: seqCodecs,
		Want: "builtins.AttributeError: 'tuple' object has no attribute 'startswith'"},
	{Name: "class name tuple dunder", Arg: ClassDict(wire.Tuple{"__"}), Codecs: seqCodecs,
		Want: `builtins.TypeError: can only concatenate str (not "tuple") to str`},
	{Name: "class name tuple of list", Arg: ClassDict(wire.Tuple{wire.List{}}), Codecs: seqCodecs, Want: "builtins.TypeError: unhashable type: 'list'"},
	{Name: "class name bytes", Arg: ClassDict([]byte("m.C")), Codecs: binaryCodecs, Want: "Pyro4.errors.SerializeError: unsupported serialized class: m.C"},
	{Name: "class name bad utf-8", Arg: ClassDict([]byte("m.\xe4\xb8")), Codecs: binaryCodecs,
		Want: "builtins.UnicodeDecodeError: 'utf-8' codec can't decode bytes in position 2-3: unexpected end of data"},
	{Name: "class name bad start byte", Arg: ClassDict([]byte("\xff")), Codecs: binaryCodecs,
		Want: "builtins.UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"},
	{Name: "class name bad continuation", Arg: ClassDict([]byte("a\xe0\x80")), Codecs: binaryCodecs,
		Want: "builtins.UnicodeDecodeError: 'utf-8' codec can't decode byte 0xe0 in position 1: invalid continuation byte"},

	{Name: "uri", Arg: URIValue("PYRO:obj@localhost:9090")},
	{Name: "uri no state", Arg: ClassDict(wire.ClassURI), Want: "builtins.KeyError: 'state'"},
	{Name: "uri short state", Arg: ClassDict(wire.ClassURI, "state", wire.List{"PYRO", "o", nil}),
		Want: "builtins.ValueError: not enough values to unpack (expected 5, got 3)"},
	{Name: "uri long state", Arg: ClassDict(wire.ClassURI, "state", wire.List{"PYRO", "o", nil, "h", int64(1), int64(2)}),
		Want: "builtins.ValueError: too many values to unpack (expected 5)"},
	{Name: "uri int state", Arg: ClassDict(wire.ClassURI, "state", int64(7)), Want: "builtins.TypeError: cannot unpack non-iterable int object"},
	{Name: "uri str state", Arg: ClassDict(wire.ClassURI, "state", "abcde")},
	{Name: "daemon", Arg: ClassDict(wire.ClassDaemon, "state", wire.Tuple{})},
	{Name: "daemon no state", Arg: ClassDict(wire.ClassDaemon), Want: "builtins.KeyError: 'state'"},
	{Name: "other core class", Arg: ClassDict("Pyro4.core.Thing"), Want: "Pyro4.errors.SerializeError: unsupported serialized class: Pyro4.core.Thing"},
	{Name: "serializer", Arg: ClassDict("Pyro4.util.JsonSerializer")},
	{Name: "other util class", Arg: ClassDict("Pyro4.util.Thing"), Want: "Pyro4.errors.SerializeError: unsupported serialized class: Pyro4.util.Thing"},

	{Name: "proxy", Arg: wire.Proxy{URI: MustParseURI("PYRO:obj@localhost:9090"), Methods: []string{"ping"},
		HMACKey: []byte("key"), Handshake: "hello", Serializer: "json"}.Value()},
	{Name: "proxy no state", Arg: ClassDict(wire.ClassProxy), Want: "builtins.KeyError: 'state'"},
	{Name: "proxy short state", Arg: ClassDict(wire.ClassProxy, "state", wire.List{"PYRO:o@h:1", wire.List{}}),
		Want: "builtins.IndexError: list index out of range"},
	{Name: "proxy str state", Arg: ClassDict(wire.ClassProxy, "state", "PYRO"), Want: "Pyro4.errors.PyroError: invalid uri"},
	{Name: "proxy bytes state", Arg: ClassDict(wire.ClassProxy, "state", []byte("ab")), Codecs: binaryCodecs,
		Want: "builtins.TypeError: uri parameter object is of wrong type"},
	{Name: "proxy dict state", Arg: ClassDict(wire.ClassProxy, "state", DictOf("a", int64(1))), Want: "builtins.KeyError: 0"},
	{Name: "proxy none state", Arg: ClassDict(wire.ClassProxy, "state", nil), Want: "builtins.TypeError: 'NoneType' object is not subscriptable"},
	{Name: "proxy bad uri", Arg: ClassDict(wire.ClassProxy, "state", ProxyState(0, "nonsense")), Want: "Pyro4.errors.PyroError: invalid uri"},
	{Name: "proxy uri not str", Arg: ClassDict(wire.ClassProxy, "state", ProxyState(0, int64(1))),
		Want: "builtins.TypeError: uri parameter object is of wrong type"},
	{Name: "proxy methods int", Arg: ClassDict(wire.ClassProxy, "state", ProxyState(2, int64(1))),
		Want: "builtins.TypeError: 'int' object is not iterable"},
	{Name: "proxy attrs unhashable", Arg: ClassDict(wire.ClassProxy, "state", ProxyState(3, wire.List{wire.List{}})),
		Want: "builtins.TypeError: unhashable type: 'list'"},
	{Name: "proxy hmac not b64", Arg: ClassDict(wire.ClassProxy, "state", ProxyState(5, "secret")),
		Want: "Pyro4.errors.ProtocolError: hmac encoding error"},
	{Name: "proxy hmac padding", Arg: ClassDict(wire.ClassProxy, "state", ProxyState(5, "b64:abc")),
		Want: "binascii.Error: Incorrect padding"},
	{Name: "proxy hmac one extra", Arg: ClassDict(wire.ClassProxy, "state", ProxyState(5, "b64:abcd e")),
		Want: "binascii.Error: Invalid base64-encoded string: number of data characters (5) cannot be 1 more than a multiple of 4"},
	{Name: "proxy hmac junk skipped", Arg: ClassDict(wire.ClassProxy, "state", ProxyState(5, "b64:YQ==!!"))},
	{Name: "proxy hmac non-ascii", Arg: ClassDict(wire.ClassProxy, "state", ProxyState(5, "b64:aé€b")),
		Want: "builtins.UnicodeEncodeError: 'ascii' codec can't encode characters in position 1-2: ordinal not in range(128)"},
	{Name: "proxy hmac int", Arg: ClassDict(wire.ClassProxy, "state", ProxyState(5, int64(3))),
		Want: "builtins.AttributeError: 'int' object has no attribute 'startswith'"},
	{Name: "proxy hmac bytes", Arg: ClassDict(wire.ClassProxy, "state", ProxyState(5, []byte("b64:"))), Codecs: binaryCodecs,
		Want: "builtins.TypeError: startswith first arg must be bytes or a tuple of bytes, not str"},

	{Name: "pyro error", Arg: ClassDict(wire.ClassNamingError, "args", wire.List{"x"})},
	{Name: "pyro error unknown", Arg: ClassDict("Pyro4.errors.Nope", "args", wire.List{}),
		Want: "builtins.AttributeError: module 'Pyro4.errors' has no attribute 'Nope'"},
	{Name: "pyro error no args", Arg: ClassDict(wire.ClassNamingError), Want: "builtins.KeyError: 'args'"},
	{Name: "pyro error int args", Arg: ClassDict(wire.ClassNamingError, "args", int64(1)),
		Want: "builtins.TypeError: Pyro4.errors.NamingError() argument after * must be an iterable, not int"},
	{Name: "attributes list", Arg: ClassException(wire.ClassValueError, "attributes", wire.List{}),
		Want: "builtins.AttributeError: 'list' object has no attribute 'items'"},
	{Name: "attribute name int", Arg: ClassException(wire.ClassValueError, "attributes", DictOf(int64(1), int64(2))),
		Codecs: seqCodecs, Want: "builtins.TypeError: attribute name must be string, not 'int'"},
	{Name: "attribute args int", Arg: ClassException(wire.ClassValueError, "attributes", DictOf("args", int64(2))),
		Want: "builtins.TypeError: 'int' object is not iterable"},
	{Name: "builtin exception", Arg: ClassException(wire.ClassValueError)},
	{Name: "python 2 exception", Arg: ClassException("exceptions.KeyError")},
	{Name: "bare exception name", Arg: ClassException("NamingError")},
	{Name: "builtin int", Arg: ClassException("builtins.int"), Want: "Pyro4.errors.SerializeError: unsupported serialized class: builtins.int"},
	{Name: "builtin function", Arg: ClassException("builtins.print"), Want: "builtins.TypeError: issubclass() arg 1 must be a class"},
	{Name: "builtin unknown", Arg: ClassException("builtins.Nope"), Want: "builtins.AttributeError: module 'builtins' has no attribute 'Nope'"},
	{Name: "no module", Arg: ClassException("Nope"), Want: "builtins.ValueError: not enough values to unpack (expected 2, got 1)"},
	{Name: "sqlite3 error", Arg: ClassException("sqlite3.OperationalError")},
	{Name: "sqlite3 unknown error", Arg: ClassException("sqlite3.NopeError"), Want: "builtins.AttributeError: module 'sqlite3' has no attribute 'NopeError'"},
	{Name: "sqlite3 other", Arg: ClassException("sqlite3.Row"), Want: "Pyro4.errors.SerializeError: unsupported serialized class: sqlite3.Row"},
	{Name: "custom exception", Arg: ClassException("custom.Error"), Want: "Pyro4.errors.SerializeError: unsupported serialized class: custom.Error"},
	{Name: "exception flag false", Arg: ClassDict(wire.ClassValueError, "__exception__", false, "args", wire.List{}),
		Want: "Pyro4.errors.SerializeError: unsupported serialized class: builtins.ValueError"},
	{Name: "exception wrapper", Arg: WrapperValue(ClassException(wire.ClassValueError))},
	{Name: "exception wrapper plain", Arg: WrapperValue("not an exception")},
	{Name: "exception wrapper bad inner", Arg: WrapperValue(ClassDict("m.C")), Want: "Pyro4.errors.SerializeError: unsupported serialized class: m.C"},
	{Name: "exception wrapper empty", Arg: ClassDict(wire.ExceptionWrapperClass), Want: "builtins.KeyError: 'exception'"},
}

// classCodecs are the codecs whose Pyro4 serializer applies the check.
var classCodecs = []string{"serpent", "json", "marshal", "msgpack"}

func (cc ClassCase) Call() wire.Call {
	c := wire.Call{Object: "obj", Method: "m", Kwargs: cc.Kw}
	if cc.Kw == nil {
		c.Args = []wire.Value{cc.Arg}
	}
	return c
}

func (cc ClassCase) Verdict(codec string) string {
	if codec == "msgpack" && cc.WantMsgpack != "" {
		return cc.WantMsgpack
	}
	return cc.Want
}

func (cc ClassCase) CodecList() []string {
	if cc.Codecs != nil {
		return cc.Codecs
	}
	return classCodecs
}
