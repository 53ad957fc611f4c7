#!/usr/bin/python3
"""Golden vectors for the serpent codec, made by the real Pyro4 4.82 and serpent 1.41.

    /usr/bin/python3 gen_serpent.py              writes golden/<case>.serpent beside this script
    /usr/bin/python3 gen_serpent.py --check DIR  reads DIR/<case>.serpent (another encoder's
                                                 bytes for the same cases) and prints
                                                 "ok <case>" or "FAIL <case>: why" per file

Each case has a mode:
  dumps   the bytes Pyro4's SerpentSerializer.dumps(value) sends (replies, handshakes)
  call    the bytes SerpentSerializer.dumpsCall(obj, method, vargs, kwargs) sends (requests)
  indent  serpent.dumps(value, indent=True): the multi-line form serpent.loads also reads
  literal a literal written by hand in Python syntax, for forms serpent itself never writes

Generation runs with PYTHONHASHSEED=0 so that set order, and thus the output, is stable.
In --check mode (run it with PYTHONHASHSEED=0 too) another encoder's bytes pass when Pyro4
decodes them to a value equal (types included, nan equal to nan) to what it decodes from its
own bytes for the case.
"""
import math
import os
import sys

if __name__ == "__main__" and "--check" not in sys.argv and os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import serpent
import Pyro4.core
import Pyro4.errors
import Pyro4.naming
import Pyro4.util

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "internal", "codectest", "testdata"))
from golden_proxy import full_proxy  # noqa: E402

NS = "Pyro.NameServer"
URI = Pyro4.core.URI

PROXY = full_proxy("PYRO:obj_5b1e@127.0.0.1:51234")


def exc(e, traceback=None):
    if traceback is not None:
        e._pyroTraceback = traceback
    return e


TB_NAMING = [
    "Traceback (most recent call last):\n",
    '  File "/usr/lib/python3/dist-packages/Pyro4/naming.py", line 91, in lookup\n'
    "    uri, metadata = self.storage[name]\n",
    "KeyError: 'nope'\n",
    "\nDuring handling of the above exception, another exception occurred:\n\n",
    "Pyro4.errors.NamingError: unknown name: nope\n",
]
TB_TYPE = [
    "Traceback (most recent call last):\n",
    '  File "/usr/lib/python3/dist-packages/Pyro4/core.py", line 1511, in handleRequest\n'
    "    data = method(*vargs, **kwargs)  # this is the actual method call to the Pyro object\n",
    "TypeError: NameServer.lookup() missing 1 required positional argument: 'name'\n",
]

META_LISTS = Pyro4.util.get_exposed_members(Pyro4.naming.NameServer, as_lists=True)
META_SETS = Pyro4.util.get_exposed_members(Pyro4.naming.NameServer, as_lists=False)


def nested(depth):
    v = "bottom"
    for _ in range(depth):
        v = [v]
    return v


NESTED = {"a": [1, (2, 3), {"b": None}], "c": ({1: "x"},), "d": [[], (), {}], "e": (4,)}

