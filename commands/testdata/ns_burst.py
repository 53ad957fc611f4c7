# Registers names from several threads at once, each through its own
# connection, and prints "ok NAME" as soon as the name server's reply to
# NAME's registration has arrived. The test kills the server in the middle;
# every name printed must survive a restart.
#   ns_burst.py URI THREADS PER_THREAD
import sys
import threading

import Pyro4

uri, threads, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
out = threading.Lock()


def worker(t):
    with Pyro4.Proxy(uri) as ns:
        for i in range(per):
            name = "burst.%d.%d" % (t, i)
            try:
                ns.register(name, "PYRO:obj_%d_%d@127.0.0.1:%d" % (t, i, 1024 + i), metadata={"t%d" % t, "i%d" % i})
            except Exception as e:
                with out:
                    print("stopped %s %s" % (name, type(e).__name__), flush=True)
                return
            with out:
                print("ok " + name, flush=True)


ts = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
