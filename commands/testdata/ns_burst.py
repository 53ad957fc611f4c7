# Registers names from several threads at once, each through its own
# connection, and prints "ok NAME" as soon as the name server's reply to
# NAME's registration has arrived. Every third name then gets new metadata
# ("meta NAME" once acknowledged) and every third one after that is removed
# again ("removed NAME"). The test kills the server in the middle; every
# acknowledged state must survive a restart.
#   ns_burst.py URI THREADS PER_THREAD
import sys
import threading

import Pyro4

uri, threads, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
out = threading.Lock()


def ack(what):
    with out:
        print(what, flush=True)


def worker(t):
    with Pyro4.Proxy(uri) as ns:
        for i in range(per):
            name = "burst.%d.%d" % (t, i)
            try:
                ns.register(name, "PYRO:obj_%d_%d@127.0.0.1:%d" % (t, i, 1024 + i), metadata={"t%d" % t, "i%d" % i})
                ack("ok " + name)
                if i % 3 == 1:
                    ns.set_metadata(name, {"changed", "i%d" % i})
                    ack("meta " + name)
                elif i % 3 == 2:
                    if ns.remove(name) != 1:
                        sys.exit("remove %s found nothing" % name)
                    ack("removed " + name)
            except Exception as e:
                ack("stopped %s %s" % (name, type(e).__name__))
                return


ts = [threading.Thread(target=worker, args=(t,)) for t in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