CASES = [
    # requests the name server receives
    ("call_lookup", "call", (NS, "lookup", ("example.greeting",), {})),
    ("call_lookup_meta", "call", (NS, "lookup", ("example.greeting",), {"return_metadata": True})),
    ("call_register", "call", (NS, "register", ("example.greeting", URI("PYRO:obj_5b1e@127.0.0.1:51234")),
                               {"safe": True, "metadata": {"class:Greeter", "blue"}})),
    ("call_register_str", "call", (NS, "register", ("example.x", "PYRO:obj_x@localhost:4567", True), {})),
    ("call_set_metadata", "call", (NS, "set_metadata", ("example.greeting", {"red", "green", "blue"}), {})),
    ("call_list_meta", "call", (NS, "list", (), {"return_metadata": True})),
    ("call_list_prefix", "call", (NS, "list", (), {"prefix": "example.", "return_metadata": True})),
    ("call_list_metadata_all", "call", (NS, "list", (), {"metadata_all": ["blue"], "return_metadata": True})),
    ("call_remove", "call", (NS, "remove", (), {"prefix": "example."})),
    ("call_ping", "call", (NS, "ping", (), {})),
    ("call_lookup_nonascii", "call", (NS, "lookup", ("中文.é.😀",), {})),
    ("call_get_metadata", "call", ("Pyro.Daemon", "get_metadata", (NS,), {})),
    ("call_register_proxy", "call", (NS, "register", ("example.proxy", PROXY), {})),
    # handshake
    ("handshake", "dumps", {"handshake": "hello", "object": NS}),
    ("connectok", "dumps", {"handshake": "hello", "meta": META_LISTS}),
    ("connectok_sets", "dumps", {"handshake": "hello", "meta": META_SETS}),
    # replies
    ("result_none", "dumps", None),
    ("result_count", "dumps", 42),
    ("result_uri", "dumps", URI("PYRO:obj_5b1e@127.0.0.1:51234")),
    ("result_uri_meta", "dumps", (URI("PYRO:obj_5b1e@localhost:51234"), ["class:Greeter"])),
    ("uri_pyroname", "dumps", URI("PYRONAME:example.greeting@localhost:9999")),
    ("uri_pyroname_bare", "dumps", URI("PYRONAME:example.greeting")),
    ("uri_pyrometa", "dumps", URI("PYROMETA:blue,class:Greeter@localhost")),
    ("uri_unixsock", "dumps", URI("PYRO:obj@./u:/tmp/pyro.sock")),
    ("uri_ipv6", "dumps", URI("PYRO:obj@[::1]:9090")),
    ("proxy", "dumps", PROXY),
    ("proxy_default", "dumps", Pyro4.core.Proxy("PYRO:obj@localhost:9090")),
    ("list_result", "dumps", {NS: "PYRO:Pyro.NameServer@127.0.0.1:9090",
                              "example.greeting": "PYRO:obj_5b1e@127.0.0.1:51234",
                              "é.中文.😀": "PYRO:obj_2@127.0.0.1:51235"}),
    ("list_result_meta", "dumps", {NS: ("PYRO:Pyro.NameServer@127.0.0.1:9090", ["class:Pyro4.naming.NameServer"]),
                                   "example.greeting": ("PYRO:obj_5b1e@127.0.0.1:51234", ["blue", "class:Greeter"]),
                                   "example.none": ("PYRO:obj_3@127.0.0.1:51236", [])}),
    ("list_result_empty", "dumps", {}),
    ("exc_naming", "dumps", exc(Pyro4.errors.NamingError("unknown name: nope"), TB_NAMING)),
    ("exc_type", "dumps", exc(TypeError("NameServer.lookup() missing 1 required positional argument: 'name'"), TB_TYPE)),
    ("exc_pyro_noattrs", "dumps", Pyro4.errors.PyroError("invalid uri")),
    ("exc_value_args", "dumps", ValueError("bad", 2, None)),
    # scalars
    ("true", "dumps", True),
    ("false", "dumps", False),
    ("ints", "dumps", [0, -1, 7, 2 ** 63 - 1, -2 ** 63]),
    ("bigints", "dumps", [2 ** 63, -2 ** 63 - 1, 2 ** 64, -2 ** 100, 10 ** 50, 3 ** 300]),
    ("floats", "dumps", [0.0, -0.0, 1.5, -2.25, 0.1, 1 / 3, 1e16, 9999999999999998.0, 1e-4, 1e-5, 123456789.123456789,
                         1e300, -1e-300, 5e-324, 1.7976931348623157e308, 2.0 ** 53 + 2, 1e22, 100.0]),
    ("float_inf", "dumps", math.inf),
    ("float_ninf", "dumps", -math.inf),
    ("float_nan", "dumps", math.nan),
    ("floats_special_nested", "dumps", {"inf": math.inf, "ninf": -math.inf, "nan": [math.nan]}),
    ("complex", "dumps", [1 + 2j, -1.5 - 0.25j, 3j, complex(math.inf, -math.inf), 0j, complex(-1, 0), 1e20j]),
    ("str_empty", "dumps", ""),
    ("str_plain", "dumps", "hello world"),
    ("str_single_quote", "dumps", "it's"),
    ("str_double_quote", "dumps", 'say "hi"'),
    ("str_both_quotes", "dumps", "it's \"both\""),
    ("str_backslash", "dumps", "C:\\path\\to\\file \\n"),
    ("str_whitespace", "dumps", "line1\nline2\r\n\ttab"),
    ("str_control", "dumps", "\x00\x01\x07\x08\x0b\x0c\x1b\x1f\x7f"),
    ("str_latin1", "dumps", "\x80\x9f\xa0\xad\xe9\xff café"),
    ("str_unicode_nonprint", "dumps", "\u2028\u2029\u200b\u200e\ue000\ufeff\U0010ffff\U000e0001\u3000"),
    ("str_nonascii", "dumps", "é 中文 😀 \u0301e\u0301 Ω ß \U0001f1f3\U0001f1f1"),
    ("bytes", "dumps", b"\x00\x01\xfe\xffhello"),
    ("bytes_empty", "dumps", b""),
    ("bytearray", "dumps", bytearray(b"abc")),
    # containers
    ("empty_tuple", "dumps", ()),
    ("empty_list", "dumps", []),
    ("empty_dict", "dumps", {}),
    ("empty_set", "dumps", set()),
    ("tuple_one", "dumps", (1,)),
    ("tuple_nested_one", "dumps", ((("x",),),)),
    ("nested", "dumps", NESTED),
    ("dict_keys", "dumps", {1: "int", 2.5: "float", (1, "a", None): "tuple", False: "bool", "s": "str", 1j: "complex",
                            -3: "neg", 2 ** 70: "big", (): "empty tuple"}),
    ("set_ints", "dumps", {3, 1, 2}),
    ("frozenset", "dumps", frozenset(["b", "a"])),
    ("set_strs", "dumps", {"red", "green", "blue", "é"}),
    ("set_one", "dumps", {"only"}),
    ("mixed_list", "dumps", [None, True, 1, 1.0, "1", (1,), [1], {1: 1}, {1}]),
    ("deep", "dumps", nested(150)),
    # decode-only forms
    ("indent_nested", "indent", NESTED),
    ("indent_list_result", "indent", {"b.name": ("PYRO:b@h:1", ["x", "y"]), "a.name": ("PYRO:a@h:1", [])}),
    ("indent_sets", "indent", {"s": {3, 1, 2}, "t": (1,), "e": set()}),
    ("literal_repr_complex", "literal", b"((-0-1j), 3j, (1+2j), -2.5j, (1e+300+1e-300j))"),
    ("literal_numbers", "literal",
     b"[0x1F, 0o17, 0b101, 1_000, 0_0, 00, 1e3, .5, 5., 1E-2j, 1_0.5e1_0, -0x10, +3, - 7, 0XfF, 0B1_1, "
     b"1e30000, -1e30000, 1e-400, 99999999999999999999999999, -(1), 0777j, 0777.5]"),
    ("literal_strings", "literal",
     b"['a' \"b\" '''c''' \"\"\"d\"\"\", '''tri\nple \"q\" ''', r'\\d+\\'', R\"\\n\", u'u', U'\\x41', "
     b"'\\101\\7\\0\\777', '\\a\\b\\f\\n\\r\\t\\v\\\\\\'\\\"', '\\q\\8\\9', '\\x41\\u00e9\\U0001F600', "
     b"'cont\\\ninued', b'\\x00\\xff\\101\\u1234\\N{x}', rb'\\x00', Br'\\'', b'a' b'b']"),
    ("literal_layout", "literal",
     b"# serpent utf-8 python3.2\n# a second comment\n\n{  # open\n 'a' :\n  1 ,\n\t'b':(\n2\n,)\n ,}  \n\n# end\n"),
    ("literal_no_header", "literal", b"{'k': [1, 2], 'set': set(), 'dup': 1, 'dup': 2, 1: 'a', 1.0: 'b', True: 'c'}"),
    ("literal_toplevel_tuple", "literal", b"1, 'two', (3,),"),
    ("literal_nan_class", "literal", b"{'__class__':'float','value':'nan'}"),
    ("literal_crlf", "literal", b"# serpent utf-8 python3.2\r\n['''a\r\nb''',\r\n 'c']\r\n"),
]


