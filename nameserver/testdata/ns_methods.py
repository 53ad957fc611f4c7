# Prints what Pyro4 4.82's NameServer answers, called in-process, for the
# steps of TestNameServerMethods (nsobject_test.go) that have a Pyro4
# counterpart. Run with /usr/bin/python3 to check the expectations there.
from Pyro4.naming import NameServer
from Pyro4.core import URI

ns = NameServer()


def step(label, f):
    try:
        r = f()
        print(label, "->", str(r) if isinstance(r, URI) else repr(r))
    except Exception as e:
        print(label, "!!", "%s.%s: %s" % (type(e).__module__, type(e).__name__, e))


ONE, TWO, BONE = "PYRO:one@localhost:1", "PYRO:two@localhost:2", "PYRO:bone@localhost:3"
step("ping", lambda: ns.ping())
step("register str", lambda: ns.register("a.one", ONE, metadata=["x", "y"]))
step("register URI object", lambda: ns.register("a.two", URI(TWO)))
step("register set metadata", lambda: ns.register("b.one", BONE, False, {"y"}))
step("register safe taken", lambda: ns.register("a.one", "PYRO:x@localhost:9", safe=True))
step("register int name", lambda: ns.register(5, "PYRO:x@localhost:9"))
step("register int uri", lambda: ns.register("c", 5))
step("register bad uri", lambda: ns.register("c", "nouri"))
step("register int metadata", lambda: ns.register("c", "PYRO:c@localhost:4", metadata=5))
step("register str metadata", lambda: ns.register("c", "PYRO:c@localhost:4", metadata="ab"))
step("count", lambda: ns.count())
step("lookup", lambda: ns.lookup("a.one"))
step("lookup with metadata", lambda: ns.lookup("a.one", True))
step("lookup unknown", lambda: ns.lookup("nope"))
step("lookup int", lambda: ns.lookup(5))
step("lookup list", lambda: ns.lookup(["x"]))
step("list", lambda: ns.list())
step("list prefix", lambda: ns.list("a."))
step("list regex", lambda: ns.list(regex=".*one"))
step("list metadata_all", lambda: ns.list(metadata_all={"x", "y"}))
step("list metadata_any", lambda: ns.list(metadata_any={"y"}))
step("list metadata_any with metadata", lambda: ns.list(metadata_any={"x"}, return_metadata=True))
step("list two filters", lambda: ns.list("a", "b"))
step("list bad regex", lambda: ns.list(regex="("))
step("set_metadata", lambda: ns.set_metadata("b.one", ["z"]))
step("lookup after set_metadata", lambda: ns.lookup("b.one", True))
step("set_metadata unknown", lambda: ns.set_metadata("nope", ["z"]))
step("set_metadata int", lambda: ns.set_metadata("b.one", 5))
step("remove unknown", lambda: ns.remove("nope"))
step("remove", lambda: ns.remove("b.one"))
step("remove prefix", lambda: ns.remove(prefix="a."))
step("count after removals", lambda: ns.count())
step("register for regex", lambda: ns.register("r.x", "PYRO:r@localhost:5"))
step("remove regex", lambda: ns.remove(regex=r"r\..*"))
step("remove nothing", lambda: ns.remove())
step("unbound call", lambda: ns.lookup())
