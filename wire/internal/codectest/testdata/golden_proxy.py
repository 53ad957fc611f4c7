"""The Pyro4 proxies that gen_codecs.py and gen_serpent.py serialize."""
import Pyro4.core


def proxy(uri, **attrs):
    """A proxy as a client holds one after connecting; creating it connects nothing."""
    p = Pyro4.core.Proxy(uri)
    for k, v in attrs.items():
        setattr(p, k, v)
    return p


def full_proxy(uri):
    """A proxy with every part of its state set (one member per set: stable order)."""
    return proxy(uri, _pyroOneway={"shutdown"}, _pyroMethods={"ping"}, _pyroAttrs={"name"},
                 _pyroHmacKey=b"secret", _pyroHandshake={"token": 42}, _pyroMaxRetries=3,
                 _pyroSerializer="json", _pyroTimeout=2.5)
