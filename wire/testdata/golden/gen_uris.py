#!/usr/bin/python3
"""Golden URI parsing results from the real Pyro4 (4.82) core.URI.

Run from this directory with Debian's interpreter:

    /usr/bin/python3 gen_uris.py

It writes uris.json: for every input string, whether core.URI accepts it,
the error (class and text) when it does not, and otherwise the parsed
fields, the asString() form, the class-dict form the serializers send, and
whether the string form parses again to an equal URI. PYROMETA members are
a set in Python, so they are written sorted. The file also carries the
Unicode facts the parser depends on (str.isspace, str.isdecimal) and the
Unicode version they come from.
"""

import json
import os
import sys
import unicodedata

from Pyro4 import core, errors, util
from Pyro4.configuration import config

config.NS_PORT = 9090

HERE = os.path.dirname(os.path.abspath(__file__))

INPUTS = [
    # the ordinary forms
    "PYRO:obj@host:9090", "PYRO:Pyro.NameServer@localhost:9090", "PYRO:obj_2d3c@127.0.0.1:50000",
    "PYRONAME:name", "PYRONAME:Pyro.NameServer", "PYRONAME:name@host", "PYRONAME:name@host:1234",
    "PYRONAME:name@host:", "PYROMETA:a,b", "PYROMETA:a,b@host", "PYROMETA:a,b@host:5555",
    # protocol spelling
    "pyro:obj@host:9090", "PyRo:obj@host:9090", "pyroname:name", "pyroNAME:x", "pyrometa:x@host:99",
    "FOO:obj@host:9090", "PYROX:obj@host:9090", "PYRO2:obj@h:1", "PYR:obj@h:1", "PYRONAMEX:n",
    " PYRO:obj@h:1", "PYRO :obj@h:1", "PYRO", "PYRO:", "", ":obj@h:1",
    # PYROMETA members
    "PYROMETA:a, b", "PYROMETA:b,a,a", "PYROMETA:a,,b", "PYROMETA:,", "PYROMETA:x", "PYROMETA:a b",
    "PYROMETA:a,b@./u:sock", "PYROMETA:\u00e9t\u00e9,\u00e0",
    # missing or empty parts
    "PYRO:obj", "PYRO:obj@", "PYRO:@host:9090", "PYRO:obj@host", "PYRO:obj@host:", "PYRO:obj@:9090",
    "PYRO:obj@:", "PYRO:obj@:0", "PYRONAME:n@:9090", "PYRONAME:n@:", "PYRONAME:n@", "PYRONAME:", "PYROMETA:",
    # '@' inside
    "PYRO:a@b@host:9090", "PYRO:obj@@host:1", "PYRO:obj@host:9090@x", "PYRONAME:a@b@c", "PYRO:a@@", "PYRONAME:n@@",
    # whitespace and newlines
    "PYRO:o b@host:9090", "PYRO:obj@ho st:9090", "PYRO:obj@host:9090 ", "PYRO:obj@host: 9090",
    "PYRO:obj@host:9090\n", "PYRO:obj@host:9090\n\n", "PYRO:obj\n@host:9090", "PYRONAME:name\n",
    "PYRONAME:name\n\n", "PYRO:obj@host\n:1", "PYRO:obj\t@h:1", "PYRO:obj\r@h:1", "PYRO:obj@h:1\r",
    "PYRO:obj\u00a0x@h:1", "PYRO:obj\x1c@h:1", "PYRO:obj\x1f@h:1", "PYRO:obj\x0b@h:1", "PYRO:obj\x0c@h:1",
    "PYRO:ob\u2003j@h:1", "PYRO:ob\u200bj@h:1", "PYRO:ob\u0085j@h:1", "PYRO:ob\u3000j@h:1",
    "PYRO:ob\u180ej@h:1", "PYRO:ob\u2028j@h:1", "PYRONAME:n@h\x0b:1",
    # non-ASCII
    "PYRO:obj\u00e9@host:9090", "PYRO:obj@h\u00f6st\u00e9:9090", "PYRONAME:\u540d\u524d", "PYRO:\U0001f600@h:1",
    # ports
    "PYRO:obj@host:90x", "PYRO:obj@host:+9090", "PYRO:obj@host:-1", "PYRO:obj@host:0", "PYRO:obj@host:-0",
    "PYRO:obj@host:0090", "PYRO:obj@host:1_000", "PYRO:obj@host:_1", "PYRO:obj@host:1_", "PYRO:obj@host:1__0",
    "PYRO:obj@host:+_1", "PYRO:obj@host:0x10", "PYRO:obj@host:1e3", "PYRO:obj@host:1.0", "PYRO:obj@host:+",
    "PYRO:obj@host:- 1", "PYRO:obj@host:1 2", "PYRO:obj@host:90:90", "PYRO:obj@host::9090",
    "PYRO:obj@host:65535", "PYRO:obj@host:65536", "PYRO:obj@host:9223372036854775807",
    "PYRO:obj@host:-9223372036854775808",
    "PYRO:obj@host:\u0669\u0660\u0669\u0660", "PYRO:obj@host:\uff11\uff12", "PYRO:obj@host:\u00b2",
    "PYRO:obj@host:\u2003 12 ", "PYRO:obj@host:\x1c12\x1f", "PYRO:obj@host:12\x0b", "PYRO:obj@host:1\u0662",
    "PYRO:obj@host:\u216b", "PYRO:obj@host:9090\x00", "PYRONAME:n@host:x",
    # IPv6
    "PYRO:obj@[::1]:9090", "PYRO:obj@[::1]", "PYRONAME:n@[::1]", "PYRONAME:n@[::1]:5555", "PYROMETA:m@[::1]",
    "PYRO:obj@[[::1]]:9090", "PYRO:obj@[[::1]", "PYRO:obj@[host]:9090", "PYRO:obj@[fe80::1%eth0]:9090",
    "PYRO:obj@[fe80::1%25]:9090", "PYRO:obj@[::1]junk", "PYRO:obj@[::1]:9090junk", "PYRO:obj@[::1]:",
    "PYRO:obj@[::1]:abc", "PYRO:obj@[]:9090", "PYRO:obj@[::1", "PYRO:obj@[A:B]:1", "PYRO:obj@[%]:1",
    "PYRO:obj@[::1]]:1", "PYRO:obj@[::1]:\u0669\u0660", "PYRO:obj@[::1]:\uff11\uff12", "PYRO:obj@[::1]: 1",
    "PYRO:obj@[::ffff:127.0.0.1]:1", "PYRO:obj@[2001:db8::1]:65000", "PYRO:obj@[::1]:-1", "PYRO:obj@[::1]:1_0",
    "PYRO:obj@::1:9090", "PYRO:obj@[:]:1", "PYRO:obj@[\u0661]:1",
    # Unix sockets
    "PYRO:obj@./u:/tmp/sock", "PYRO:obj@./u:", "PYRO:obj@./u:a:b", "PYRONAME:n@./u:sock", "PYRONAME:x@./u:",
    "PYROMETA:a@./u:s", "PYRO:obj@./u:/path with space", "PYRO:obj@./u:sock\n", "PYRO:obj@./U:/tmp/sock",
    "PYRO:obj@.//u:x", "PYRO:obj@./u:@",
    # forms whose asString() does not parse back to the same URI
    "PYRONAME:n@./u", "PYROMETA:m@./u:5", "PYRONAME:n@./u:1:2",
]


