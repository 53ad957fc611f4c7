# Connects to a name server once with each serializer a Pyro4 client can
# choose and prints one JSON line per serializer: [serializer, "ok",
# count, lookup of Pyro.NameServer] or [serializer, "err", exception class,
# message]. The name server's location is printed as NSLOC, so runs against
# different servers compare.
#
# usage: serializer_probe.py NS_URI
import json
import sys

import Pyro4

ns_uri = sys.argv[1]
u = Pyro4.URI(ns_uri)


def norm(s):
    return s.replace(u.location, "NSLOC").replace(repr((u.host, u.port)), "NSLOC")


for ser in ("serpent", "json", "marshal", "msgpack", "pickle"):
    p = Pyro4.Proxy(ns_uri)
    p._pyroSerializer = ser
    try:
        with p:
            r = [ser, "ok", p.count(), norm(str(p.lookup("Pyro.NameServer")))]
    except Exception as x:
        r = [ser, "err", type(x).__name__, norm(str(x))]
    print(json.dumps(r))
print("DONE")
