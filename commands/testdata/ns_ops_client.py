# A Pyro4 client for the operations endpoint's tests.
#   ns_ops_client.py URI register NAME URI [META...]  -> the wall-clock time
#                                                       (seconds) register returned
#   ns_ops_client.py URI list FILTER VALUE...         -> JSON [{"name","uri","metadata"}]
#                                                       in list() order, or {"error": str(e)}
#       FILTER: none, prefix, regex, metadata_all, metadata_any; the
#       metadata filters take every VALUE as one tag
#   ns_ops_client.py URI lookup NAME                  -> the URI, or "ERROR Class: text"
import json
import sys
import time

import Pyro4
import Pyro4.errors

uri, cmd = sys.argv[1], sys.argv[2]
args = sys.argv[3:]
with Pyro4.Proxy(uri) as ns:
    if cmd == "register":
        ns.register(args[0], args[1], metadata=set(args[2:]))
        print("%.6f" % time.time())
    elif cmd == "list":
        kind, values = args[0], args[1:]
        kw = {}
        if kind in ("prefix", "regex"):
            kw[kind] = values[0]
        elif kind in ("metadata_all", "metadata_any"):
            kw[kind] = set(values)
        try:
            entries = ns.list(return_metadata=True, **kw)
        except (Pyro4.errors.NamingError, ValueError) as e:
            print(json.dumps({"error": str(e)}))
        else:
            print(json.dumps([{"name": k, "uri": v, "metadata": sorted(m)} for k, (v, m) in entries.items()]))
    elif cmd == "lookup":
        try:
            print(ns.lookup(args[0]))
        except Exception as e:
            print("ERROR %s: %s" % (type(e).__name__, e))
    else:
        sys.exit("unknown command " + cmd)
