# Writes to, or dumps, a name server on a Pyro4 sqlite store (-s sql:FILE),
# for the Go test that serves the same file with pyro4-ns and with ours in
# turn. dump prints one JSON line per listing: [label, [[name, uri,
# sorted metadata], ...]] in the order received; the name server's own
# location is replaced by NSLOC so that two servers on other ports compare.
#
# usage: sql_session.py NS_URI write1|write2|dump
import json
import sys

import Pyro4

ns_uri, phase = sys.argv[1], sys.argv[2]
loc = Pyro4.URI(ns_uri).location
ns = Pyro4.Proxy(ns_uri)

if phase == "write1":
    ns.register("app.b", "PYRO:b@127.0.0.1:5001", metadata=["class:B", "team:x"])
    ns.register("app.a", "PYRO:a@127.0.0.1:5002")
    ns.register("日本.サービス", "PYRO:jp@127.0.0.1:5003", metadata=["言語:日本語"])
    ns.register("café.crème", "PYRO:cafe@127.0.0.1:5004", metadata=["é", "x"])
    ns.register("app.c", "PYRO:c@./u:/run/c.sock")
    ns.register("app.b", "PYRO:b2@127.0.0.1:5001", metadata=["class:B"])  # moves to the end
    ns.set_metadata("app.a", ["t1", "t2"])                                  # moves to the end
    ns.remove("app.c")
elif phase == "write2":
    ns.register("app.d", "PYRO:d@127.0.0.1:5005", metadata=["team:x"])
    ns.set_metadata("日本.サービス", ["言語:日本語", "新"])
    ns.register("app.a", "PYRO:a3@127.0.0.1:5002", metadata=["t3"])
    ns.remove(prefix="café")
    ns.register("Ünïcode", "PYRO:u@127.0.0.1:5006")
elif phase == "dump":
    def rows(result, meta):
        out = []
        for name, v in result.items():
            if meta:
                out.append([name, v[0].replace(loc, "NSLOC"), sorted(v[1])])
            else:
                out.append([name, v.replace(loc, "NSLOC")])
        return out
    for label, kw in [
        ("all", {}),
        ("prefix-app", {"prefix": "app."}),
        ("prefix-jp", {"prefix": "日本"}),
        ("regex", {"regex": "app\\..*|.*\\..*"}),
        ("meta-all", {"metadata_all": ["team:x"]}),
        ("meta-any", {"metadata_any": ["t1", "t3", "言語:日本語", "class:B"]}),
    ]:
        for meta in (False, True):
            print(json.dumps([label + ("-meta" if meta else ""), rows(ns.list(return_metadata=meta, **kw), meta)], ensure_ascii=False))
    print(json.dumps(["count", ns.count()]))
