# A Pyro4 application talking to the name server nodes of one cluster.
# Reads one JSON request a line on stdin, answers one JSON line on stdout:
#   {"op": "list", "ns": URI}                    -> {"ok": [[name, uri, sorted metadata], ...]} in list() order
#   {"op": "lookup", "ns": URI, "name": N}       -> {"ok": [uri, sorted metadata]}
#   {"op": "register", "ns": URI, "name": N, "uri": U, "meta": [...], "safe": bool} -> {"ok": null}
#   {"op": "setmeta", "ns": URI, "name": N, "meta": [...]}
#   {"op": "remove", "ns": URI, "name"|"prefix"|"regex": ...} -> {"ok": count}
#   {"op": "race", "ns": [URI, ...], "name": N, "n": 20}
#       n threads register(N, safe=True) at once, spread over the nodes
#       -> {"ok": successes, "errors": [message of each failure]}
# A Pyro4 exception is {"err": class name, "msg": text}; every answer has
# "s", the seconds the call took.
import json
import sys
import threading
import time

import Pyro4
import Pyro4.errors


def proxy(uri):
    p = Pyro4.Proxy(uri)
    p._pyroTimeout = 20
    return p


def call(req):
    op = req["op"]
    if op == "race":
        return race(req)
    with proxy(req["ns"]) as ns:
        if op == "list":
            return [[k, v, sorted(m)] for k, (v, m) in ns.list(return_metadata=True).items()]
        if op == "lookup":
            uri, md = ns.lookup(req["name"], return_metadata=True)
            return [str(uri), sorted(md)]
        if op == "register":
            ns.register(req["name"], req["uri"], safe=req.get("safe", False), metadata=set(req.get("meta") or []))
            return None
        if op == "setmeta":
            ns.set_metadata(req["name"], set(req.get("meta") or []))
            return None
        if op == "remove":
            return ns.remove(name=req.get("name"), prefix=req.get("prefix"), regex=req.get("regex"))
    raise ValueError("unknown op " + op)


def race(req):
    nodes, name, n = req["ns"], req["name"], req["n"]
    proxies = [proxy(nodes[i % len(nodes)]) for i in range(n)]
    for p in proxies:
        p._pyroBind()
    start = threading.Barrier(n)
    wins, errors, lock = [0], [], threading.Lock()

    def one(i):
        start.wait()
        try:
            proxies[i].register(name, "PYRO:racer%d@127.0.0.1:%d" % (i, 40000 + i), safe=True)
            with lock:
                wins[0] += 1
        except Pyro4.errors.NamingError as e:
            with lock:
                errors.append(str(e))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in proxies:
        p._pyroRelease()
    return wins[0], errors


for line in sys.stdin:
    req = json.loads(line)
    t0 = time.time()
    try:
        res = call(req)
        if req["op"] == "race":
            out = {"ok": res[0], "errors": res[1]}
        else:
            out = {"ok": res}
    except Pyro4.errors.PyroError as e:
        out = {"err": type(e).__name__, "msg": str(e)}
    out["s"] = time.time() - t0
    print(json.dumps(out), flush=True)
