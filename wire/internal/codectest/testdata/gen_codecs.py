#!/usr/bin/python3
"""Golden vectors for the json, marshal, msgpack and pickle codecs.

Writes, for every case below, the exact bytes Debian's Pyro4 4.82 serializers
produce (dumps for values, dumpsCall for calls) under <codec>/<case>.bin, and
the same bytes as Go fuzz seeds under ../fuzz/Fuzz<Codec>Decode/.

Extra files:
  marshal/<case>.noref.bin  CPython's marshal bytes with every FLAG_REF cleared,
                            TYPE_REF back-references replaced by a copy of what
                            they refer to, and interned string types replaced
                            by their plain twins. CPython sets those from
                            reference counts and interning, which a value does
                            not carry; the rest (type codes, layout) is what
                            the Go encoder must reproduce byte for byte.
  pickle/<case>.p0.bin, .p2.bin
                            pickle.dumps at protocols 0 and 2 (Python 2 peers,
                            text opcodes), to cover the decoder.

The Go tests import nothing from here except the files, and run
`gen_codecs.py --check DIR`, which loads DIR/<codec>/<case>.bin (bytes the Go
encoder wrote) with Pyro4's serializer and compares with the case's value.

Run from anywhere:  PYTHONHASHSEED=0 /usr/bin/python3 wire/internal/codectest/testdata/gen_codecs.py [CASE...]
(writes wire/<codec>/testdata/golden/<case>.bin and the fuzz seeds beside them)
(with case names, only the files of those cases are written)
(set iteration order depends on the hash seed; the script re-executes itself
with PYTHONHASHSEED=0 when it is not set).
"""

import json
import math
import os
import pickle
import struct
import sys

if os.environ.get("PYTHONHASHSEED") != "0":
    os.environ["PYTHONHASHSEED"] = "0"
    os.execv(sys.executable, [sys.executable] + sys.argv)

import Pyro4.core
import Pyro4.errors
import Pyro4.futures
import Pyro4.util

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_proxy import full_proxy  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
WIRE = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))


def golden_dir(codec):
    return os.path.join(WIRE, codec, "testdata", "golden")


def fuzz_dir(codec):
    return os.path.join(WIRE, codec, "testdata", "fuzz", FUZZ_NAMES[codec])


CODECS = ["json", "marshal", "msgpack", "pickle"]
FUZZ_NAMES = {"json": "FuzzJSONDecode", "marshal": "FuzzMarshalDecode",
              "msgpack": "FuzzMsgpackDecode", "pickle": "FuzzPickleDecode"}

URI = Pyro4.core.URI
Proxy = Pyro4.core.Proxy
Wrapper = Pyro4.futures._ExceptionWrapper  # an exception among batch results

PROXY = full_proxy("PYRO:obj_123@localhost:51234")


def exc(cls, *args, tb=None):
    e = cls(*args)
    if tb is not None:
        e._pyroTraceback = tb
    return e


TB_NAMING = [
    "Traceback (most recent call last):\n",
    '  File "/usr/lib/python3/dist-packages/Pyro4/naming.py", line 97, in lookup\n'
    "    raise NamingError(\"unknown name: \" + name)\n",
    "Pyro4.errors.NamingError: unknown name: nope\n",
]
TB_TYPE = ["Traceback (most recent call last):\n", "TypeError: name must be a str\n"]

NS = "Pyro.NameServer"

CALLS = {
    "call_lookup": (NS, "lookup", ("my.object",), {}),
    "call_lookup_meta": (NS, "lookup", ("my.object",), {"return_metadata": True}),
    "call_register": (NS, "register", ("my.object", "PYRO:obj_123@localhost:51234", False,
                                       {"class:Thing", "role:worker"}), {}),
    "call_register_uri": (NS, "register", ("my.object", URI("PYRO:obj_123@localhost:51234")),
                          {"safe": True, "metadata": {"blue"}}),
    "call_list_prefix": (NS, "list", (), {"prefix": "my.", "return_metadata": True}),
    "call_list_regex": (NS, "list", (), {"regex": r"my\..*", "return_metadata": False}),
    "call_list_meta": (NS, "list", (), {"metadata_all": {"blue", "green"}, "return_metadata": True}),
    "call_ping": (NS, "ping", (), {}),
    "call_nonascii": (NS, "lookup", ("naïve.日本.😀",), {}),
    "call_register_proxy": (NS, "register", ("my.proxy", PROXY), {}),
}