def tagged(v):
    """a JSON form that keeps the Python types apart"""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, int):
        return {"int": str(v)}
    if isinstance(v, tuple):
        return {"tuple": [tagged(x) for x in v]}
    if isinstance(v, list):
        return [tagged(x) for x in v]
    if isinstance(v, (set, frozenset)):
        return {"set": [tagged(x) for x in sorted(v)]}
    if isinstance(v, dict):
        return {"dict": [[tagged(k), tagged(x)] for k, x in v.items()]}
    raise TypeError(type(v))


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


def one(s):
    try:
        u = core.URI(s)
    except Exception as e:
        return {"input": s, "ok": False, "class": type(e).__name__, "error": str(e)}
    meta = isinstance(u.object, set)
    res = {
        "input": s, "ok": True, "protocol": u.protocol,
        "object": sorted(u.object) if meta else u.object,
        "sockname": u.sockname, "host": u.host, "port": None if u.port is None else str(u.port),
        "string": ("PYROMETA:" + ",".join(sorted(u.object)) + ("@" + u.location if u.location else ""))
        if meta else u.asString(),
        "state": tagged(util.SerializerBase.class_to_dict(u)),
    }
    try:
        again = core.URI(str(u))
        res["reparse_equal"] = again == u
    except errors.PyroError as e:
        res["reparse_equal"] = False
        res["reparse_error"] = str(e)
    return res


def main():
    assert len(set(INPUTS)) == len(INPUTS), "duplicate inputs"
    out = {
        "python": sys.version.split()[0],
        "unicode": unicodedata.unidata_version,
        "space": ranges(str.isspace),
        "decimal": ranges(str.isdecimal),
        "unassigned": ranges(lambda c: unicodedata.category(c) == "Cn"),
        "cases": [one(s) for s in INPUTS],
    }
    with open(os.path.join(HERE, "uris.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
