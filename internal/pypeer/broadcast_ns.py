# A Pyro4 4.82 name server on 127.0.0.1 with its broadcast responder bound to
# 127.0.0.1 too: pyro4-ns starts no responder for a 127.x bind, and tests must
# not listen on, or send to, any non-loopback address.
#
# usage: python3 broadcast_ns.py NS_PORT BC_PORT (or through
# pypeer.StartBroadcastPythonNS)
import sys

from Pyro4 import naming

port, bcport = int(sys.argv[1]), int(sys.argv[2])
daemon = naming.NameServerDaemon("127.0.0.1", port)
uri = daemon.uriFor(daemon.nameserver)
bcserver = naming.BroadcastServer(uri, "127.0.0.1", bcport)
bcserver.runInThread()
print("Broadcast server running on %s" % bcserver.locationStr)
print("URI = %s" % uri, flush=True)
try:
    daemon.requestLoop()
finally:
    daemon.close()
    bcserver.close()
