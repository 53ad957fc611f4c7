# Exercises the name server features a Pyro4 deployment relies on, printing
# one JSON line per check ([label, "ok", result] or [label, "err", class,
# message]). The Go test runs it against a set of reference pyro4-ns
# processes and against the same set of our servers, and compares.
#
# argv[1] is a JSON object naming the servers by role:
#   plain     URI of a default name server
#   hmac      URI of a name server with HMAC key b"secret"
#   pickle    URI of a name server that accepts pickle
#   compress  URI of a name server with COMPRESSION on
#   nat       URI (internal) of a name server with NAT host nat.example:4711
#   unix      Unix socket path of a name server
#   bcport    UDP port of a broadcast responder (name server bound to 0.0.0.0)
#   bcloc     the host:port that responder's name server is reachable at
#   bcbind    the host:port that name server is bound to (0.0.0.0:port)
#   noport    a TCP port on 127.0.0.1 where nothing listens
#   sections  optional: which sections to run (default all: core, pickle,
#             compress, nat, unix, broadcast)
# The broadcast section needs PYRO_BROADCAST_ADDRS=127.0.0.1 in the
# environment.
# Every role's location is printed as <role>, so the runs compare.
import json
import socket
import sys
import threading

import Pyro4
import Pyro4.errors
import Pyro4.message

cfg = json.loads(sys.argv[1])
replacements = []
for role in ("plain", "hmac", "pickle", "compress", "nat"):
    u = Pyro4.URI(cfg[role])
    replacements.append((u.location, "<%s>" % role))
    replacements.append((repr((u.host, u.port)), "<%s>" % role))
replacements.append((cfg["unix"], "<unixpath>"))
replacements.append((cfg["bcloc"], "<bcns>"))
replacements.append((cfg["bcbind"], "<bcbind>"))


def norm(v):
    if isinstance(v, BaseException):
        return ["exception", type(v).__name__, norm(str(v))]
    if isinstance(v, Pyro4.URI):
        return ["URI", norm(str(v))]
    if isinstance(v, dict):
        return ["dict"] + sorted([norm(k), norm(x)] for k, x in v.items())
    if isinstance(v, (set, frozenset)):
        return sorted(norm(x) for x in v)
    if isinstance(v, (list, tuple)):
        items = [norm(x) for x in v]
        if items and all(isinstance(x, str) for x in items):
            items.sort()
        return items
    if isinstance(v, str):
        for old, new in replacements:
            v = v.replace(old, new)
        return v
    if isinstance(v, bytes):
        return norm(v.decode("latin-1"))
    return v


def out(label, *rest):
    print(json.dumps([label] + list(rest), ensure_ascii=False, sort_keys=True))


sections = cfg.get("sections") or ["core", "pickle", "compress", "nat", "unix", "broadcast"]
current = "core"


def section(name):
    global current
    current = name


def check(label, fn):
    if current not in sections:
        return
    try:
        r = fn()
    except Exception as x:
        out(label, "err", type(x).__name__, norm(str(x)))
    else:
        out(label, "ok", norm(r))


# record the flags of every message the client receives, to see compression
seen_flags = []
_recv = Pyro4.message.Message.recv.__func__


def recording_recv(cls, connection, requiredMsgTypes=None, hmac_key=None):
    msg = _recv(cls, connection, requiredMsgTypes, hmac_key)
    seen_flags.append(msg.flags)
    return msg


Pyro4.message.Message.recv = classmethod(recording_recv)


@Pyro4.expose
class Echo(object):
    def echo(self, x):
        return x


Pyro4.config.SERIALIZERS_ACCEPTED = {"serpent", "json", "marshal", "msgpack"}
daemon = Pyro4.Daemon(host="127.0.0.1")
echo_uri = daemon.register(Echo, "test.echo.obj")
replacements.append((echo_uri.location, "<echo>"))
replacements.append((repr((echo_uri.host, echo_uri.port)), "<echo>"))
threading.Thread(target=daemon.requestLoop, daemon=True).start()

plain = Pyro4.URI(cfg["plain"])
at = "@%s:%d" % (plain.host, plain.port)
ns = Pyro4.Proxy(cfg["plain"])

