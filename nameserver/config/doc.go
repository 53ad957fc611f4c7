// Package config is the name server's configuration file: a TOML file that
// sets what pyro4 ns's options and PYRO_* items set, plus static
// registrations, and that is applied again while the server runs.
//
// Parsing lives here and only here: Parse decodes strictly (an unknown key is
// an error naming the file and line), validates every value, and produces a
// Config that can no longer be wrong. Reloading is a feature of this layer as
// well, in the manner of CoreDNS: a Reloader watches the file, and when it
// changes re-reads it and applies the difference to the running server
// through a narrow Target (static registrations, NAT). The server's request
// handling knows nothing about files. A file that does not parse changes
// nothing; settings that only take effect at startup are reported as needing
// a restart.
package config
