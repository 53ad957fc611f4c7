# Writes registrations to, or lists, a name server, for the migrate tests.
#   migrate_session.py NS_URI write|list
# list prints one JSON line: [[name, uri, sorted metadata], ...] in the
# order list(return_metadata=True) gives, without the name server's own
# entry (its URI names the server's port).
import json
import sys

import Pyro4

ns = Pyro4.Proxy(sys.argv[1])
if sys.argv[2] == "write":
    ns.register("app.b", "PYRO:b@127.0.0.1:5001", metadata=["class:B", "team:x"])
    ns.register("app.a", "PYRO:a@127.0.0.1:5002")
    ns.register("日本.サービス", "PYRO:jp@127.0.0.1:5003", metadata=["言語:日本語"])
    ns.register("café.crème", "PYRO:cafe@127.0.0.1:5004")
    ns.register("app.b", "PYRO:b2@127.0.0.1:5001", metadata=["class:B"])
    ns.remove("app.a")
    ns.register("app.a", "PYRO:a2@127.0.0.1:5002")
else:
    out = [[k, v[0], sorted(v[1])] for k, v in ns.list(return_metadata=True).items() if k != "Pyro.NameServer"]
    print(json.dumps(out, ensure_ascii=False))