VALUES = {
    "none": None,
    "scalars": [None, True, False, 0, 1, -1, 127, 128, 255, 256, -32, -33, -128, -129, 65535, 65536,
                2147483647, -2147483648, 2147483648, -2147483649, 4294967296],
    "bigints": [2**63 - 1, -2**63, 2**63, 2**64 - 1, 2**64, -2**63 - 1, 2**100, -(2**200),
                12345678901234567890123456789],
    "floats": [0.0, -0.0, 1.5, -2.25, 0.1, 1e16, 1e-5, 1e-4, 123456789.125, 1e300, 5e-324,
               1.7976931348623157e308, float("inf"), float("-inf"), float("nan")],
    "complex": [1 + 2j, -0.5j, complex(1.5, -0.0), complex(float("inf"), 2)],
    "bytes": [b"", b"abc", b"\x00\xff\x80", bytearray(b"xy")],
    "strings": ["", "plain", '"quoted"', "back\\slash", "\n\r\t\b\f", "\x00\x01\x1f\x7f",
                "\u2028\u2029", "</script>", "é", "€uro", "日本語", "😀", "a" * 300, "é" * 200],
    "nonascii_names": {"naïve.ümlaut": "PYRO:obj@localhost:9090", "日本.サービス": "PYRO:日本@localhost:9091",
                       "emoji.😀": "PYRO:x@[::1]:9092"},
    "nested": {"list": [1, [2, [3, []]]], "tuple": (1, (2, ()), []), "dict": {"a": {"b": {}}},
               "mixed": [(), [], {}, "", None]},
    "empty_containers": [[], (), {}, set()],
    "sets": [{1, 2, 3}, frozenset({4, 5}), {"a"}, set(), frozenset()],
    "mixed_keys": {1: "int", 2.5: "float", None: "none", False: "bool", "s": "str"},
    "tuple_keys": {(1, "a"): "tuple", frozenset({1}): "frozenset", b"k": "bytes"},
    "uri": URI("PYRO:obj_123@localhost:51234"),
    "uri_ipv6": URI("PYRO:obj@[::1]:9090"),
    "uri_unix": URI("PYRO:obj@./u:/tmp/pyro.sock"),
    "uri_name": URI("PYRONAME:my.object@localhost:9090"),
    "uri_meta": URI("PYROMETA:blue,green@localhost:9090"),
    "lookup_meta": (URI("PYRO:obj@localhost:9090"), ["class:Thing", "role:worker"]),
    "list_result": {NS: "PYRO:Pyro.NameServer@localhost:9090", "my.object": "PYRO:obj_123@localhost:51234",
                    "naïve": "PYRO:x@localhost:1"},
    "list_result_meta": {NS: ("PYRO:Pyro.NameServer@localhost:9090", ["class:Pyro4.naming.NameServer"]),
                         "my.object": ("PYRO:obj_123@localhost:51234", ["blue", "green"]),
                         "bare": ("PYRO:bare@localhost:2", [])},
    "naming_error": exc(Pyro4.errors.NamingError, "unknown name: nope", tb=TB_NAMING),
    "type_error": exc(TypeError, "name must be a str", tb=TB_TYPE),
    "value_error": exc(ValueError, "you can only filter on one thing at a time"),
    "exception_wrapper": Wrapper(exc(Pyro4.errors.NamingError, "unknown name: nope", tb=TB_NAMING)),
    "batch_results": [2, URI("PYRO:x@localhost:1"), Wrapper(exc(ValueError, "bad"))],
    "proxy": PROXY,
    "proxy_default": Proxy("PYRO:obj@localhost:9090"),
    "handshake": {"handshake": "hello", "object": NS},
    "connectok": {"handshake": "hello",
                  "meta": {"methods": {"count", "list", "lookup", "ping", "register", "remove", "set_metadata"},
                           "oneway": set(), "attrs": set()}},
    "connectok_lists": {"handshake": "hello",
                        "meta": {"methods": ["count", "list", "lookup", "ping", "register", "remove",
                                             "set_metadata"], "oneway": [], "attrs": []}},
}