def golden(mode, value):
    ser = Pyro4.util.SerpentSerializer()
    if mode == "dumps":
        return ser.dumps(value)
    if mode == "call":
        return ser.dumpsCall(*value)
    if mode == "indent":
        return serpent.dumps(value, indent=True, module_in_classname=True)
    if mode == "literal":
        return value
    raise ValueError(mode)


def same(a, b):
    """Equality with types, nan == nan and -0.0 != 0.0; exceptions by class, args and attributes."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (float, complex)):
        return repr(a) == repr(b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, BaseException):
        return same(a.args, b.args) and same(vars(a), vars(b))
    if isinstance(a, Pyro4.core.Proxy):
        return same(a.__getstate_for_dict__(), b.__getstate_for_dict__())
    return a == b


def check(directory):
    ser = Pyro4.util.SerpentSerializer()
    failed = False
    for name, mode, value in CASES:
        path = os.path.join(directory, name + ".serpent")
        if not os.path.exists(path):
            continue
        with open(path, "rb") as f:
            ours = f.read()
        theirs = golden(mode, value)
        try:
            if mode in ("indent", "literal"):
                # what Pyro4 would receive had it sent the value itself: bytes as a
                # base64 dict, an empty set as an empty tuple
                theirs = ser.dumps(ser.loads(theirs))
            if mode == "call":
                got, want = ser.loadsCall(ours), ser.loadsCall(theirs)
            else:
                got, want = ser.loads(ours), ser.loads(theirs)
            raw_ok = same(serpent.loads(ours), serpent.loads(theirs))
        except Exception as e:  # noqa: BLE001 - any failure is a finding
            print("FAIL %s: %s: %s" % (name, type(e).__name__, e))
            failed = True
            continue
        if same(got, want) and raw_ok:
            print("ok " + name)
        else:
            print("FAIL %s: got %r, want %r" % (name, got, want))
            failed = True
    return 1 if failed else 0


def generate(directory):
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):
        if name.endswith(".serpent"):
            os.remove(os.path.join(directory, name))
    for name, mode, value in CASES:
        data = golden(mode, value)
        serpent.loads(data)  # every golden file must be readable by serpent itself
        with open(os.path.join(directory, name + ".serpent"), "wb") as f:
            f.write(data)
    print("wrote %d cases to %s" % (len(CASES), directory))


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        sys.exit(check(sys.argv[2]))
    here = os.path.dirname(os.path.abspath(__file__))
    generate(os.path.join(here, "golden"))
