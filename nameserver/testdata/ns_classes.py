# Sends a name server calls whose arguments are objects Pyro4 serializes as
# class dicts (a Proxy, instances of the client's own classes, exceptions,
# Pyro4 classes the server may rebuild) and prints one JSON line per check:
# [label, "ok", result] or [label, "err", "module.Class", message]. The Go
# test (classes_test.go) runs it against pyro4-ns and against our server with
# the same serializer (PYRO_SERIALIZER) and compares the lines.
#
# Every check uses a fresh proxy: pyro4-ns closes the connection after a
# SecurityError, and a check must not see the previous one's connection.
#
# usage: ns_classes.py NS_URI
import json
import re
import sys

import Pyro4
import Pyro4.errors
import Pyro4.util

ns_uri = sys.argv[1]
D = "PYRO:obj@localhost:1"


class Thing(object):
    """A client's own class, from a module that is not __main__."""

    def __init__(self):
        self.colour = "blue"


Thing.__module__ = "custom"


class MainThing(object):
    """A class of the script itself: its name has __main__ in it."""

    def __init__(self):
        self.size = 3


# Python 3.11's object.__getstate__ gives a plain instance's attributes, so
# json, marshal and msgpack clients send those without "__class__" (serpent
# adds it); an instance with __slots__ travels as a class dict with all.
class SlotThing(object):
    __slots__ = ("colour",)

    def __init__(self):
        self.colour = "red"


SlotThing.__module__ = "custom"


class MainSlotThing(object):
    __slots__ = ("size",)

    def __init__(self):
        self.size = 4


class CustomError(Exception):
    pass


CustomError.__module__ = "custom"


class Nope(object):
    """Poses as a class of Pyro4.errors that does not exist."""


Nope.__module__ = "Pyro4.errors"


def full_proxy():
    p = Pyro4.Proxy("PYRO:obj@localhost:1")
    p._pyroMethods = {"ping"}
    p._pyroHmacKey = b"secret"
    p._pyroHandshake = {"token": 42}
    return p


def norm(v):
    if isinstance(v, Pyro4.URI):
        return ["URI", str(v)]
    if isinstance(v, dict):
        return ["dict"] + sorted([norm(k), norm(x)] for k, x in v.items())
    if isinstance(v, (set, frozenset, list, tuple)):
        return sorted(norm(x) for x in v)
    return v


def out(label, *rest):
    print(json.dumps([label] + list(rest), ensure_ascii=False, sort_keys=True))


def check(label, call):
    with Pyro4.Proxy(ns_uri) as ns:
        try:
            r = call(ns)
        except Exception as x:
            out(label, "err", type(x).__module__ + "." + type(x).__name__, str(x))
        else:
            out(label, "ok", norm(r))


