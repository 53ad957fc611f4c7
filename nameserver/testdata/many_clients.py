# Opens many Pyro4 proxies to one name server at once, each with its own
# connection, and once they are all connected (and the Go side says go, by
# creating a file) has each register, look up and list its own name from its
# own thread. Prints READY when connected and "OK n" when every proxy got
# the right answers, or the failures.
#
# usage: many_clients.py NS_URI COUNT GO_FILE
import os
import sys
import threading
import time

import Pyro4

uri, count, go_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
proxies = []
for i in range(count):
    p = Pyro4.Proxy(uri)
    p._pyroBind()
    proxies.append(p)
print("READY", flush=True)
deadline = time.time() + 60
while not os.path.exists(go_file):
    if time.time() > deadline:
        print("no go signal", flush=True)
        sys.exit(1)
    time.sleep(0.02)

failures = []


def work(i, p):
    try:
        name = "py.client.%03d" % i
        target = "PYRO:obj%d@localhost:%d" % (i, 1000 + i)
        p.register(name, target, metadata=["py", "c%d" % i])
        got = p.lookup(name, return_metadata=True)
        if str(got[0]) != target or sorted(got[1]) != sorted(["py", "c%d" % i]):
            failures.append("%s: lookup gave %r" % (name, got))
        listed = p.list(prefix=name)
        if listed != {name: target}:
            failures.append("%s: list gave %r" % (name, listed))
        if len(p.list(metadata_all=["c%d" % i])) != 1:
            failures.append("%s: metadata search" % name)
    except Exception as x:
        failures.append("%d: %s: %s" % (i, type(x).__name__, x))


threads = [threading.Thread(target=work, args=(i, p)) for i, p in enumerate(proxies)]
for t in threads:
    t.start()
for t in threads:
    t.join()
for p in proxies:
    p._pyroRelease()
if failures:
    for f in failures:
        print("FAIL", f)
    sys.exit(1)
print("OK", count, flush=True)
