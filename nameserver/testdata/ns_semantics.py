# Drives a name server through every NameServer method, argument form and
# error, printing one JSON line per check: [label, "ok", result] or
# [label, "err", exception class, message]. The Go test runs it against the
# reference pyro4-ns and against our server with the same serializer
# (PYRO_SERIALIZER) and compares the lines.
#
# Results are normalised so that equal behaviour prints equal text: URIs
# become ["URI", str], dicts become sorted item lists, metadata lists are
# sorted (Pyro4 sends sets, whose order is arbitrary), and the name server's
# own location is replaced by NSLOC.
#
# usage: ns_semantics.py NS_URI
import json
import sys

import Pyro4
import Pyro4.core
import Pyro4.errors
import Pyro4.futures

ns_uri = sys.argv[1]
_u = Pyro4.URI(ns_uri)
ns_locs = [_u.location, repr((_u.host, _u.port))]


def norm(v):
    if isinstance(v, Pyro4.core.URI):
        return ["URI", norm(str(v))]
    if isinstance(v, dict):
        return ["dict"] + sorted([norm(k), norm(x)] for k, x in v.items())
    if isinstance(v, (set, frozenset)):
        return ["set"] + sorted(norm(x) for x in v)
    if isinstance(v, (list, tuple)):
        items = [norm(x) for x in v]
        # a list of str is metadata: its order is a set's order
        if items and all(isinstance(x, str) for x in items):
            items.sort()
        return items
    if isinstance(v, str):
        for loc in ns_locs:
            v = v.replace(loc, "NSLOC")
        if v.startswith("PYROMETA:"):  # the tags come from a set
            tags, at, loc = v[9:].partition("@")
            v = "PYROMETA:" + ",".join(sorted(tags.split(","))) + at + loc
        return v
    if isinstance(v, bytes):
        return ["bytes", v.decode("latin-1")]
    return v


def out(label, *rest):
    print(json.dumps([label] + list(rest), ensure_ascii=False, sort_keys=True))


def check(label, fn):
    try:
        r = fn()
    except Exception as x:
        tb = getattr(x, "_pyroTraceback", None)
        if tb is not None and not (isinstance(tb, list) and all(isinstance(s, str) for s in tb)):
            out(label, "bad traceback", repr(tb))
        out(label, "err", type(x).__name__, norm(str(x)))
    else:
        out(label, "ok", norm(r))


ns = Pyro4.Proxy(ns_uri)
D = "PYRO:obj@localhost:1"
E = "PYRO:other@127.0.0.1:2"

check("ping", lambda: ns.ping())
check("count-start", lambda: ns.count())
check("list-start", lambda: ns.list())
check("lookup-self", lambda: ns.lookup("Pyro.NameServer"))
check("lookup-self-meta", lambda: ns.lookup("Pyro.NameServer", True))