def serializer(codec):
    return Pyro4.util.get_serializer(codec)


def dump(codec, name):
    ser = serializer(codec)
    if name in CALLS:
        return ser.dumpsCall(*CALLS[name])
    return ser.dumps(VALUES[name])


# --- marshal normalisation -------------------------------------------------

def marshal_noref(data):
    """Re-emit CPython marshal bytes without refs and interning (see above)."""
    pos = 0
    refs = []

    def take(n):
        nonlocal pos
        b = data[pos:pos + n]
        if len(b) != n:
            raise ValueError("truncated marshal data")
        pos += n
        return b

    def obj():
        code = take(1)[0]
        flag, t = code & 0x80, chr(code & 0x7F)
        if t in "0NFTS.":
            return t.encode()
        if t == "r":
            return refs[struct.unpack("<i", take(4))[0]]
        idx = None
        if flag:
            idx = len(refs)
            refs.append(None)
        if t in "ilgy":
            size = {"i": 4, "g": 8, "y": 16}.get(t)
            if t == "l":
                raw = take(4)
                n = abs(struct.unpack("<i", raw)[0])
                out = b"l" + raw + take(2 * n)
            else:
                out = t.encode() + take(size)
        elif t in "zZ":
            n = take(1)
            out = b"z" + n + take(n[0])
        elif t in "aAutsS":
            raw = take(4)
            n = struct.unpack("<i", raw)[0]
            out = {"A": b"a", "t": b"u"}.get(t, t.encode()) + raw + take(n)
        elif t == ")":
            n = take(1)
            out = b")" + n + b"".join(obj() for _ in range(n[0]))
        elif t in "([<>":
            raw = take(4)
            n = struct.unpack("<i", raw)[0]
            out = t.encode() + raw + b"".join(obj() for _ in range(n))
        elif t == "{":
            parts = [b"{"]
            while True:
                k = obj()
                parts.append(k)
                if k == b"0":
                    break
                parts.append(obj())
            out = b"".join(parts)
        else:
            raise ValueError("type code %r not expected in golden data" % t)
        if idx is not None:
            refs[idx] = out
        return out

    out = obj()
    if pos != len(data):
        raise ValueError("trailing marshal data")
    return out


# --- writing ---------------------------------------------------------------

def go_quote(b):
    out = []
    for c in b:
        if 0x20 <= c < 0x7F and c not in (0x22, 0x5C):
            out.append(chr(c))
        else:
            out.append("\\x%02x" % c)
    return '"' + "".join(out) + '"'


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def generate(only):
    written = 0
    for codec in CODECS:
        fuzzdir = fuzz_dir(codec)
        for name in only or list(CALLS) + list(VALUES):
            try:
                data = dump(codec, name)
            except Exception as x:  # Pyro4 itself cannot serialize this value
                print("%s/%s: not serializable by Pyro4 (%s)" % (codec, name, type(x).__name__))
                continue
            write(os.path.join(golden_dir(codec), name + ".bin"), data)
            write(os.path.join(fuzzdir, name), ("go test fuzz v1\n[]byte(%s)\n" % go_quote(data)).encode())
            written += 1
            if codec == "marshal":
                write(os.path.join(golden_dir(codec), name + ".noref.bin"), marshal_noref(data))
            if codec == "pickle" and name in VALUES:
                for proto in (0, 2):
                    extra = pickle.dumps(VALUES[name], proto)
                    write(os.path.join(golden_dir(codec), "%s.p%d.bin" % (name, proto)), extra)
                    write(os.path.join(fuzzdir, "%s.p%d" % (name, proto)),
                          ("go test fuzz v1\n[]byte(%s)\n" % go_quote(extra)).encode())
    print("wrote %d golden vectors" % written)


