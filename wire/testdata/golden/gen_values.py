#!/usr/bin/python3
"""Golden repr() and == results from Python for the wire value model.

Run from this directory with Debian's interpreter (the one Pyro4 4.82 runs on):

    /usr/bin/python3 gen_values.py

It writes values.json: "repr" pairs a value with Python's repr() of it,
"equal" pairs two values with Python's a == b, "exceptions" pairs Pyro4's
class-dict form of an exception with str() of it, and "printable"/"unassigned"
are the code point ranges for which str.isprintable() holds and which the
Unicode database (of the version given) leaves unassigned.

Values are written in a tagged JSON form that keeps Python's types apart:
null, booleans and strings are themselves; {"int": "12"}, {"float": hex},
{"complex": [hex, hex]}, {"bytes": hex}, {"tuple": [...]}, {"set": [...]}
(in Python's iteration order, which repr uses), {"dict": [[k, v], ...]};
a JSON array is a list. Floats are float.hex() strings, with "nan"/"-nan"
keeping the sign bit.
"""

import json
import math
import os
import random
import struct
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))


def fhex(f):
    if math.isnan(f):
        return "-nan" if math.copysign(1, f) < 0 else "nan"
    return f.hex()


def tagged(v):
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return {"int": str(v)}
    if isinstance(v, float):
        return {"float": fhex(v)}
    if isinstance(v, complex):
        return {"complex": [fhex(v.real), fhex(v.imag)]}
    if isinstance(v, bytes):
        return {"bytes": v.hex()}
    if isinstance(v, tuple):
        return {"tuple": [tagged(x) for x in v]}
    if isinstance(v, list):
        return [tagged(x) for x in v]
    if isinstance(v, set):
        return {"set": [tagged(x) for x in v]}
    if isinstance(v, dict):
        return {"dict": [[tagged(k), tagged(x)] for k, x in v.items()]}
    raise TypeError(type(v))


def nan():
    return float("nan")  # a new object each time, so identity does not make it equal


def ranges(pred):
    out, start = [], None
    for c in range(sys.maxunicode + 2):
        if c <= sys.maxunicode and pred(chr(c)):
            if start is None:
                start = c
        elif start is not None:
            out.append([start, c - 1])
            start = None
    return out


STRINGS = [
    "", "a", "it's", 'say "hi"', "both ' and \"", "'", '"', "back\\slash", "\n\r\t", "\x00\x01\x1f\x7f",
    "\x80\x9f\xa0\xad\xff", "\u00e9\u00fc", "e\u0301", "\u2028\u2029", "\u200b\ufeff", "\u0378", "\ud7ff",
    "\ue000", "\uffff", "\U0001f600", "\U000e0001", "\U0010ffff", "\u65e5\u672c\u8a9e", "\u00a0\u3000\u1680",
    "\x0b\x0c", "tab\there", "\\'", "\U0001d7ce\u0669", "\u0600\u061c", "mixed 'single' \"double\" \\ \x00",
]

FLOATS = [
    1e16, 1e-05, 0.1, -0.0, 0.0, math.inf, -math.inf, nan(), -nan(), 1.0, 1e15, 9999999999999998.0, 0.0001,
    0.00011, 9.999999999999999e-05, 1.5e300, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
    123456789.123, -1.5, 1e22, 1e-7, 100.0, 12345678901234567890.0, 0.30000000000000004, 1.5e16, -1e16,
    123456789012345.6, 1234567890123456.7, 2.5, 1e100, 1e-100,
]

COMPLEXES = [
    1j, complex(1, 2), complex(-0.0, 1), complex(0, -0.0), complex(1, nan()), complex(1, -nan()),
    complex(math.inf, -math.inf), complex(1e16, 1e-5), complex(0.0, 0.0), complex(-1.5, -2.5), complex(nan(), 0),
    complex(0, 1e16), complex(-0.0, -0.0), complex(0.1, 0.2), complex(-nan(), -nan()), complex(2, math.inf),
]

OTHERS = [
    None, True, False, 0, -1, 2 ** 63 - 1, -2 ** 63, 2 ** 64, -(2 ** 100),
    b"", b"abc", b"'", b'"', b"'\"", b"\x00\x7f\x80\xff", b"\\", b"\n\r\t", bytes(range(256)),
    (), (1,), (1, 2), ((1,),), ("a", (None,)), [], [1, "a", None], [[]], [()], set(), {1}, {1, 2, 3},
    {"only"}, {(1, 2)}, {}, {"a": 1, "b": [1, 2]}, {1: {2: 3}}, {(1, 2): "x"}, {None: set()},
    {"objects": {"example.obj": "PYRO:obj@h:1"}, "meta": {"x"}, "t": (1.5, -0.0, 1j, b"b")},
]