# register: positional, keyword, safe, metadata forms
check("register", lambda: ns.register("a.one", D))
check("register-kw", lambda: ns.register(name="a.two", uri=E, safe=False, metadata=["m1", "m2"]))
check("register-uri-obj", lambda: ns.register("a.three", Pyro4.URI("PYRO:x@h:3"), metadata={"m2", "m3"}))
check("register-safe-dup", lambda: ns.register("a.one", D, safe=True))
check("register-safe-new", lambda: ns.register("b.one", D, True, ("m1",)))
check("register-overwrite", lambda: ns.register("b.one", E, metadata=("m4",)))
check("register-bad-uri", lambda: ns.register("x", "nonsense"))
check("register-bad-uri2", lambda: ns.register("x", "PYRO:obj@host"))
check("register-uri-int", lambda: ns.register("x", 42))
check("register-name-int", lambda: ns.register(42, D))
check("register-meta-str", lambda: ns.register("x", D, metadata="abc"))
check("register-meta-int", lambda: ns.register("x", D, metadata=5))
check("register-meta-zero", lambda: ns.register("c.zero", D, metadata=0))
check("register-meta-empty", lambda: ns.register("c.empty", D, metadata=[]))
check("register-pyroname", lambda: ns.register("c.pn", "PYRONAME:some.name@host:9999"))
check("register-pyrometa", lambda: ns.register("c.pm", "pyrometa:x,y"))
check("register-unicode", lambda: ns.register("ünï.cödé.名前", "PYRO:ob@hést:5", metadata=["métа"]))
# deliberate differences (see the Go test): non-str metadata is refused
check("register-meta-nonstr", lambda: ns.register("c.nonstr", D, metadata=[5]))
check("register-meta-nonstr-cleanup", lambda: ns.remove("c.nonstr"))
# metadata members are checked after the safe check (Pyro4 builds its set
# under the lock, after "name in storage")
check("register-safe-dup-unhashable", lambda: ns.register("a.one", D, safe=True, metadata=[[1]]))
check("register-safe-dup-nonstr", lambda: ns.register("a.one", D, True, [5]))
check("register-safe-new-unhashable", lambda: ns.register("c.unh", D, True, [[1]]))
check("register-unhashable", lambda: ns.register("a.one", E, metadata=[[1]]))
check("register-unhashable-after", lambda: ns.list(prefix="a.one", return_metadata=True))
check("register-unhashable-none", lambda: ns.list(prefix="c.unh"))
check("register-missing", lambda: ns.register("x"))
check("register-too-many", lambda: ns._pyroInvoke("register", ("a", D, 1, None, 5), {}))
check("register-dup-kw", lambda: ns._pyroInvoke("register", ("a", D), {"name": "b"}))
check("register-bad-kw", lambda: ns._pyroInvoke("register", ("a", D), {"nope": 1}))

check("count", lambda: ns.count())
check("lookup", lambda: ns.lookup("a.one"))
check("lookup-meta", lambda: ns.lookup("a.two", return_metadata=True))
check("lookup-meta-pos", lambda: ns.lookup("a.three", 1))
check("lookup-unicode", lambda: ns.lookup("ünï.cödé.名前", True))
check("lookup-pyroname", lambda: ns.lookup("c.pn"))
check("lookup-pyrometa", lambda: ns.lookup("c.pm"))
check("lookup-unknown", lambda: ns.lookup("nope"))
check("lookup-int", lambda: ns.lookup(42))
check("lookup-list", lambda: ns.lookup([1]))
check("lookup-none-args", lambda: ns._pyroInvoke("lookup", (), {}))
check("lookup-kw", lambda: ns._pyroInvoke("lookup", (), {"name": "a.one", "return_metadata": False}))
check("lookup-unexpected-kw", lambda: ns._pyroInvoke("lookup", ("a.one",), {"x": 1}))
check("lookup-too-many", lambda: ns._pyroInvoke("lookup", ("a.one", False, 3), {}))