# --- checking bytes written by the Go encoders --------------------------------

def same(exp, got, codec):
    """exp (a case value) equals got (what Pyro4's serializer loaded) for codec."""
    flat = codec in ("json", "msgpack")  # tuples and sets arrive as lists
    if isinstance(exp, Wrapper):
        return type(got) is Wrapper and same(exp.exception, got.exception, codec)
    if isinstance(exp, BaseException):
        # args is a tuple on both sides whatever travelled: compare as lists
        return (type(got) is type(exp) and same(list(exp.args), list(got.args), codec)
                and same(vars(exp), vars(got), codec))
    if isinstance(exp, Proxy):
        # a rebuilt proxy takes timeout and max_retries from its own config
        keep = (0, 1, 2, 3, 5, 6, 8)
        want, have = exp.__getstate_for_dict__(), got.__getstate_for_dict__() if isinstance(got, Proxy) else ()
        return len(have) == len(want) and all(want[i] == have[i] for i in keep)
    if isinstance(exp, URI):
        return isinstance(got, URI) and same(list(exp.__getstate__()), list(got.__getstate__()), codec)
    if isinstance(exp, (set, frozenset)):
        if not isinstance(got, list if flat else (set, frozenset)) or len(got) != len(exp):
            return False
        rest = list(got)
        for e in exp:
            match = [i for i, g in enumerate(rest) if same(e, g, codec)]
            if not match:
                return False
            del rest[match[0]]
        return True
    if isinstance(exp, (tuple, list)):
        want = list if flat or isinstance(exp, list) else tuple
        return (type(got) is want and len(got) == len(exp)
                and all(same(e, g, codec) for e, g in zip(exp, got)))
    if isinstance(exp, dict):
        if type(got) is not dict or len(got) != len(exp):
            return False
        for (ek, ev), (gk, gv) in zip(exp.items(), got.items()):
            if codec == "json" and not isinstance(ek, str):
                ek = next(iter(json.loads(json.dumps({ek: 0}))))  # json's own key conversion
            if not same(ek, gk, codec) or not same(ev, gv, codec):
                return False
        return True
    if isinstance(exp, (bytes, bytearray)):
        return type(got) is bytes and got == bytes(exp)
    if isinstance(exp, float) and math.isnan(exp):
        return type(got) is float and math.isnan(got)
    if isinstance(exp, float):
        return type(got) is float and got == exp and math.copysign(1, got) == math.copysign(1, exp)
    return type(got) is type(exp) and got == exp


def check(directory):
    failures = 0
    for codec in CODECS:
        cdir = os.path.join(directory, codec)
        if not os.path.isdir(cdir):
            continue
        ser = serializer(codec)
        for fname in sorted(os.listdir(cdir)):
            name = fname[:-4]
            with open(os.path.join(cdir, fname), "rb") as f:
                data = f.read()
            try:
                if name in CALLS:
                    obj, method, vargs, kwargs = ser.loadsCall(data)
                    eobj, emethod, evargs, ekwargs = CALLS[name]
                    ok = (obj == eobj and method == emethod and len(vargs) == len(evargs)
                          and all(same(e, g, codec) for e, g in zip(evargs, vargs))
                          and same(ekwargs, kwargs, codec))
                    got = (obj, method, vargs, kwargs)
                else:
                    got = ser.loads(data)
                    ok = same(VALUES[name], got, codec)
            except Exception as x:
                ok, got = False, "%s: %s" % (type(x).__name__, x)
            if ok:
                print("ok %s/%s" % (codec, name))
            else:
                failures += 1
                print("FAIL %s/%s: got %r" % (codec, name, got))
    return failures


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        sys.exit(1 if check(sys.argv[2]) else 0)
    unknown = [n for n in sys.argv[1:] if n not in CALLS and n not in VALUES]
    if unknown:
        sys.exit("unknown cases: %s" % ", ".join(unknown))
    generate(sys.argv[1:])
