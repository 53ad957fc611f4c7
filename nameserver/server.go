package nameserver

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/pyro4/pyro4/persist"
	"github.com/pyro4/pyro4/wire"
)

// Options configure a Server. The zero value serves on localhost at a random
// port with the in-memory store and Pyro4's default serializers.
type Options struct {
	Host           string        // bind host; "" -> "localhost"
	Port           int           // 0 -> random port
	UnixSocket     string        // when set, listen on this Unix socket instead of TCP
	NATHost        string        // external host in handed-out URIs; "" = none
	NATPort        int           // external port; 0 -> the bound port when NATHost is set
	BroadcastHost  string        // "" -> "0.0.0.0" (or "::" for an IPv6 bind)
	BroadcastPort  int           // 9091 conventionally; 0 -> random
	NoBroadcast    bool          // do not start the UDP responder
	Store          persist.Store // nil -> persist memory store
	HMACKey        []byte        // when set, every message must carry a matching HMAC
	Accepted       wire.Accepted // nil -> serpent, marshal, json
	CommTimeout    time.Duration // 0 = none; closes connections idle this long
	MaxMessageSize int           // 0 = unlimited
	Compression    bool          // compress replies >= 200 bytes as Pyro4 COMPRESSION does
	AutoClean      time.Duration // 0 = off; < 3s is an error, as in Pyro4
	Logger         *slog.Logger  // nil -> discard
}

// Server is a running name server: its listeners are bound by New.
type Server struct {
	opts Options
	reg  *Registry
}

// New binds the listeners (TCP or Unix socket, plus the UDP broadcast
// responder when it applies) and registers Pyro.NameServer in the store.
func New(opts Options) (*Server, error) {
	return nil, errors.New("nameserver: not implemented yet")
}

// URI is the name server URI clients use: the NAT location when one is set.
func (s *Server) URI() wire.URI { return wire.URI{} }

// InternalURI is the name server URI at the bound location.
func (s *Server) InternalURI() wire.URI { return wire.URI{} }

// BroadcastAddr is the UDP address of the broadcast responder, nil when none runs.
func (s *Server) BroadcastAddr() net.Addr { return nil }

// Serve accepts and serves connections until ctx is done or Close is called.
// It returns nil on such a clean stop.
func (s *Server) Serve(ctx context.Context) error {
	return errors.New("nameserver: not implemented yet")
}

// Close stops the server: listeners, connections, responder and autocleaner.
func (s *Server) Close() error { return nil }

// Registry returns the server's registry, for in-process use.
func (s *Server) Registry() *Registry { return s.reg }

// SetNAT changes the external location used for URIs handed out from now on
// (the Pyro.NameServer registration included). An empty host removes NAT.
func (s *Server) SetNAT(host string, port int) {}