check("register-proxy", lambda ns: ns.register("c.proxy", Pyro4.Proxy("PYRO:obj@localhost:1")))
check("register-proxy-full", lambda ns: ns.register("c.proxy", full_proxy()))
check("register-custom", lambda ns: ns.register("c.custom", Thing()))
check("register-main-class", lambda ns: ns.register("c.main", MainThing()))
check("register-slots", lambda ns: ns.register("c.slots", SlotThing()))
check("register-main-slots", lambda ns: ns.register("c.main", MainSlotThing()))
check("register-slots-nested", lambda ns: ns.register("c.slots", D, metadata={"k": [SlotThing()]}))
check("register-custom-exception", lambda ns: ns.register("c.exc", CustomError("boom")))
check("register-builtin-exception", lambda ns: ns.register("c.exc", ValueError("boom")))
check("register-pyro-error", lambda ns: ns.register("c.exc", Pyro4.errors.NamingError("boom")))
check("register-unknown-pyro-error", lambda ns: ns.register("c.exc", Nope()))
check("register-serializer", lambda ns: ns.register("c.ser", Pyro4.util.JsonSerializer()))
check("register-meta-custom", lambda ns: ns.register("c.meta", D, metadata=[Thing()]))
check("register-name-custom", lambda ns: ns.register(name=Thing(), uri=D))
check("lookup-custom", lambda ns: ns.lookup(Thing()))
check("list-prefix-custom", lambda ns: ns.list(prefix=Thing()))
check("list-meta-custom", lambda ns: ns.list(metadata_all=[MainThing()]))
check("list-meta-slots", lambda ns: ns.list(metadata_any=[MainSlotThing()]))
check("set-metadata-custom", lambda ns: ns.set_metadata("Pyro.NameServer", Thing()))
check("remove-custom", lambda ns: ns.remove(name=Thing()))
check("remove-main-class", lambda ns: ns.remove(prefix=MainThing()))
# accepted class dicts become hashable objects named by their class
check("lookup-proxy", lambda ns: ns.lookup(Pyro4.Proxy("PYRO:obj@localhost:1")))
check("lookup-uri-object", lambda ns: ns.lookup(Pyro4.URI("PYRO:x@localhost:3")))
check("lookup-exception", lambda ns: ns.lookup(ValueError("boom")))
check("lookup-pyro-error", lambda ns: ns.lookup(Pyro4.errors.NamingError("boom")))
check("list-prefix-uri", lambda ns: ns.list(prefix=Pyro4.URI("PYRO:x@localhost:3")))
check("list-meta-uri", lambda ns: ns.list(metadata_all=[Pyro4.URI("PYRO:x@localhost:3")]))
check("remove-name-proxy", lambda ns: ns.remove(name=Pyro4.Proxy("PYRO:obj@localhost:1")))
check("register-name-uri", lambda ns: ns.register(name=Pyro4.URI("PYRO:x@localhost:3"), uri=D))
check("setmeta-name-uri", lambda ns: ns.set_metadata(Pyro4.URI("PYRO:x@localhost:3"), ["m"]))
check("list-regex-uri", lambda ns: ns.list(regex=Pyro4.URI("PYRO:x@localhost:3")))
check("list-return-meta-exception", lambda ns: sorted(ns.list(prefix="Pyro.", return_metadata=ValueError("x"))))
check("remove-prefix-uri", lambda ns: ns.remove(prefix=Pyro4.URI("PYRO:x@localhost:3")))
check("remove-regex-proxy", lambda ns: ns.remove(regex=Pyro4.Proxy("PYRO:obj@localhost:1")))
check("register-safe-uri", lambda ns: ns.register("c.safe", D, safe=Pyro4.URI("PYRO:x@localhost:3")))
check("register-meta-uri", lambda ns: ns.register("c.meta", D, metadata=Pyro4.URI("PYRO:x@localhost:3")))
check("setmeta-meta-exception", lambda ns: ns.set_metadata("Pyro.NameServer", ValueError("boom")))
check("list-meta-any-proxy", lambda ns: ns.list(metadata_any=Pyro4.Proxy("PYRO:obj@localhost:1")))
check("list-meta-any-in-list", lambda ns: ns.list(metadata_any=[Pyro4.Proxy("PYRO:obj@localhost:1"), "m"]))


def batch_kwargs(kwargs):
    def call(ns):
        calls = [("lookup", ("Pyro.NameServer",), kwargs)]
        results = ns._pyroInvoke("<batch>", calls, None, Pyro4.message.FLAGS_BATCH)
        # results are URIs (this server's port differs) or wrapped exceptions
        return [[type(r).__name__, str(getattr(r, "exception", ""))] for r in results]
    return call


check("batch-kwargs-uri", batch_kwargs(Pyro4.URI("PYRO:x@localhost:3")))
check("batch-kwargs-dict", batch_kwargs({"return_metadata": False}))
def handshake_with(obj):
    # the handshake data goes through the same class recreation as a call
    def call(ns):
        p = Pyro4.Proxy(ns_uri)
        p._pyroHandshake = obj
        try:
            p._pyroBind()
            return "connected"
        except Pyro4.errors.CommunicationError as x:
            # the text names the server's address; keep the reason
            return re.sub(r"^(cannot connect to \(.*?\): |connection to .*? rejected: )", "", str(x))
        finally:
            p._pyroRelease()
    return call


check("handshake-custom", handshake_with(Thing()))
check("handshake-main-class", handshake_with(MainThing()))
check("handshake-uri", handshake_with(Pyro4.URI("PYRO:x@localhost:3")))
check("handshake-exception", handshake_with(ValueError("boom")))
# the server goes on serving well-formed calls after the refusals
check("register-uri", lambda ns: ns.register("c.uri", Pyro4.URI("PYRO:x@localhost:3")))
check("lookup-uri", lambda ns: ns.lookup("c.uri"))
check("list-end", lambda ns: sorted(ns.list()))
print("DONE")
