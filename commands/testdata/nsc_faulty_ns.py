# A name server for nsc's failure tests, run by the real Pyro4 on
# 127.0.0.1:PORT (argv[1]): list() drops the caller's connection before it
# answers, lookup() never answers; every other method is Pyro4's own.
import socket
import sys
import threading

import Pyro4
import Pyro4.constants
import Pyro4.core
import Pyro4.naming


@Pyro4.expose
class FaultyNameServer(Pyro4.naming.NameServer):
    def list(self, *args, **kwargs):
        Pyro4.current_context.client.sock.shutdown(socket.SHUT_RDWR)
        return {}

    def lookup(self, name, return_metadata=False):
        threading.Event().wait()


daemon = Pyro4.core.Daemon(host="127.0.0.1", port=int(sys.argv[1]))
uri = daemon.register(FaultyNameServer(), Pyro4.constants.NAMESERVER_NAME)
print("URI =", uri)
daemon.requestLoop()
