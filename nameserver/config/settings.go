package config

import (
	"bytes"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pyro4/pyro4/nameserver"
	"github.com/pyro4/pyro4/persist"
	"github.com/pyro4/pyro4/wire"
)

// Settings is everything a name server runs with once every source has been
// layered: Pyro4's defaults, the configuration file, the PYRO_* items and
// the command line, each over the one before.
type Settings struct {
	Host       string
	Port       int
	UnixSocket string
	Storage    string // a persist.ParseStorage spec

	Broadcast     bool // start the broadcast responder (when the bind allows it)
	BroadcastHost string
	BroadcastPort int

	NATHost string
	NATPort int

	SerializersAccepted []string
	CommTimeout         time.Duration
	AutoClean           time.Duration
	MaxMessageSize      int
	Compression         bool
	HMACKey             []byte

	// Static are the static registrations; only the file sets them.
	Static []persist.Entry
}

// Defaults returns Pyro4 4.82's defaults for a name server.
func Defaults() Settings {
	return Settings{
		Host:                "localhost",
		Port:                9090,
		Storage:             "memory",
		Broadcast:           true,
		BroadcastPort:       9091,
		SerializersAccepted: slices.Clone(wire.DefaultAccepted),
	}
}

// Apply overlays what c sets onto s. A nil c sets nothing.
func (c *Config) Apply(s *Settings) {
	if c == nil {
		return
	}
	setStr := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	setInt := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	setDur := func(dst *time.Duration, v *time.Duration) {
		if v != nil {
			*dst = *v
		}
	}
	setStr(&s.Host, c.Host)
	setInt(&s.Port, c.Port)
	setStr(&s.UnixSocket, c.UnixSocket)
	setStr(&s.Storage, c.Storage)
	if c.BroadcastEnabled != nil {
		s.Broadcast = *c.BroadcastEnabled
	}
	setStr(&s.BroadcastHost, c.BroadcastHost)
	setInt(&s.BroadcastPort, c.BroadcastPort)
	setStr(&s.NATHost, c.NATHost)
	setInt(&s.NATPort, c.NATPort)
	if c.SerializersAccepted != nil {
		s.SerializersAccepted = slices.Clone(c.SerializersAccepted)
	}
	setDur(&s.CommTimeout, c.CommTimeout)
	setDur(&s.AutoClean, c.AutoClean)
	setInt(&s.MaxMessageSize, c.MaxMessageSize)
	if c.Compression != nil {
		s.Compression = *c.Compression
	}
	if c.HMACKey != nil {
		s.HMACKey = bytes.Clone(c.HMACKey)
	}
	s.Static = slices.Clone(c.Registrations)
}

// Options turns the settings into the server's options. The store is opened
// by the caller (it outlives a failed New, and the caller closes it).
func (s Settings) Options(store persist.Store, logger *slog.Logger) (nameserver.Options, error) {
	acc, err := wire.ParseAccepted(strings.Join(s.SerializersAccepted, ","))
	if err != nil {
		return nameserver.Options{}, fmt.Errorf("serializers accepted: %w", err)
	}
	return nameserver.Options{
		Host:           s.Host,
		Port:           s.Port,
		UnixSocket:     s.UnixSocket,
		NATHost:        s.NATHost,
		NATPort:        s.NATPort,
		BroadcastHost:  s.BroadcastHost,
		BroadcastPort:  s.BroadcastPort,
		NoBroadcast:    !s.Broadcast,
		Store:          store,
		HMACKey:        bytes.Clone(s.HMACKey),
		Accepted:       acc,
		CommTimeout:    s.CommTimeout,
		MaxMessageSize: s.MaxMessageSize,
		Compression:    s.Compression,
		AutoClean:      s.AutoClean,
		Logger:         logger,
	}, nil
}

// settingKeys lists the settings a file sets other than the static
// registrations, by the configuration key that sets them, with a rendering
// of the value for the log (a key's value is never shown), whether a running
// server takes a change (live), and the flags and PYRO_* items that override
// the file.
var settingKeys = []struct {
	key  string
	show func(Settings) string
	live bool
	over string
}{
	{"host", func(s Settings) string { return s.Host }, false, "-n, PYRO_HOST"},
	{"port", func(s Settings) string { return strconv.Itoa(s.Port) }, false, "-p, PYRO_NS_PORT"},
	{"unixsocket", func(s Settings) string { return s.UnixSocket }, false, "-u"},
	{"storage", func(s Settings) string { return s.Storage }, false, "-s"},
	{"broadcast.enabled", func(s Settings) string { return strconv.FormatBool(s.Broadcast) }, false, "-x"},
	{"broadcast.host", func(s Settings) string { return s.BroadcastHost }, false, "--bchost, PYRO_NS_BCHOST"},
	{"broadcast.port", func(s Settings) string { return strconv.Itoa(s.BroadcastPort) }, false, "--bcport, PYRO_NS_BCPORT"},
	{"nat.host", func(s Settings) string { return s.NATHost }, true, "--nathost, PYRO_NATHOST"},
	{"nat.port", func(s Settings) string { return strconv.Itoa(s.NATPort) }, true, "--natport, PYRO_NATPORT"},
	{"serializers_accepted", func(s Settings) string { return strings.Join(s.SerializersAccepted, ",") }, false, "PYRO_SERIALIZERS_ACCEPTED"},
	{"comm_timeout", func(s Settings) string { return s.CommTimeout.String() }, false, "PYRO_COMMTIMEOUT"},
	{"autoclean", func(s Settings) string { return s.AutoClean.String() }, false, "PYRO_NS_AUTOCLEAN"},
	{"max_message_size", func(s Settings) string { return strconv.Itoa(s.MaxMessageSize) }, false, "PYRO_MAX_MESSAGE_SIZE"},
	{"compression", func(s Settings) string { return strconv.FormatBool(s.Compression) }, false, "PYRO_COMPRESSION"},
	{"hmac key", func(s Settings) string { return fmt.Sprintf("%x", s.HMACKey) }, false, "-k, PYRO_HMAC_KEY"},
}

// NeedRestart names the settings that differ between running and next but
// cannot change in a running server, as "key (old -> new)"; the HMAC key's
// value is not shown.
func NeedRestart(running, next Settings) []string {
	var out []string
	for _, k := range settingKeys {
		old, cur := k.show(running), k.show(next)
		if k.live || old == cur {
			continue
		}
		if k.key == "hmac key" {
			out = append(out, k.key)
			continue
		}
		out = append(out, fmt.Sprintf("%s (%q -> %q)", k.key, old, cur))
	}
	return out
}

// Overridden names the settings the file changed (from prevFile to
// nextFile, each the file alone over the defaults) whose value in effect
// (next, every source layered) is not the file's, which means a flag or a
// PYRO_* item sets them; each is "key (overridden by SOURCES)".
func Overridden(prevFile, nextFile, next Settings) []string {
	var out []string
	for _, k := range settingKeys {
		if k.show(prevFile) != k.show(nextFile) && k.show(next) != k.show(nextFile) {
			out = append(out, fmt.Sprintf("%s (overridden by %s)", k.key, k.over))
		}
	}
	return out
}