# PYRONAME / PYROMETA proxies to a real Pyro4 daemon, and resolve
check("register-echo", lambda: ns.register("test.echo", echo_uri, metadata={"tag.echo", "tag.other"}))
check("register-echo2", lambda: ns.register("test.echo2", str(echo_uri), metadata=["tag.echo"]))
check("pyroname", lambda: Pyro4.Proxy("PYRONAME:test.echo" + at).echo("héllo"))
check("pyroname-unknown", lambda: Pyro4.Proxy("PYRONAME:nope" + at).echo(1))
check("pyrometa", lambda: Pyro4.Proxy("PYROMETA:tag.echo" + at).echo([1, 2]))
check("pyrometa-two", lambda: Pyro4.Proxy("PYROMETA:tag.echo,tag.other" + at).echo(3))
check("pyrometa-none", lambda: Pyro4.Proxy("PYROMETA:tag.nothing" + at).echo(1))
check("resolve", lambda: Pyro4.resolve("PYRONAME:test.echo" + at))
check("resolve-meta", lambda: Pyro4.resolve("PYROMETA:tag.other" + at))
check("resolve-unknown", lambda: Pyro4.resolve("PYRONAME:nope" + at))
check("locate", lambda: Pyro4.locateNS(plain.host, plain.port).lookup("test.echo"))
check("locate-wrong-port", lambda: Pyro4.locateNS("127.0.0.1", cfg["noport"]))


# HMAC: right, wrong and no key, by proxy attribute and through locateNS
def hmac_call(uri, key):
    p = Pyro4.Proxy(uri)
    if key is not None:
        p._pyroHmacKey = key
    with p:
        return p.count()


check("hmac-right", lambda: hmac_call(cfg["hmac"], b"secret"))
check("hmac-right-str", lambda: hmac_call(cfg["hmac"], "secret"))
check("hmac-wrong", lambda: hmac_call(cfg["hmac"], b"wrong"))
check("hmac-none", lambda: hmac_call(cfg["hmac"], None))
check("hmac-client-only", lambda: hmac_call(cfg["plain"], b"secret"))
hu = Pyro4.URI(cfg["hmac"])
check("hmac-locate", lambda: Pyro4.locateNS(hu.host, hu.port, hmac_key=b"secret").list(prefix="Pyro."))
check("hmac-resolve", lambda: Pyro4.resolve("PYRONAME:Pyro.NameServer@%s" % hu.location, hmac_key=b"secret"))
check("hmac-resolve-wrong", lambda: Pyro4.resolve("PYRONAME:Pyro.NameServer@%s" % hu.location, hmac_key=b"nope"))


section("pickle")
# pickle: refused by default, accepted where enabled
def with_pickle(uri, fn):
    p = Pyro4.Proxy(uri)
    p._pyroSerializer = "pickle"
    with p:
        return fn(p)


check("pickle-refused", lambda: with_pickle(cfg["plain"], lambda p: p.ping()))
check("pickle-register", lambda: with_pickle(cfg["pickle"], lambda p: p.register("pk.one", "PYRO:x@h:1", metadata={"pm"})))
check("pickle-lookup", lambda: with_pickle(cfg["pickle"], lambda p: p.lookup("pk.one")))
check("pickle-lookup-meta", lambda: with_pickle(cfg["pickle"], lambda p: p.lookup("pk.one", return_metadata=True)))
check("pickle-list", lambda: with_pickle(cfg["pickle"], lambda p: p.list(metadata_any={"pm"}, return_metadata=True)))
check("pickle-error", lambda: with_pickle(cfg["pickle"], lambda p: p.lookup("nope")))
# what pickle registered, seen through the run's own serializer
check("pickle-cross", lambda: Pyro4.Proxy(cfg["pickle"]).list(prefix="pk.", return_metadata=True))
check("pickle-cross-lookup", lambda: Pyro4.Proxy(cfg["pickle"]).lookup("pk.one"))


def pickle_batch(p):
    b = Pyro4.batch(p)
    b.count()
    b.lookup("pk.one")
    b.lookup("nope")
    res = []
    try:
        for r in b():
            res.append(norm(r))
    except Exception as x:
        res.append([type(x).__name__, str(x)])
    return res


