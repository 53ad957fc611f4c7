// Package metrics is the name server's Prometheus metric set: request counts
// and durations by method and outcome, connections, registrations, changes,
// protocol-level errors, autoclean, broadcast, store commits, config reloads
// and build information.
//
// A *Metrics is a prometheus.Collector; whoever serves /metrics registers it
// on a registry of its own (no global default registry is touched). The
// recording methods are called on the server's request path, so each is
// allocation-free after the first use of a label combination and never
// creates a label value from client input: a method name outside the
// NameServer and Daemon methods counts as "other", and an outcome outside the
// fixed set of Pyro4 error classes counts as "other". No label ever carries a
// registered name or a peer address.
//
// A nil *Metrics records nothing, so a server without metrics calls the same
// methods unconditionally.
package metrics
