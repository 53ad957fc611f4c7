// Package opsweb is the name server's operations endpoint: an http.Handler
// serving Prometheus metrics, health and readiness, a read-only JSON API of
// the registry, a server-sent-event stream of its changes and a live
// registry page, all from one binary with no files on disk.
//
// The package knows nothing of the server: it reads the registry through
// the Source interface, changes through Feed, and status and readiness
// through plain functions in Options, so the server (or a test) adapts
// whatever it has. Fanout is a ready Feed: the server publishes each change
// into it and every event stream gets its own bounded buffer.
//
// Routes (GET and HEAD only; any other method on a route is 405, since the
// API never writes):
//
//	/                      the registry page (embedded HTML, CSS and JS)
//	/metrics               Prometheus text format, from a registry the handler owns
//	/healthz               200 "ok" while the process serves
//	/readyz                200 "ready", or 503 with the reason Options.Ready gives
//	/api/v1/names          [{"name","uri","metadata"}] in list() order;
//	                       ?prefix= ?regex= ?metadata_all= ?metadata_any= (repeatable)
//	/api/v1/names/{name}   one {"name","uri","metadata"}; 404 {"error":"unknown name: ..."}
//	/api/v1/status         Status as JSON
//	/api/v1/events         text/event-stream of register, change and remove events
//
// The JSON shapes are those of `pyro4 nsc --json`: metadata is a sorted
// array without duplicates, [] when empty. API errors are {"error": text},
// where text is the name server's own message (a NamingError's, for a bad
// filter).
package opsweb