check("pickle-batch", lambda: with_pickle(cfg["pickle"], pickle_batch))


section("compress")
# compression on both sides: big replies arrive compressed, big requests
# are compressed by the client
def compressed(fn):
    old = Pyro4.config.COMPRESSION
    Pyro4.config.COMPRESSION = True
    try:
        p = Pyro4.Proxy(cfg["compress"])
        with p:
            del seen_flags[:]
            r = fn(p)
            return [r, any(f & Pyro4.message.FLAGS_COMPRESSED for f in seen_flags)]
    finally:
        Pyro4.config.COMPRESSION = old


names = ["comp.name.%03d" % i for i in range(40)]
check("compress-register", lambda: compressed(lambda p: [p.register(n, "PYRO:obj@localhost:1", metadata=["m" * 300]) for n in names][:1]))
check("compress-list", lambda: compressed(lambda p: len(p.list(prefix="comp."))))
check("compress-small", lambda: compressed(lambda p: p.count()))
check("compress-off-client", lambda: [len(Pyro4.Proxy(cfg["compress"]).list(prefix="comp.", return_metadata=True)),
                                      any(f & Pyro4.message.FLAGS_COMPRESSED for f in seen_flags[-1:])])

section("nat")
# NAT: the name server's own registration and the daemon info carry the NAT location
nat = Pyro4.Proxy(cfg["nat"])
check("nat-self", lambda: nat.lookup("Pyro.NameServer"))
check("nat-list", lambda: nat.list(prefix="Pyro."))
check("nat-info", lambda: Pyro4.Proxy(cfg["nat"].replace("Pyro.NameServer", "Pyro.Daemon")).info().split(" objects registered")[0])
check("nat-register", lambda: nat.register("nat.thing", "PYRO:t@inside:5"))
check("nat-lookup", lambda: nat.lookup("nat.thing"))

section("unix")
# Unix domain socket
check("unix-locate", lambda: Pyro4.locateNS(host="./u:" + cfg["unix"]).lookup("Pyro.NameServer"))
check("unix-info", lambda: Pyro4.Proxy("PYRO:Pyro.Daemon@./u:" + cfg["unix"]).info().split(" objects registered")[0])
check("unix-list", lambda: Pyro4.Proxy("PYRO:Pyro.NameServer@./u:" + cfg["unix"]).list(return_metadata=True))


section("broadcast")
# broadcast: locateNS() without a host finds the responder; raw datagrams
def no_reverse_dns(*args):
    raise socket.herror("reverse lookups are stubbed out in this test")


socket.gethostbyaddr = no_reverse_dns
# PYRO_BROADCAST_ADDRS comes from the environment; never broadcast beyond
# loopback.
if current in sections and not all(a.startswith("127.") for a in Pyro4.config.BROADCAST_ADDRS.split(",")):
    sys.exit("PYRO_BROADCAST_ADDRS must be set to loopback addresses, not %r" % Pyro4.config.BROADCAST_ADDRS)
check("broadcast-addrs", lambda: Pyro4.config.BROADCAST_ADDRS)
Pyro4.config.NS_BCPORT = cfg["bcport"]
Pyro4.config.NS_PORT = cfg["noport"]


def located():
    p = Pyro4.locateNS()
    with p:
        p.ping()
        return str(p._pyroUri)


def datagram(payload):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    try:
        s.sendto(payload, ("127.0.0.1", cfg["bcport"]))
        return s.recvfrom(1000)[0]
    except socket.timeout:
        return "no reply"
    finally:
        s.close()


check("broadcast-locate", located)
check("broadcast-resolve", lambda: Pyro4.resolve("PYRONAME:Pyro.NameServer"))
check("broadcast-datagram", lambda: datagram(b"GET_NSURI"))
check("broadcast-junk", lambda: datagram(b"GET_NSURI please"))
check("broadcast-lower", lambda: datagram(b"get_nsuri"))
check("broadcast-after-junk", lambda: datagram(b"GET_NSURI"))

daemon.shutdown()
print("DONE")
