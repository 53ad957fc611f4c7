package serpent

import (
	"math"
	"math/big"
	"strings"
	"testing"

	"github.com/pyro4/pyro4/wire"
	"github.com/pyro4/pyro4/wire/internal/codectest"
)

// The golden files are made by testdata/gen_serpent.py with the real
// Pyro4; regenerate with: /usr/bin/python3 wire/serpent/testdata/gen_serpent.py
const goldenDir = "testdata/golden"

const nsName = "Pyro.NameServer"

func deepList(n int) wire.Value {
	var v wire.Value = "bottom"
	for i := 0; i < n; i++ {
		v = wire.List{v}
	}
	return v
}

var (
	tbNaming = []string{
		"Traceback (most recent call last):\n",
		"  File \"/usr/lib/python3/dist-packages/Pyro4/naming.py\", line 91, in lookup\n    uri, metadata = self.storage[name]\n",
		"KeyError: 'nope'\n",
		"\nDuring handling of the above exception, another exception occurred:\n\n",
		"Pyro4.errors.NamingError: unknown name: nope\n",
	}
	tbType = []string{
		"Traceback (most recent call last):\n",
		"  File \"/usr/lib/python3/dist-packages/Pyro4/core.py\", line 1511, in handleRequest\n    data = method(*vargs, **kwargs)  # this is the actual method call to the Pyro object\n",
		"TypeError: NameServer.lookup() missing 1 required positional argument: 'name'\n",
	}
	nsMethods = []string{"remove", "count", "list", "register", "lookup", "ping", "set_metadata"}
	nested    = codectest.DictOf("a", wire.List{int64(1), wire.Tuple{int64(2), int64(3)}, codectest.DictOf("b", nil)}, "c", wire.Tuple{codectest.DictOf(int64(1), "x")},
		"d", wire.List{wire.List{}, wire.Tuple{}, &wire.Dict{}}, "e", wire.Tuple{int64(4)})
)

func strSet(s ...string) wire.Set { return wire.Set(codectest.StrList(s)) }

// goldenCase is one golden file. value is what we encode (a Call for call_
// cases); decoded, when set, is what the file decodes to if that differs
// (bytes arrive as serpent's base64 dict, an empty set as an empty tuple).
// Cases named indent_ and literal_ are forms only the decoder sees.
type goldenCase struct {
	name    string
	value   any
	decoded wire.Value
}