EQUAL = [
    (1, 1.0), (1, True), (1.0, True), (0, False), (0, -0.0), (2, True), ((1, 2), [1, 2]), ((1, 2), (1, 2)),
    ([1, [2]], [1, [2.0]]), ({1, 2, 3}, {3, 2, 1}), ({1, 2}, {1, 3}), ({1, 2}, {1, 2, 3}),
    ({"a": 1, "b": 2}, {"b": 2, "a": 1}), ({"a": 1}, {"a": 1.0}), ({"a": 1}, {"a": 2}), ({"a": 1}, {"b": 1}),
    ({1: "x"}, {1.0: "x"}), ({True: "x"}, {1: "x"}), (nan(), nan()), ([nan()], [nan()]), (math.inf, math.inf),
    (math.inf, -math.inf), (complex(1, 0), 1), (1j, 1), (complex(1, 0), 1.0), (complex(1, 0), True),
    (1j, 1j), (complex(0, 0), 0), (2 ** 53 + 1, float(2 ** 53)), (2 ** 53, float(2 ** 53)),
    (2 ** 64, float(2 ** 64)), (2 ** 64 + 1, float(2 ** 64)), (complex(2 ** 53, 0), 2 ** 53 + 1),
    (complex(2 ** 64, 0), 2 ** 64), (-(2 ** 63), float(-(2 ** 63))), (2 ** 63 - 1, float(2 ** 63)),
    (2 ** 1000, math.inf), (10 ** 400, 1e308), ("a", b"a"), (b"a", b"a"), (b"a", b"b"), ("a", "a"),
    (None, None), (None, 0), ("", None), ([], ()), ((), ()), (set(), set()), (set(), {}), ({}, {}),
    ([], []), ({"k": [1, (2, 3)]}, {"k": [1.0, (2, 3.0)]}), ({"k": [1, (2, 3)]}, {"k": [1, [2, 3]]}),
    ({1, "a"}, {"a", 1}), ({(1, 2)}, {(1.0, 2.0)}), (0.1 + 0.2, 0.3), (-0.0, 0.0), (1, "1"), (True, "True"),
    ({"a": None}, {}), ([1, 2], [2, 1]),
]


def random_floats():
    """floats of every magnitude, and around the exponent-form thresholds"""
    rnd = random.Random(48)
    out = []
    for _ in range(150):
        f = struct.unpack("<d", struct.pack("<Q", rnd.getrandbits(64)))[0]
        if not math.isnan(f):
            out.append(f)
    for base in (1e16, 1e-4):
        for _ in range(25):
            out.append(base * (1 + rnd.uniform(-1e-15, 1e-15)))
            out.append(base * rnd.uniform(0.5, 2))
    for _ in range(50):
        out.append(round(rnd.uniform(-1e6, 1e6), rnd.randint(0, 8)))
    return out


def exceptions():
    """Pyro4's class-dict form of exceptions, with str() of each"""
    from Pyro4 import errors, util
    with_tb = errors.NamingError("unknown name: x")
    with_tb._pyroTraceback = ["Traceback (most recent call last):\n", "  ...\n", "NamingError: unknown name: x\n"]
    custom = errors.CommunicationError("cannot connect", 111)
    custom.extra = {"k": (1, 2)}
    cases = [
        errors.NamingError("unknown name: x"), errors.PyroError(), errors.SecurityError("message hmac mismatch"),
        errors.ProtocolError("a", 1), with_tb, custom, ValueError(5), KeyError("k"), KeyError(),
        KeyError("a", "b"), TypeError(None), Exception(b"x"), Exception((1, 2)), Exception([1, "a"]),
        Exception(""), Exception(1.5, -0.0), AttributeError("no attribute 'x'"),
    ]
    return [[tagged(util.SerializerBase.class_to_dict(e)), str(e)] for e in cases]


def main():
    out = {
        "python": sys.version.split()[0],
        "unicode": unicodedata.unidata_version,
        "printable": ranges(str.isprintable),
        "unassigned": ranges(lambda c: unicodedata.category(c) == "Cn"),
        "repr": [[tagged(v), repr(v)] for v in STRINGS + FLOATS + COMPLEXES + OTHERS + random_floats()],
        "equal": [[tagged(a), tagged(b), a == b] for a, b in EQUAL],
        "exceptions": exceptions(),
    }
    with open(os.path.join(HERE, "values.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
