package config

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/pyro4/pyro4/nameserver"
	"github.com/pyro4/pyro4/persist"
	"github.com/pyro4/pyro4/wire"
)

// Settings is everything a name server or a client runs with once every
// source has been layered: Pyro4's defaults, the configuration file, the
// PYRO_* items and the command line, each over the one before (Resolve).
type Settings struct {
	Host       string // where a server binds
	NSHost     string // where a client looks for the name server
	Port       int    // the name server's port
	UnixSocket string
	Storage    string // a persist.ParseStorage spec

	Broadcast      bool // start the broadcast responder (when the bind allows it)
	BroadcastHost  string
	BroadcastPort  int
	BroadcastAddrs []string // where a client broadcasts to find a name server

	NATHost string
	NATPort int

	SerializersAccepted []string
	Serializer          string // what a client sends with
	CommTimeout         time.Duration
	AutoClean           time.Duration
	MaxMessageSize      int
	Compression         bool
	HMACKey             []byte

	ReplyBudget    int           // bytes of replies waiting to be sent, over all clients; 0 = unlimited
	ScanTimeout    time.Duration // the longest one list or remove may scan; 0 = unbounded
	MaxConnections int           // 0 = unlimited

	LogLevel string // PYRO_LOGLEVEL, "" for the command's own levels
	LogFile  string // PYRO_LOGFILE, "" or "{stderr}" for standard error
	// LogFormat is the server log's format: "text" (slog's key=value) or
	// "json" (one object a line).
	LogFormat string
	// HTTPListen is where the operations endpoint (metrics, health, the
	// names API and page) listens; "" for nowhere.
	HTTPListen string

	// TLS is for the commands to load through tlsconf: the listener's
	// certificate (with rotation) and the client tools' connections.
	TLS TLS

	// Etcd is how an "etcd:" storage reaches its cluster (EtcdOptions).
	Etcd Etcd

	// Static are the static registrations; only the file sets them.
	Static []persist.Entry
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
		ReplyBudget:    unlimitedIfZero(int64(s.ReplyBudget)),
		ScanTimeout:    time.Duration(unlimitedIfZero(int64(s.ScanTimeout))),
		MaxConnections: s.MaxConnections,
	}, nil
}

// unlimitedIfZero maps a setting's 0 (no limit) to the Options' negative
// value for none; the Options' own 0 means their default.
func unlimitedIfZero(v int64) int64 {
	if v == 0 {
		return -1
	}
	return v
}

// restart is a setting that changed where a running server cannot take it.
type restart struct {
	key, old, new string
	secret        bool // a key: say that it changed, not what to
}

// needRestart lists the settings that differ between running and next but
// cannot change in a running server.
func needRestart(running, next *Resolved) []restart {
	var out []restart
	for _, it := range items {
		if it.live || it.scope&ForServer == 0 {
			continue
		}
		old, cur := it.get(&running.l), it.get(&next.l)
		if old.text() == cur.text() {
			continue
		}
		_, isSecret := cur.(*Value[Secret])
		out = append(out, restart{it.key, old.text(), cur.text(), isSecret})
	}
	return out
}

// override is a setting the file changed whose value in effect is another
// source's.
type override struct {
	key string
	by  Source
}

// overridden lists the settings the file changed (from prevFile to
// nextFile, each the file's own layer) whose value in effect (next) comes
// from a flag or a PYRO_* item and differs from the file's, which
// therefore does not take effect.
func overridden(prevFile, nextFile Layer, next *Resolved) []override {
	prev, cur := layered(prevFile), layered(nextFile)
	var out []override
	for _, it := range items {
		if it.get(&prev.l).text() == it.get(&cur.l).text() {
			continue
		}
		eff := it.get(&next.l)
		if src := eff.source(); src.Origin > FromFile && eff.text() != it.get(&cur.l).text() {
			out = append(out, override{it.key, src})
		}
	}
	return out
}

// layered lays the layers over the defaults without validating: for
// comparing what a file sets.
func layered(layers ...Layer) *Resolved {
	r := &Resolved{l: defaultLayer()}
	for i := range layers {
		for _, it := range items {
			it.get(&r.l).take(it.get(&layers[i]))
		}
	}
	return r
}