var goldenCases = []goldenCase{
	{"call_lookup", wire.Call{Object: nsName, Method: "lookup", Args: []wire.Value{"example.greeting"}}, nil},
	{"call_lookup_meta", wire.Call{Object: nsName, Method: "lookup", Args: []wire.Value{"example.greeting"}, Kwargs: codectest.DictOf("return_metadata", true)}, nil},
	{"call_register", wire.Call{Object: nsName, Method: "register",
		Args:   []wire.Value{"example.greeting", codectest.URIValue("PYRO:obj_5b1e@127.0.0.1:51234")},
		Kwargs: codectest.DictOf("safe", true, "metadata", strSet("class:Greeter", "blue"))}, nil},
	{"call_register_str", wire.Call{Object: nsName, Method: "register", Args: []wire.Value{"example.x", "PYRO:obj_x@localhost:4567", true}}, nil},
	{"call_set_metadata", wire.Call{Object: nsName, Method: "set_metadata", Args: []wire.Value{"example.greeting", strSet("red", "green", "blue")}}, nil},
	{"call_list_meta", wire.Call{Object: nsName, Method: "list", Kwargs: codectest.DictOf("return_metadata", true)}, nil},
	{"call_list_prefix", wire.Call{Object: nsName, Method: "list", Kwargs: codectest.DictOf("prefix", "example.", "return_metadata", true)}, nil},
	{"call_list_metadata_all", wire.Call{Object: nsName, Method: "list", Kwargs: codectest.DictOf("metadata_all", wire.List{"blue"}, "return_metadata", true)}, nil},
	{"call_remove", wire.Call{Object: nsName, Method: "remove", Kwargs: codectest.DictOf("prefix", "example.")}, nil},
	{"call_ping", wire.Call{Object: nsName, Method: "ping"}, nil},
	{"call_lookup_nonascii", wire.Call{Object: nsName, Method: "lookup", Args: []wire.Value{"中文.é.😀"}}, nil},
	{"call_get_metadata", wire.Call{Object: "Pyro.Daemon", Method: "get_metadata", Args: []wire.Value{nsName}}, nil},
	{"call_register_proxy", wire.Call{Object: nsName, Method: "register",
		Args: []wire.Value{"example.proxy", codectest.GoldenProxy("PYRO:obj_5b1e@127.0.0.1:51234").Value()}}, nil},

	{"handshake", codectest.DictOf("handshake", "hello", "object", nsName), nil},
	{"connectok", codectest.DictOf("handshake", "hello", "meta", codectest.DictOf("methods", codectest.StrList(nsMethods), "oneway", wire.List{}, "attrs", wire.List{})), nil},
	{"connectok_sets", codectest.DictOf("handshake", "hello", "meta", codectest.DictOf("methods", strSet(nsMethods...), "oneway", wire.Set{}, "attrs", wire.Set{})),
		codectest.DictOf("handshake", "hello", "meta", codectest.DictOf("methods", strSet(nsMethods...), "oneway", wire.Tuple{}, "attrs", wire.Tuple{}))},

	{"result_none", nil, nil},
	{"result_count", int64(42), nil},
	{"result_uri", codectest.URIValue("PYRO:obj_5b1e@127.0.0.1:51234"), nil},
	{"result_uri_meta", wire.Tuple{codectest.URIValue("PYRO:obj_5b1e@localhost:51234"), wire.List{"class:Greeter"}}, nil},
	{"proxy", codectest.GoldenProxy("PYRO:obj_5b1e@127.0.0.1:51234").Value(), nil},
	{"proxy_default", codectest.DefaultProxy("PYRO:obj@localhost:9090").Value(), nil},
	{"uri_pyroname", codectest.URIValue("PYRONAME:example.greeting@localhost:9999"), nil},
	{"uri_pyroname_bare", codectest.URIValue("PYRONAME:example.greeting"), nil},
	{"uri_pyrometa", codectest.URIValue("PYROMETA:blue,class:Greeter@localhost"), nil},
	{"uri_unixsock", codectest.URIValue("PYRO:obj@./u:/tmp/pyro.sock"), nil},
	{"uri_ipv6", codectest.URIValue("PYRO:obj@[::1]:9090"), nil},
	{"list_result", codectest.DictOf(nsName, "PYRO:Pyro.NameServer@127.0.0.1:9090", "example.greeting", "PYRO:obj_5b1e@127.0.0.1:51234",
		"é.中文.😀", "PYRO:obj_2@127.0.0.1:51235"), nil},
	{"list_result_meta", codectest.DictOf(
		nsName, wire.Tuple{"PYRO:Pyro.NameServer@127.0.0.1:9090", wire.List{"class:Pyro4.naming.NameServer"}},
		"example.greeting", wire.Tuple{"PYRO:obj_5b1e@127.0.0.1:51234", wire.List{"blue", "class:Greeter"}},
		"example.none", wire.Tuple{"PYRO:obj_3@127.0.0.1:51236", wire.List{}}), nil},
	{"list_result_empty", &wire.Dict{}, nil},
	{"exc_naming", (&wire.Exception{Class: wire.ClassNamingError, Message: "unknown name: nope"}).WithTraceback(tbNaming).Value(), nil},
	{"exc_type", (&wire.Exception{Class: wire.ClassTypeError, Message: "NameServer.lookup() missing 1 required positional argument: 'name'"}).WithTraceback(tbType).Value(), nil},
	{"exc_pyro_noattrs", (&wire.Exception{Class: wire.ClassPyroError, Message: "invalid uri"}).Value(), nil},
	{"exc_value_args", (&wire.Exception{Class: wire.ClassValueError, Args: wire.Tuple{"bad", int64(2), nil}}).Value(), nil},

	{"true", true, nil},
	{"false", false, nil},
	{"ints", wire.List{int64(0), int64(-1), int64(7), int64(math.MaxInt64), int64(math.MinInt64)}, nil},
	{"bigints", wire.List{codectest.BigInt("9223372036854775808"), codectest.BigInt("-9223372036854775809"), codectest.BigInt("18446744073709551616"),
		new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), 100)), new(big.Int).Exp(big.NewInt(10), big.NewInt(50), nil),
		new(big.Int).Exp(big.NewInt(3), big.NewInt(300), nil)}, nil},
	{"floats", wire.List{0.0, math.Copysign(0, -1), 1.5, -2.25, 0.1, 1.0 / 3, 1e16, 9999999999999998.0, 1e-4, 1e-5,
		123456789.123456789, 1e300, -1e-300, 5e-324, math.MaxFloat64, float64(1<<53 + 2), 1e22, 100.0}, nil},
	{"float_inf", math.Inf(1), nil},
	{"float_ninf", math.Inf(-1), nil},
	{"float_nan", math.NaN(), nil},
	{"floats_special_nested", codectest.DictOf("inf", math.Inf(1), "ninf", math.Inf(-1), "nan", wire.List{math.NaN()}), nil},
	{"complex", wire.List{complex(1, 2), complex(-1.5, -0.25), complex(0, 3), complex(math.Inf(1), math.Inf(-1)), complex(0, 0),
		complex(-1, 0), complex(0, 1e20)}, nil},
	{"str_empty", "", nil},
	{"str_plain", "hello world", nil},
	{"str_single_quote", "it's", nil},
	{"str_double_quote", `say "hi"`, nil},
	{"str_both_quotes", `it's "both"`, nil},
	{"str_backslash", `C:\path\to\file \n`, nil},
	{"str_whitespace", "line1\nline2\r\n\ttab", nil},
	{"str_control", "\x00\x01\x07\x08\x0b\x0c\x1b\x1f\x7f", nil},
	{"str_latin1", "\u0080\u009f\u00a0\u00ad\u00e9\u00ff café", nil},
	{"str_unicode_nonprint", "\u2028\u2029\u200b\u200e\ue000\ufeff\U0010ffff\U000e0001\u3000", nil},
	{"str_nonascii", "é 中文 😀 \u0301e\u0301 Ω ß \U0001f1f3\U0001f1f1", nil},
	{"bytes", []byte("\x00\x01\xfe\xffhello"), codectest.DictOf("data", "AAH+/2hlbGxv", "encoding", "base64")},
	{"bytes_empty", []byte{}, codectest.DictOf("data", "", "encoding", "base64")},
	{"bytearray", []byte("abc"), codectest.DictOf("data", "YWJj", "encoding", "base64")},

	{"empty_tuple", wire.Tuple{}, nil},
	{"empty_list", wire.List{}, nil},
	{"empty_dict", &wire.Dict{}, nil},
	{"empty_set", wire.Set{}, wire.Tuple{}},
	{"tuple_one", wire.Tuple{int64(1)}, nil},
	{"tuple_nested_one", wire.Tuple{wire.Tuple{wire.Tuple{"x"}}}, nil},
	{"nested", nested, nil},
	{"dict_keys", codectest.DictOf(int64(1), "int", 2.5, "float", wire.Tuple{int64(1), "a", nil}, "tuple", false, "bool", "s", "str",
		complex(0, 1), "complex", int64(-3), "neg", codectest.BigInt("1180591620717411303424"), "big", wire.Tuple{}, "empty tuple"), nil},
	{"set_ints", wire.Set{int64(1), int64(2), int64(3)}, nil},
	{"frozenset", strSet("b", "a"), nil},
	{"set_strs", strSet("red", "green", "blue", "é"), nil},
	{"set_one", strSet("only"), nil},
	{"mixed_list", wire.List{nil, true, int64(1), 1.0, "1", wire.Tuple{int64(1)}, wire.List{int64(1)}, codectest.DictOf(int64(1), int64(1)), wire.Set{int64(1)}}, nil},
	{"deep", deepList(150), nil},

	{"indent_nested", nested, nil},
	{"indent_list_result", codectest.DictOf("a.name", wire.Tuple{"PYRO:a@h:1", wire.List{}}, "b.name", wire.Tuple{"PYRO:b@h:1", wire.List{"x", "y"}}), nil},
	{"indent_sets", codectest.DictOf("e", wire.Tuple{}, "s", wire.Set{int64(1), int64(2), int64(3)}, "t", wire.Tuple{int64(1)}), nil},
	{"literal_repr_complex", wire.Tuple{complex(0, -1), complex(0, 3), complex(1, 2), complex(math.Copysign(0, -1), -2.5), complex(1e300, 1e-300)}, nil},
	{"literal_numbers", wire.List{int64(31), int64(15), int64(5), int64(1000), int64(0), int64(0), 1000.0, 0.5, 5.0, complex(0, 0.01),
		105000000000.0, int64(-16), int64(3), int64(-7), int64(255), int64(3), math.Inf(1), math.Inf(-1), 0.0,
		codectest.BigInt("99999999999999999999999999"), int64(-1), complex(0, 777), 777.5}, nil},
	{"literal_strings", wire.List{"abcd", "tri\nple \"q\" ", `\d+\'`, `\n`, "u", "A", "A\a\x00\u01ff", "\a\b\f\n\r\t\v\\'\"",
		`\q\8\9`, "Aé😀", "continued", []byte("\x00\xffA\\u1234\\N{x}"), []byte(`\x00`), []byte(`\'`), []byte("ab")}, nil},
	{"literal_layout", codectest.DictOf("a", int64(1), "b", wire.Tuple{int64(2)}), nil},
	{"literal_no_header", codectest.DictOf("k", wire.List{int64(1), int64(2)}, "set", wire.Set{}, "dup", int64(2), int64(1), "c"), nil},
	{"literal_toplevel_tuple", wire.Tuple{int64(1), "two", wire.Tuple{int64(3)}}, nil},
	{"literal_nan_class", math.NaN(), nil},
	{"literal_crlf", wire.List{"a\nb", "c"}, nil},
}

