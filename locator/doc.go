// Package locator is the client side of Pyro4: a connection to one remote
// object (Dial, Conn.Invoke, Conn.InvokeBatch), a typed client for the name
// server's methods (NameServer), Pyro4's way of finding a name server
// (Locate: a given host, the local host, a UDP broadcast, then NS_HOST) and
// the resolution of PYRONAME: and PYROMETA: URIs (Resolve).
//
// Options.TLS makes every connection TLS (Pyro4's SSL): the host of the
// URI is checked against the server certificate, as Python's
// check_hostname does, and handshake failures come back explained (the
// server wants a client certificate, the host is not in the certificate,
// an unknown authority, a server not speaking TLS). Broadcast stays UDP.
//
// Everything is configured through explicit option structs; the package
// never reads the environment. Errors that Pyro4 would raise as exceptions
// are *wire.Exception values with Pyro4's class names: a remote exception
// as the server sent it, a local failure (connect, timeout, protocol) with
// the class Pyro4's proxy would raise for it.
package locator
