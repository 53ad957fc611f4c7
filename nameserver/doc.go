// Package nameserver is a Pyro4-compatible name server (protocol 48) as a
// library: the registry with the semantics of Pyro4 4.82's NameServer, the
// daemon that speaks the wire protocol to any Pyro4 client (handshake,
// invoke, batch, oneway, ping, the Pyro.Daemon object), the UDP broadcast
// responder, and the autocleaner.
//
// A Server binds its listeners in New and serves in Serve. Each connection
// gets its own goroutine, so there is no thread-pool ceiling and a slow
// client only ever holds up itself. Objects are dispatched through fixed
// method tables, never by reflection.
package nameserver