func (c goldenCase) isCall() bool { return strings.HasPrefix(c.name, "call_") }

// decodeOnly cases are forms Pyro4 never sends; we only read them.
func (c goldenCase) decodeOnly() bool {
	return strings.HasPrefix(c.name, "indent_") || strings.HasPrefix(c.name, "literal_")
}

func (c goldenCase) want() wire.Value {
	if c.decoded != nil {
		return c.decoded
	}
	return c.value
}

// encode is our bytes for the case: what we would send for its value.
func (c goldenCase) encode(t *testing.T) []byte {
	t.Helper()
	sc := codec{}
	var out []byte
	var err error
	if c.isCall() {
		out, err = wire.MarshalCall(sc, c.value.(wire.Call))
	} else if c.decodeOnly() {
		out, err = sc.Marshal(c.want())
	} else {
		out, err = sc.Marshal(c.value)
	}
	if err != nil {
		t.Fatalf("%s: encode: %v", c.name, err)
	}
	if !c.isCall() {
		// AppendMarshal must give Marshal's bytes after whatever dst holds.
		v := c.value
		if c.decodeOnly() {
			v = c.want()
		}
		app, err := sc.AppendMarshal([]byte("prefix"), v)
		if err != nil || string(app) != "prefix"+string(out) {
			t.Errorf("%s: AppendMarshal = %q, %v; want prefix+%q", c.name, app, err, out)
		}
	}
	return out
}