# list and its filters
check("list", lambda: ns.list())
check("list-meta", lambda: ns.list(return_metadata=True))
check("list-prefix", lambda: ns.list(prefix="a."))
check("list-prefix-meta", lambda: ns.list("a.", return_metadata=True))
check("list-prefix-none", lambda: ns.list(prefix="zzz"))
check("list-prefix-int", lambda: ns.list(prefix=5))
check("list-prefix-tuple", lambda: ns.list(prefix=("a.", "b.")))
check("list-prefix-empty", lambda: ns.list(prefix=""))
check("list-regex", lambda: ns.list(regex=r"a\..*"))
check("list-regex-anchor", lambda: ns.list(regex="one"))
check("list-regex-middle", lambda: ns.list(regex=".*one"))
check("list-regex-meta", lambda: ns.list(regex="[ab]\\.t", return_metadata=True))
check("list-regex-unicode", lambda: ns.list(regex="ünï"))
check("list-regex-digit", lambda: ns.list(regex=r"\w+\.\w+$"))
# deliberate differences: Go's regexp syntax and error texts
check("list-regex-invalid", lambda: ns.list(regex="("))
check("list-regex-lookahead", lambda: ns.list(regex=r"a(?=\.)"))
check("list-regex-int", lambda: ns.list(regex=5))
check("list-two-filters", lambda: ns.list(prefix="a", regex="b"))
check("list-two-filters-empty", lambda: ns.list(prefix="", metadata_any=[]))
check("list-meta-all", lambda: ns.list(metadata_all=["m2"]))
check("list-meta-all2", lambda: ns.list(metadata_all={"m2", "m3"}, return_metadata=True))
check("list-meta-all-none", lambda: ns.list(metadata_all=["m2", "zz"]))
check("list-meta-all-int", lambda: ns.list(metadata_all=[5]))
check("list-meta-all-str", lambda: ns.list(metadata_all="m2"))
check("list-meta-all-intarg", lambda: ns.list(metadata_all=5))
check("list-meta-all-unhashable", lambda: ns.list(metadata_all=[[1]]))
check("list-meta-any", lambda: ns.list(metadata_any=["m1", "m3"]))
check("list-meta-any-meta", lambda: ns.list(metadata_any=("m4", "class:Pyro4.naming.NameServer"), return_metadata=True))
check("list-meta-any-int", lambda: ns.list(metadata_any=[5, "m1"]))
check("list-meta-any-str", lambda: ns.list(metadata_any="m1"))
check("list-meta-unicode", lambda: ns.list(metadata_any=["métа"]))
check("list-positional", lambda: ns.list(None, None, None, ["m1"], True))
check("list-too-many", lambda: ns._pyroInvoke("list", (None, None, None, None, False, 1), {}))

# set_metadata
check("setmeta", lambda: ns.set_metadata("a.one", ["x1", "x2"]))
check("setmeta-after", lambda: ns.lookup("a.one", True))
check("setmeta-clear", lambda: ns.set_metadata("a.one", None))
check("setmeta-clear-after", lambda: ns.lookup("a.one", True))
check("setmeta-set", lambda: ns.set_metadata("a.one", {"s1"}))
check("setmeta-unknown", lambda: ns.set_metadata("nope", ["x"]))
check("setmeta-unknown-unhashable", lambda: ns.set_metadata("nope", [[1]]))
check("setmeta-unknown-nonstr", lambda: ns.set_metadata("nope", [5]))
check("setmeta-unhashable", lambda: ns.set_metadata("a.one", [[1]]))
check("setmeta-unhashable-after", lambda: ns.list(prefix="a.one", return_metadata=True))
check("setmeta-name-int", lambda: ns.set_metadata(5, ["x"]))
check("setmeta-str", lambda: ns.set_metadata("a.one", "x"))
check("setmeta-int", lambda: ns.set_metadata("a.one", 7))
check("setmeta-self", lambda: ns.set_metadata("Pyro.NameServer", ["extra"]))
check("setmeta-self-after", lambda: ns.lookup("Pyro.NameServer", True))
check("setmeta-self-restore", lambda: ns.set_metadata("Pyro.NameServer", ["class:Pyro4.naming.NameServer"]))

# batch calls: results in order, the first exception ends the batch
def batch_ok():
    b = Pyro4.batch(ns)
    b.count()
    b.lookup("a.one")
    b.list(prefix="b.")
    b.ping()
    return list(b())


def batch_error():
    b = Pyro4.batch(ns)
    b.register("batch.one", D)
    b.lookup("nope")
    b.register("batch.two", D)
    results = []
    gen = b()
    try:
        for r in gen:
            results.append(norm(r))
    except Exception as x:
        results.append([type(x).__name__, str(x)])
    return results


def batch_unknown_method():
    b = Pyro4.batch(ns)
    b.ping()
    b.frobnicate()
    return list(b())


def batch_oneway():
    b = Pyro4.batch(ns)
    b.register("batch.oneway", D)
    r = b(oneway=True)
    return [r, ns.lookup("batch.oneway")]


check("batch", batch_ok)
check("batch-error", batch_error)
check("batch-after-error", lambda: ns.list(prefix="batch."))
check("batch-unknown-method", batch_unknown_method)
check("batch-oneway", batch_oneway)

