# Python's check_hostname with Pyro4's client context: for each host name
# argument, a handshake with the server at 127.0.0.1:PORT that checks the
# certificate for that name. Prints "<host> OK" or "<host> ERR <message>".
import socket
import sys
import Pyro4.socketutil as su
from Pyro4 import config

port = int(sys.argv[1])
ctx = su.getSSLcontext(cacerts=config.SSL_CACERTS)
for host in sys.argv[2:]:
    try:
        raw = socket.create_connection(("127.0.0.1", port), timeout=5)
        with ctx.wrap_socket(raw, server_hostname=host) as s:
            pass
        print(host, "OK")
    except Exception as e:
        print(host, "ERR", e)
