# Pyro4 4.82 with SSL against a TLS name server: one JSON line per check
# ([label, "ok", result] or [label, "err", class, message]), then DONE.
# The Go test (TestTLSPython) starts the servers, runs this once per
# serializer (PYRO_SERIALIZER) with PYRO_SSL=1 and PYRO_BROADCAST_ADDRS set
# to a loopback address, and checks every line.
#
# argv[1] is a JSON object:
#   oneway    URI of a name server with 1-way TLS on 127.0.0.1
#   twoway    URI of a name server that requires a client certificate
#   hmac      URI of a 1-way name server with HMAC key b"secret"
#   wrongip   URI of the broadcast name server at an address its
#             certificate does not name (127.0.0.2)
#   bcport    UDP port of that server's broadcast responder
#   noport    a TCP port on 127.0.0.1 where nothing listens
#   ca        the CA certificate that signed the servers' and client's
#   otherca   a CA that signed nothing here
#   clientcert, clientkey   a client certificate signed by ca
#   servercert, serverkey   a server certificate for 127.0.0.1 (the
#             Python daemon's)
import json
import socket
import sys
import threading

import Pyro4
import Pyro4.errors
import Pyro4.socketutil

cfg = json.loads(sys.argv[1])

if not Pyro4.config.SSL:
    sys.exit("PYRO_SSL must be on")
if not all(a.startswith("127.") for a in Pyro4.config.BROADCAST_ADDRS.split(",")):
    sys.exit("PYRO_BROADCAST_ADDRS must be loopback addresses, not %r" % Pyro4.config.BROADCAST_ADDRS)


def no_reverse_dns(*args):
    raise socket.herror("reverse lookups are stubbed out in this test")


# locateNS() without a host looks up 127.0.1.1's name, which is a DNS query
# on a machine without it in /etc/hosts.
socket.gethostbyaddr = no_reverse_dns


def check(label, fn):
    try:
        out = [label, "ok", fn()]
    except Exception as x:
        out = [label, "err", type(x).__name__, str(x)]
    print(json.dumps(out, default=str), flush=True)


def client(cacerts, cert="", key=""):
    """Sets the client items; getSSLcontext caches its context for the
    process, so the cached one is dropped to make the new items count."""
    Pyro4.config.SSL_CACERTS = cacerts
    Pyro4.config.SSL_CLIENTCERT = cert
    Pyro4.config.SSL_CLIENTKEY = key
    setattr(Pyro4.socketutil, "__ssl_client_context", None)


def session(uri, hmac=None):
    with Pyro4.Proxy(uri) as ns:
        if hmac:
            ns._pyroHmacKey = hmac
        name = "tls.%s" % Pyro4.config.SERIALIZER
        ns.register(name, "PYRO:thing@127.0.0.1:4711", metadata=["m1"])
        got = [str(ns.lookup(name)), ns.count() > 1, sorted(ns.list(prefix="tls.").keys())]
        ns.remove(name)
        return got


client(cfg["ca"])
check("1way", lambda: session(cfg["oneway"]))


def tls_version(uri):
    with Pyro4.Proxy(uri) as p:
        p._pyroBind()
        return p._pyroConnection.sock.version()


check("1way-tls-version", lambda: tls_version(cfg["oneway"]))
check("hmac", lambda: session(cfg["hmac"], b"secret"))
check("hmac-wrong-key", lambda: session(cfg["hmac"], b"wrong"))
check("wrong-ip", lambda: session(cfg["wrongip"]))


def plain(uri, hmac=None):
    Pyro4.config.SSL = False
    try:
        return session(uri, hmac)
    finally:
        Pyro4.config.SSL = True


check("plain-client", lambda: plain(cfg["oneway"]))
check("plain-client-hmac", lambda: plain(cfg["hmac"], b"secret"))


# A Pyro4 daemon with SSL, registered in our name server, reached through a
# PYRONAME proxy: the lookup is TLS to us, the call TLS to the daemon.
@Pyro4.expose
class Echo(object):
    def echo(self, x):
        return x


def pyroname():
    Pyro4.config.SSL_SERVERCERT = cfg["servercert"]
    Pyro4.config.SSL_SERVERKEY = cfg["serverkey"]
    daemon = Pyro4.Daemon(host="127.0.0.1")
    uri = daemon.register(Echo())
    t = threading.Thread(target=daemon.requestLoop)
    t.daemon = True
    t.start()
    try:
        with Pyro4.Proxy(cfg["oneway"]) as ns:
            ns.register("echo.tls", uri)
        with Pyro4.Proxy("PYRONAME:echo.tls@" + Pyro4.URI(cfg["oneway"]).location) as p:
            return [p.echo("héllo"), p._pyroConnection.sock.version()]
    finally:
        daemon.shutdown()
        t.join(10)


check("pyroname", pyroname)


def located():
    Pyro4.config.NS_BCPORT = cfg["bcport"]
    Pyro4.config.NS_PORT = cfg["noport"]
    with Pyro4.locateNS() as ns:
        ns.ping()
        return [str(ns._pyroUri), ns._pyroConnection.sock.version()]


check("broadcast", located)

client(cfg["otherca"])
check("wrong-ca", lambda: session(cfg["oneway"]))

client(cfg["ca"], cfg["clientcert"], cfg["clientkey"])
check("2way", lambda: session(cfg["twoway"]))

client(cfg["ca"])
check("2way-no-cert", lambda: session(cfg["twoway"]))

print("DONE")
