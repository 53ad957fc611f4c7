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

// restartOnly lists the settings a running server cannot change, by the
// configuration key that sets them, with a rendering of the value for the
// log (a key's value is never shown).
var restartOnly = []struct {
	key  string
	show func(Settings) string
}{
	{"host", func(s Settings) string { return s.Host }},
	{"port", func(s Settings) string { return strconv.Itoa(s.Port) }},
	{"unixsocket", func(s Settings) string { return s.UnixSocket }},
	{"storage", func(s Settings) string { return s.Storage }},
	{"broadcast.enabled", func(s Settings) string { return strconv.FormatBool(s.Broadcast) }},
	{"broadcast.host", func(s Settings) string { return s.BroadcastHost }},
	{"broadcast.port", func(s Settings) string { return strconv.Itoa(s.BroadcastPort) }},
	{"serializers_accepted", func(s Settings) string { return strings.Join(s.SerializersAccepted, ",") }},
	{"comm_timeout", func(s Settings) string { return s.CommTimeout.String() }},
	{"autoclean", func(s Settings) string { return s.AutoClean.String() }},
	{"max_message_size", func(s Settings) string { return strconv.Itoa(s.MaxMessageSize) }},
	{"compression", func(s Settings) string { return strconv.FormatBool(s.Compression) }},
	{"hmac key", func(s Settings) string { return fmt.Sprintf("%x", s.HMACKey) }},
}

// NeedRestart names the settings that differ between running and next but
// cannot change in a running server, as "key (old -> new)"; the HMAC key's
// value is not shown.
func NeedRestart(running, next Settings) []string {
	var out []string
	for _, r := range restartOnly {
		old, cur := r.show(running), r.show(next)
		if old == cur {
			continue
		}
		if r.key == "hmac key" {
			out = append(out, r.key)
			continue
		}
		out = append(out, fmt.Sprintf("%s (%q -> %q)", r.key, old, cur))
	}
	return out
}