# oneway single call
def oneway_register():
    p = Pyro4.Proxy(ns_uri)
    p._pyroOneway.add("register")
    r = p.register("ow.one", D)
    p._pyroRelease()
    return [r, ns.lookup("ow.one")]


check("oneway", oneway_register)

# method lookup errors
check("attr-unknown", lambda: ns._pyroInvoke("frobnicate", (), {}))
check("attr-private", lambda: ns._pyroInvoke("_private", (), {}))
check("attr-dunder", lambda: ns._pyroInvoke("__init__", (), {}))
check("attr-unexposed", lambda: ns._pyroInvoke("storage", (), {}))
check("attr-doc", lambda: ns._pyroInvoke("__doc__", (), {}))
check("attr-getattr", lambda: ns._pyroInvoke("__getattr__", ("storage",), {}))
check("attr-getattr-method", lambda: ns._pyroInvoke("__getattr__", ("lookup",), {}))
check("attr-setattr", lambda: ns._pyroInvoke("__setattr__", ("x", 1), {}))
check("count-args", lambda: ns._pyroInvoke("count", (1,), {}))
check("ping-kw", lambda: ns._pyroInvoke("ping", (), {"x": 1}))

# remove
check("remove", lambda: ns.remove("a.one"))
check("remove-again", lambda: ns.remove("a.one"))
check("remove-self", lambda: ns.remove("Pyro.NameServer"))
check("remove-int", lambda: ns.remove(5))
check("remove-list", lambda: ns.remove([1]))
check("remove-nothing", lambda: ns.remove())
check("remove-prefix", lambda: ns.remove(prefix="batch."))
check("remove-prefix-self", lambda: ns.remove(prefix="Pyro."))
check("remove-regex", lambda: ns.remove(regex=r"c\.p[nm]"))
check("remove-regex-bad", lambda: ns.remove(regex=5))
check("remove-name-then-prefix", lambda: ns.remove("nope", prefix="ow."))
check("remove-unicode", lambda: ns.remove("ünï.cödé.名前"))
check("remove-regex-all", lambda: ns.remove(regex=".*"))
check("list-end", lambda: ns.list(return_metadata=True))
check("count-end", lambda: ns.count())

# the daemon object
d = Pyro4.Proxy(ns_uri.replace("Pyro.NameServer", "Pyro.Daemon"))
check("daemon-ping", lambda: d.ping())
check("daemon-registered", lambda: d.registered())
check("daemon-meta", lambda: d.get_metadata("Pyro.NameServer"))
check("daemon-meta-lists", lambda: d.get_metadata("Pyro.NameServer", True))
check("daemon-meta-self", lambda: d.get_metadata("Pyro.Daemon", as_lists=True))
check("daemon-meta-unknown", lambda: d.get_metadata("nope"))
check("daemon-meta-missing", lambda: d._pyroInvoke("get_metadata", (), {}))
check("daemon-stream", lambda: d.get_next_stream_item("abc"))
check("daemon-close-stream", lambda: d.close_stream("abc"))
check("daemon-info-start", lambda: d.info()[:25])
check("daemon-unknown", lambda: d._pyroInvoke("frobnicate", (), {}))


def unknown_object():
    p = Pyro4.Proxy(ns_uri.replace("Pyro.NameServer", "no.such.object"))
    try:
        p._pyroBind()
    except Exception as x:
        first = [type(x).__name__, norm(str(x))]
    else:
        first = "bound"
    Pyro4.config.METADATA = False
    try:
        p = Pyro4.Proxy(ns_uri.replace("Pyro.NameServer", "no.such.object"))
        try:
            p.ping()
        except Exception as x:
            second = [type(x).__name__, norm(str(x))]
        else:
            second = "pinged"
    finally:
        Pyro4.config.METADATA = True
    return [first, second]


check("unknown-object", unknown_object)
check("metadata-on-connect", lambda: [sorted(ns._pyroMethods), sorted(ns._pyroOneway), sorted(ns._pyroAttrs)])
print("DONE")
