# A TLS server as Pyro4's daemon makes it: the context from
# Pyro4.socketutil.getSSLcontext(servercert=...) with the PYRO_SSL_* items
# (SSL_REQUIRECLIENTCERT included), the listening socket from createSocket.
# Prints "port N", then echoes one line per connection; a failed handshake
# prints "handshake-error <message>" and the server goes on.
import sys
import Pyro4.socketutil as su
from Pyro4 import config

ctx = su.getSSLcontext(servercert=config.SSL_SERVERCERT, serverkey=config.SSL_SERVERKEY,
                       keypassword=config.SSL_SERVERKEYPASSWD, cacerts=config.SSL_CACERTS)
ls = su.createSocket(bind=("127.0.0.1", 0), sslContext=ctx, timeout=None)
print("port", ls.getsockname()[1])
while True:
    try:
        c, _ = ls.accept()
    except Exception as e:
        print("handshake-error", e)
        continue
    try:
        c.settimeout(5)
        line = c.recv(100)
        c.sendall(line)
        peer = c.getpeercert()
        print("served", peer.get("subject") if peer else "no-client-cert")
    except Exception as e:
        print("conn-error", e)
    finally:
        c.close()
