package commands

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pyro4/pyro4/metrics"
	"github.com/pyro4/pyro4/nameserver"
	"github.com/pyro4/pyro4/nameserver/config"
	"github.com/pyro4/pyro4/opsweb"
	"github.com/pyro4/pyro4/persist"
	"github.com/pyro4/pyro4/wire"
)

// feedBuffer is how many changes an event stream may fall behind before it
// is dropped (the page then reloads its snapshot).
const feedBuffer = 256

// opsEndpoint is the name server's operations endpoint (--http): metrics,
// health, the read-only names API, the change stream and the page.
type opsEndpoint struct {
	metrics *metrics.Metrics
	feed    *opsweb.Fanout
	server  atomic.Pointer[nameserver.Server] // set once the server is built
	started time.Time

	ln      net.Listener
	http    *http.Server
	handler *opsweb.Handler
	scheme  string
	served  chan error
	// cluster, for a shared store, reports its state.
	cluster func() *opsweb.ClusterStatus
	closed  sync.Once
	err     error
}

// newOpsEndpoint makes the metrics and the change feed, which the name
// server's options take; nil when settings has no [http] listen.
func newOpsEndpoint(s config.Settings) *opsEndpoint {
	if s.HTTPListen == "" {
		return nil
	}
	e := &opsEndpoint{feed: opsweb.NewFanout(feedBuffer), started: time.Now()}
	e.metrics = metrics.New(metrics.Options{Version: Version, Revision: Commit, Registrations: e.registrations})
	return e
}

// instrument hands the server the metrics and the change callback.
func (e *opsEndpoint) instrument(opts *nameserver.Options) {
	if e == nil {
		return
	}
	opts.Metrics = e.metrics
	opts.OnChange = func(c nameserver.Change) {
		e.feed.Publish(opsweb.Event{Op: opsweb.Op(c.Op.String()), Name: c.Name, URI: c.URI, Metadata: c.Metadata})
	}
}

// remoteChangeFunc returns what publishes a change another node made to the
// shared store in the change feed's terms: a new name or URI is a register,
// the same URI with other metadata a change. Nil when there is no endpoint, so the store
// reports nothing. Each node's own Pyro.NameServer entry is its own: a
// stored one of that name is hidden, and so is its change.
func (e *opsEndpoint) remoteChangeFunc() func(persist.RemoteChange) {
	if e == nil {
		return nil
	}
	return func(c persist.RemoteChange) {
		if c.Entry.Name == nameserver.NameServerName {
			return
		}
		op := opsweb.OpRegister
		switch {
		case c.Removed:
			op = opsweb.OpRemove
		case c.Existed && c.PrevURI == c.Entry.URI:
			op = opsweb.OpChange
		}
		e.feed.Publish(opsweb.Event{Op: op, Name: c.Entry.Name, URI: c.Entry.URI, Metadata: c.Entry.Metadata})
	}
}

func (e *opsEndpoint) registrations() int {
	srv := e.server.Load()
	if srv == nil {
		return 0
	}
	n, err := srv.Registry().Count()
	if err != nil {
		return 0
	}
	return n
}

// start binds the listener and serves: HTTPS when tcfg is set.
func (e *opsEndpoint) start(srv *nameserver.Server, s config.Settings, tcfg *tls.Config, log *slog.Logger) error {
	e.server.Store(srv)
	h, err := opsweb.New(opsweb.Options{
		Source:     opsSource{srv},
		Feed:       e.feed,
		Status:     func() (opsweb.Status, error) { return e.status(srv, s) },
		Ready:      srv.Ready,
		Collectors: []prometheus.Collector{e.metrics},
	})
	if err != nil {
		return fmt.Errorf("http %s: %w", s.HTTPListen, err)
	}
	ln, err := net.Listen("tcp", s.HTTPListen)
	if err != nil {
		return fmt.Errorf("http: listen on %s: %w", s.HTTPListen, err)
	}
	e.ln, e.handler, e.scheme, e.served = ln, h, "http", make(chan error, 1)
	e.http = &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		TLSConfig:         tcfg,
	}
	e.http.RegisterOnShutdown(h.Close)
	if tcfg != nil {
		e.scheme = "https"
	} else if !isLoopbackListen(ln.Addr()) {
		log.Warn("the operations endpoint is served without TLS on a non-loopback address; anyone who reaches it can read the registry",
			"http", ln.Addr().String())
	}
	go func() {
		var err error
		if tcfg != nil {
			err = e.http.ServeTLS(ln, "", "")
		} else {
			err = e.http.Serve(ln)
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		e.served <- err
	}()
	return nil
}

// URL is where the endpoint serves.
func (e *opsEndpoint) URL() string { return e.scheme + "://" + e.ln.Addr().String() + "/" }

// close ends the event streams and stops serving, waiting a little for
// requests in flight.
func (e *opsEndpoint) close() error {
	if e == nil || e.http == nil {
		return nil
	}
	e.closed.Do(func() { e.err = e.shutdown() })
	return e.err
}

func (e *opsEndpoint) shutdown() error {
	e.feed.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := e.http.Shutdown(ctx)
	if serr := <-e.served; serr != nil {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("http: %w", err)
	}
	return nil
}

func (e *opsEndpoint) status(srv *nameserver.Server, s config.Settings) (opsweb.Status, error) {
	n, err := srv.Registry().Count()
	if err != nil {
		return opsweb.Status{}, err
	}
	open, total := srv.Connections()
	var cluster *opsweb.ClusterStatus
	if e.cluster != nil {
		cluster = e.cluster()
	}
	return opsweb.Status{
		Version:     Version,
		Started:     e.started,
		NSURI:       srv.URI().String(),
		Store:       s.Storage,
		Counts:      opsweb.Counts{Registrations: n, Static: len(srv.Registry().Static())},
		Connections: opsweb.Connections{Open: int64(open), Total: total},
		TLS:         opsweb.TLSStatus{Enabled: s.TLS.Enabled, ClientAuth: s.TLS.Enabled && s.TLS.RequireClientCert},
		Cluster:     cluster,
	}, nil
}

// isLoopbackListen reports whether a bound address is reachable only from
// this host.
func isLoopbackListen(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

// opsSource is the registry as the API reads it: list() itself, so that
// the API's entries, order and errors are a client's.
type opsSource struct{ s *nameserver.Server }

func (o opsSource) List(f opsweb.Filter) ([]persist.Entry, error) {
	es, err := o.s.List(nameserver.ListFilter(f))
	var x *wire.Exception
	if errors.As(err, &x) {
		return nil, &opsweb.FilterError{Message: x.Text()}
	}
	return es, err
}

func (o opsSource) Lookup(name string) (persist.Entry, bool, error) {
	return o.s.Registry().Lookup(name)
}
