package wire

import "time"

// Pyro4 4.82's defaults for the settings that the protocol's two ends must
// agree on (configuration.py). This is their one home: the server, the
// client and the settings resolver all take them from here.
const (
	// DefaultHost is HOST, where a server binds: not reachable from other
	// machines unless changed.
	DefaultHost = "localhost"
	// DefaultNSHost is NS_HOST, where a client looks for the name server.
	DefaultNSHost = DefaultHost
	// DefaultNSPort is NS_PORT, the name server's TCP port; also the port a
	// PYRONAME or PYROMETA URI gets when it names a host without one.
	DefaultNSPort = 9090
	// DefaultBcPort is NS_BCPORT, the UDP port of the broadcast responder.
	DefaultBcPort = 9091
	// DefaultSerializer is SERIALIZER, what a client sends with.
	DefaultSerializer = "serpent"
	// MinAutoClean is the smallest NS_AUTOCLEAN interval other than 0 (off):
	// Pyro4's AutoCleaner.min_autoclean_value.
	MinAutoClean = 3 * time.Second
)

// DefaultBroadcastAddrs is BROADCAST_ADDRS, where a client broadcasts to
// find a name server. Callers copy it before changing it.
var DefaultBroadcastAddrs = []string{"<broadcast>", "0.0.0.0"}
