# One TLS client connection as Pyro4 makes it: the context from
# Pyro4.socketutil.getSSLcontext with the PYRO_SSL_* items of the
# environment, the socket from createSocket (server_hostname is the host
# connected to). Prints OK <echo> <version> or ERR <class> <message>.
# Mode "plain" connects a Pyro proxy without SSL instead.
import sys
import Pyro4
import Pyro4.socketutil as su
from Pyro4 import config

host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
try:
    if mode == "plain":
        config.SSL = False
        p = Pyro4.Proxy("PYRO:obj@%s:%d" % (host, port))
        p._pyroTimeout = 5
        p._pyroBind()
        print("OK bound")
    else:
        ctx = su.getSSLcontext(clientcert=config.SSL_CLIENTCERT, clientkey=config.SSL_CLIENTKEY,
                               keypassword=config.SSL_CLIENTKEYPASSWD, cacerts=config.SSL_CACERTS)
        s = su.createSocket(connect=(host, port), sslContext=ctx, timeout=5)
        s.sendall(b"hello\n")
        data = s.recv(100)
        if not data:
            raise ConnectionError("closed by the server")
        print("OK", data.decode().strip(), s.version())
except Exception as e:
    print("ERR", type(e).__name__, e)
