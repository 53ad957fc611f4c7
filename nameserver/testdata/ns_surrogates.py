# Registers names that differ only in a lone surrogate ('col\ud800' and
# 'col\udfff', legal Python strs) and reads them back with every
# serializer, printing one JSON line per check: [label, "ok", result] or
# [label, "err", exception class, message]. JSON's ASCII output writes a
# surrogate as \uXXXX, so distinct names print distinct lines. The Go test
# runs it against the reference pyro4-ns and against our server and
# compares the lines.
#
# usage: ns_surrogates.py NS_URI
import json
import sys

import Pyro4
import Pyro4.core

ns_uri = sys.argv[1]
SERIALIZERS = ["serpent", "json", "marshal", "msgpack", "pickle"]


def norm(v):
    if isinstance(v, Pyro4.core.URI):
        return ["URI", str(v)]
    if isinstance(v, dict):
        return ["dict"] + sorted([norm(k), norm(x)] for k, x in v.items())
    if isinstance(v, (list, tuple)):
        return sorted(norm(x) for x in v)
    if isinstance(v, str) and v.startswith("PYRO:Pyro.NameServer@"):
        return "NSURI"
    return v


def check(label, fn):
    try:
        r = ["ok", norm(fn())]
    except Exception as x:
        r = ["err", type(x).__name__, str(x)]
    print(json.dumps([label] + r, sort_keys=True))


def proxy(ser):
    Pyro4.config.SERIALIZER = ser
    return Pyro4.Proxy(ns_uri)


# each serializer registers its own pair of names, then every serializer
# reads every name back
for ser in SERIALIZERS:
    with proxy(ser) as p:
        for tail in ["\ud800", "\udfff", "\ufffd"]:
            name = ser + "." + tail
            check(ser + "-register-" + ascii(tail),
                  lambda: p.register(name, "PYRO:o%x@localhost:1" % ord(tail), safe=True))
for ser in SERIALIZERS:
    with proxy(ser) as p:
        for owner in SERIALIZERS:
            for tail in ["\ud800", "\udfff"]:
                name = owner + "." + tail
                check(ser + "-lookup-" + owner + ascii(tail), lambda: p.lookup(name))
        check(ser + "-list", lambda: p.list(prefix=""))
        check(ser + "-list-prefix", lambda: p.list(prefix="serpent.\ud800"))
        check(ser + "-list-regex", lambda: p.list(regex="serpent[.]."))
        check(ser + "-list-regex-end", lambda: p.list(regex="serpent[.].$"))
        check(ser + "-list-regex-literal", lambda: p.list(regex="serpent[.]\udfff"))
        check(ser + "-count", lambda: p.count())
with proxy("serpent") as p:
    check("set-metadata", lambda: p.set_metadata("serpent.\ud800", {"m\udc00", "m"}))
    check("lookup-metadata", lambda: p.lookup("serpent.\ud800", return_metadata=True))
    check("list-metadata", lambda: p.list(metadata_all={"m\udc00"}))
    check("list-metadata-other", lambda: p.list(metadata_any={"m\udfff"}))
    check("remove-high", lambda: p.remove("serpent.\ud800"))
    check("lookup-low-after", lambda: p.lookup("serpent.\udfff"))
    check("lookup-high-after", lambda: p.lookup("serpent.\ud800"))
    check("remove-prefix", lambda: p.remove(prefix="marshal.\udfff"))
    check("lookup-marshal-high-after", lambda: p.lookup("marshal.\ud800"))
print("DONE")
