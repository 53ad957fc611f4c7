// Package config resolves the settings of the name server and of the client
// commands, in one place, in the manner of CoreDNS: settings are parsed and
// checked here, behaviour lives elsewhere.
//
// Each source produces the same partial type, a Layer: Pyro4's defaults
// (defaults.go, taking the protocol's own from wire), the TOML file (Parse,
// then Config.Layer), the PYRO_* environment (EnvLayer, which accounts for
// every item of Pyro4's configuration.py) and the command line (built by the
// commands with Flag). Resolve lays them default, file, environment, flag,
// records where each value came from (default, FILE:LINE, environment
// PYRO_X, flag -p) and checks the result. That record is what pyro4 ns
// --check prints and what the reload log names when a flag or an item
// overrides an edited file.
//
// The file is strict: an unknown key is an error naming the file and line,
// and a Config that parsed can no longer be wrong. A Reloader watches the
// file and applies the difference to the running server through a narrow
// Target (static registrations, NAT); the server's request handling knows
// nothing about files. A file that does not parse changes nothing; settings
// that only take effect at startup are reported as needing a restart.
package config
