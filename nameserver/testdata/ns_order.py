# Replays a history of registrations against a name server and prints the
# key order of every list() variant, one JSON line per listing:
# [label, "ok", [keys in the order received]] (with return_metadata, each
# key is followed by its sorted metadata). The Go test runs it against the
# reference pyro4-ns and against our server and compares the lines; the
# order must be the same, not just the set of names.
#
# usage: ns_order.py NS_URI write|list
#   write: make the registrations, then list; list: only list (after a
#   restart of a server on a persistent store)
import json
import sys

import Pyro4

ns_uri, phase = sys.argv[1], sys.argv[2]
ns = Pyro4.Proxy(ns_uri)

if phase == "write":
    ns.register("b.2", "PYRO:b2@h:1")
    ns.register("a.1", "PYRO:a1@h:1", metadata=["m1", "m2"])
    ns.register("c", "PYRO:c@h:1")
    ns.register("b.1", "PYRO:b1@h:1", metadata=["m2"])
    ns.register("日本.x", "PYRO:jx@h:1", metadata=["m3"])
    ns.register("b.2", "PYRO:b2again@h:1")              # re-register: keeps its place
    ns.set_metadata("a.1", ["m3", "m1"])                # keeps its place
    ns.remove("c")
    ns.register("c", "PYRO:c2@h:1", metadata=["m1"])    # removed then registered: last
    ns.register("a.0", "PYRO:a0@h:1", metadata=["m1"])
    ns.set_metadata("b.1", ["m1"])
    ns.register("é", "PYRO:e@h:1")
    ns.register("a.2", "PYRO:a2@h:1", metadata=["m2"])
    ns.remove(prefix="a.2")
    ns.register("a.2", "PYRO:a2@h:1", metadata=["m2"], safe=True)
    ns.register("b.3", "PYRO:b3@h:1")
    ns.remove(regex="b\\.3")
    ns.register("b.0", "PYRO:b0@h:1", metadata=["m2", "m3"])

listings = [
    ("all", {}),
    ("prefix-a", {"prefix": "a"}),
    ("prefix-b.", {"prefix": "b."}),
    ("prefix-tuple", {"prefix": ("b.", "日")}),
    ("regex", {"regex": "[ab]\\..*"}),
    ("regex-all", {"regex": ".*"}),
    ("meta-all", {"metadata_all": ["m1"]}),
    ("meta-all-2", {"metadata_all": ["m1", "m3"]}),
    ("meta-any", {"metadata_any": ["m2", "m3"]}),
]
for label, kw in listings:
    for withmeta in (False, True):
        name = label + ("-meta" if withmeta else "")
        try:
            result = ns.list(return_metadata=withmeta, **kw)
        except Exception as x:
            print(json.dumps([name, "err", type(x).__name__, str(x)], ensure_ascii=False))
            continue
        if withmeta:
            keys = [[k, sorted(v[1])] for k, v in result.items()]
        else:
            keys = list(result.keys())
        print(json.dumps([name, "ok", keys], ensure_ascii=False))
print("DONE")
