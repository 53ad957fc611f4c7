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
//
// # Layout
//
// A Server (server.go) owns all it serves: its listeners, its connections
// (conn.go: handshake, requests, replies), its cache of encoded CONNECTOK
// payloads and an object table (table.go), all built in New, as net/rpc's
// Server keeps its service map. An object (objects.go) is a fixed
// table of methods with their Python signatures, bound with CPython's rules;
// dispatch.go runs calls and batches. Each method is bound to its own
// object's receiver and sees only what that object needs:
//
//   - Pyro.NameServer (nsobject.go) works on the Registry (registry.go), the
//     name space over a persist.Store, and answers lookups from its URI
//     cache (uricache.go);
//   - Pyro.Daemon (daemonobject.go) answers from a small view of the
//     daemon's state (locations, connection count) and the object table.
//
// The registry reports every change (changes.go) to Options.OnChange, in
// each name's write order, and counts it in Options.Metrics; the
// connections record calls, connections and errors there too. audit.go
// logs each client's register, set_metadata and remove at INFO with the
// caller's address; listing.go is list() for in-process callers.
//
// pyvalue.go holds Python's value rules for arguments (hashability,
// iteration, the exceptions), regex.go Python regular expressions on RE2;
// broadcast.go is the UDP responder and autoclean.go the autocleaner;
// tls.go is the listener side of TLS (each connection's handshake under a
// deadline, the rate-limited log of failures, the answer to plain Pyro on a
// TLS port); codecs.go links in every serializer. shared.go is what changes
// on a store several servers share (a SharedStore, persist.Etcd): each
// server's own Pyro.NameServer entry stays in the server, autoclean runs on
// the leader of the store's election only, and a write the store cannot
// make for want of its cluster is NamingError('name server storage
// unavailable: ...').
// Nothing mutable is kept at package level, only fixed tables, so servers
// in one process share nothing but a store they are both given.
//
// # Compatibility
//
// Results, exception classes and messages are those of Pyro4 4.82's name
// server for every method and argument form, with every serializer; the
// tests run the same Python client scripts against pyro4-ns and this server
// and compare. The deliberate differences:
//
//   - Regular expressions (list and remove with regex) are Go's RE2 with
//     Python's re.match anchoring and Unicode \d \w \s, and \Z. Patterns RE2
//     cannot express (look-arounds, back-references, atomic groups) give
//     NamingError "invalid regex: ...", and the text after that prefix is
//     Go's, not Python's.
//   - Metadata must be str: a non-str member is a TypeError "metadata items
//     must be str, not int". Pyro4 stores any hashable value.
//   - A name longer than persist.MaxNameLen bytes cannot be registered:
//     NamingError "name too long: N bytes, at most 32767 (START...)", which
//     quotes only the first 40 characters. Pyro4 has no limit.
//   - Listings are in name order and metadata lists are sorted; Pyro4's
//     follow dict insertion and set iteration order.
//   - With the marshal serializer, lookup(name, return_metadata=True) works;
//     Pyro4 fails it with "unmarshallable object".
//   - Static entries (SetStatic, from the configuration file) cannot be
//     registered over, have their metadata set, or be removed by clients:
//     NamingError "name is statically configured: NAME (edit the config
//     file)". Prefix and regex removals skip them.
//   - Without a MaxMessageSize, a compressed message may inflate to 16 MiB;
//     beyond that it is a MessageTooLargeError, as over a MaxMessageSize.
//     Pyro4 inflates without bound.
//   - A call whose data does not decode gets a SerializeError reply and the
//     connection stays open (Pyro4's decoders raise assorted Python errors).
//     Exception tracebacks name this server's frame, not Python source lines.
//   - Pyro.Daemon info() ends in "Servertype: <goroutine server on LOC; N
//     connections>" where Pyro4 describes its thread pool.
//   - Autoclean probes its candidates a few at a time rather than one by
//     one, checks Unix-socket URIs by connecting to the socket, leaves URIs
//     without a location alone, and removes a name only if it still has the
//     URI that was found unreachable.
//   - A tuple prefix with a non-str member is refused before anything is
//     removed (Pyro4 raises the same TypeError lazily, mid-way).
//   - With Options.TLS, each connection's TLS handshake runs in its own
//     goroutine under TLSHandshakeTimeout (Pyro4 handshakes in its accept
//     loop, where one silent client stalls the others); failures are logged
//     as warnings with the peer and the reason, at most one line per reason
//     every 10 s. A plain Pyro client on the TLS port gets a plain
//     CONNECTFAIL saying to set PYRO_SSL; Pyro4 just closes.
package nameserver
