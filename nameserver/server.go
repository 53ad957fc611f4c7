package nameserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pyro4/pyro4/metrics"
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
	Store          persist.Store // nil -> persist memory store (closed by Close; a given store is not)
	HMACKey        []byte        // when set, every message must carry a matching HMAC
	Accepted       wire.Accepted // nil -> serpent, marshal, json
	CommTimeout    time.Duration // 0 = none; closes connections idle this long
	MaxMessageSize int           // 0 = unlimited
	Compression    bool          // compress replies >= 200 bytes as Pyro4 COMPRESSION does
	AutoClean      time.Duration // 0 = off; < 3s is an error, as in Pyro4
	Logger         *slog.Logger  // nil -> discard

	// TLS, when set, makes every connection (TCP or Unix socket) TLS with
	// this server configuration, as Pyro4's SSL: the TLS handshake first,
	// then the Pyro handshake, HMAC and URIs as without it. The broadcast
	// responder stays plain UDP and autoclean probes stay plain connects.
	// tlsconf.Reloader.Config gives one that follows certificate rotation.
	TLS *tls.Config
	// TLSHandshakeTimeout bounds each connection's TLS handshake; 0 -> 10s.
	TLSHandshakeTimeout time.Duration

	// AutoCleanUnreachable is how long a registered server must stay
	// unreachable before autoclean removes it; 0 -> 20s, as in Pyro4.
	AutoCleanUnreachable time.Duration
	// AutoCleanLoopDelay is how often the autocleaner wakes up to see whether
	// a round (every AutoClean) is due; 0 -> 2s, as in Pyro4.
	AutoCleanLoopDelay time.Duration

	// Metrics, when set, records requests, connections, errors, changes,
	// autoclean, broadcast and store writes.
	Metrics *metrics.Metrics
	// OnChange, when set, is called with every change to the registry
	// (clients', autoclean's, static entries', the name server's own), for
	// one name in the order the changes were made. It runs while that
	// name's writes wait, so it must not block or call back into the
	// registry; a change feed hands the change on and returns.
	OnChange func(Change)
	// SendTimeout bounds the write of one reply: a client that has not read
	// it by then is disconnected and the reply's memory freed. 0 ->
	// CommTimeout when set, else DefaultSendTimeout (budget.go).
	SendTimeout time.Duration
	// ReplyBudget bounds the bytes of encoded replies that wait to be
	// written, over all connections; a reply over 64 KiB that does not fit
	// gets a NamingError instead. 0 -> DefaultReplyBudget; < 0: no budget.
	ReplyBudget int64
	// ScanTimeout bounds the time one list or remove spends going through
	// names; past it the call fails with a NamingError that names the
	// limit. 0 -> DefaultScanTimeout (scan.go); < 0: no bound.
	ScanTimeout time.Duration
	// MaxConnections, when > 0, is how many client connections are served
	// at once; beyond it a new connection's handshake gets a CONNECTFAIL
	// that names the limit (connlimit.go).
	MaxConnections int

	// autoCleanMin replaces minAutoClean when set: tests lower it, as
	// Pyro4's own tests set override_autoclean_min.
	autoCleanMin time.Duration
}

// minAutoClean is Pyro4's AutoCleaner.min_autoclean_value (its one home
// is wire.MinAutoClean).
const minAutoClean = wire.MinAutoClean

// Server is a name server whose listeners are bound. Serve runs it.
type Server struct {
	opts     Options
	log      *slog.Logger
	reg      *Registry
	ownStore bool
	accepted wire.Accepted
	lim      wire.Limits
	ln       net.Listener
	udp      net.PacketConn
	internal wire.URI
	nat      atomic.Pointer[wire.URI] // the external name server URI; nil without NAT
	ctx      context.Context          // cancelled by Close
	cancel   context.CancelFunc

	mu      sync.Mutex
	conns   map[*conn]struct{}
	closed  bool
	serving bool

	metrics   *metrics.Metrics
	epoch     time.Time // New's time, from which calls are timed
	connTotal atomic.Uint64

	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
	done      chan struct{} // closed once Close has finished

	// objects is what connections dispatch to, by object id; built in New,
	// read-only after.
	objects *objectTable
	ns      *nameServer // the Pyro.NameServer object's receiver
	// handshakeReplies holds encoded CONNECTOK payloads, shared read-only.
	// It only gets keys of known objects, so it stays small. The payload,
	// not the packed message, is kept: the correlation id, HMAC and
	// compression differ per connection.
	handshakeReplies sync.Map               // handshakeKey -> []byte
	tlsLog           *logLimiter[tlsLogKey] // TLS failures, by kind (tls.go)

	memRelease memoryRelease // gives large messages' memory back (release.go)

	bounds bounds // limits on what clients may take (budget.go)

	// leading: this server leads the autoclean election of a shared store.
	leading atomic.Bool
}

// New binds the listeners (TCP or Unix socket, plus the UDP broadcast
// responder when it applies) and registers Pyro.NameServer in the store.
// The responder is not started for a Unix socket, a loopback or IPv6 bind,
// or with NoBroadcast, as in Pyro4's startNSloop.
func New(opts Options) (*Server, error) {
	if err := checkOptions(&opts); err != nil {
		return nil, err
	}
	s := &Server{
		opts:     opts,
		log:      opts.Logger,
		accepted: opts.Accepted,
		lim:      wire.Limits{MaxSize: opts.MaxMessageSize, HMACKey: opts.HMACKey},
		conns:    map[*conn]struct{}{},
		done:     make(chan struct{}),
		epoch:    time.Now(),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.accepted == nil {
		s.accepted = wire.Accepted{wire.SerpentID: true, wire.MarshalID: true, wire.JSONID: true}
	}
	store := opts.Store
	if store == nil {
		store, s.ownStore = persist.NewMemory(), true
	}
	if shared, ok := store.(SharedStore); ok {
		store = &nodeLocal{SharedStore: shared}
	}
	s.reg = NewRegistry(store)
	s.metrics = opts.Metrics
	if opts.Metrics != nil || opts.OnChange != nil {
		s.reg.hooks = &registryHooks{metrics: opts.Metrics, onChange: opts.OnChange}
	}
	s.objects = newObjectTable()
	s.objects.register(DaemonName, (&daemonObject{state: s, objects: s.objects}).object())
	s.bounds.init(&opts)
	s.tlsLog = newTLSLogLimiter(tlsLogInterval)
	s.ns = newNameServer(s.reg, s.log)
	s.ns.lim = s.bounds.callLimits()
	s.objects.register(NameServerName, s.ns.object())
	if err := s.listen(); err != nil {
		s.release()
		return nil, err
	}
	if opts.NATHost != "" {
		s.setNAT(opts.NATHost, opts.NATPort)
	}
	if err := s.reg.registerSelf(s.URI().String()); err != nil {
		s.release()
		return nil, err
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	return s, nil
}

func checkOptions(o *Options) error {
	least := minAutoClean
	if o.autoCleanMin > 0 {
		least = o.autoCleanMin
	}
	if o.AutoClean < 0 || (o.AutoClean > 0 && o.AutoClean < least) {
		// Pyro4's words, with its config item's name: an operator sets it
		// as PYRO_NS_AUTOCLEAN.
		return fmt.Errorf("autoclean interval %v: NS_AUTOCLEAN cannot be smaller than %g", o.AutoClean, least.Seconds())
	}
	if o.NATHost != "" && o.UnixSocket != "" {
		return errors.New("cannot use a NAT host together with a Unix socket")
	}
	if err := checkTLS(o.TLS); err != nil {
		return err
	}
	if o.NATPort != 0 && o.NATHost == "" {
		return errors.New("a NAT port needs a NAT host")
	}
	o.Host = strings.TrimSuffix(strings.TrimPrefix(o.Host, "["), "]")
	if o.Host == "" {
		o.Host = "localhost"
	}
	return nil
}

// listen binds the daemon socket and, when it applies, the responder.
func (s *Server) listen() error {
	o := s.opts
	s.internal = wire.URI{Protocol: "PYRO", Object: NameServerName}
	if o.UnixSocket != "" {
		ln, err := listenUnix(o.UnixSocket)
		if err != nil {
			return fmt.Errorf("listen on unix socket %s: %w", o.UnixSocket, err)
		}
		s.ln, s.internal.Sockname = ln, o.UnixSocket
		return nil
	}
	addr := net.JoinHostPort(o.Host, fmt.Sprint(o.Port))
	// An address literal binds that family only, as Pyro4's socket does;
	// Go would make 0.0.0.0 a dual-stack socket otherwise.
	network := "tcp"
	if ip := net.ParseIP(o.Host); ip != nil {
		network = "tcp6"
		if ip.To4() != nil {
			network = "tcp4"
		}
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	bound := ln.Addr().(*net.TCPAddr)
	// Pyro4 names the location by the host as given, not the bound address.
	s.ln, s.internal.Host, s.internal.Port = ln, o.Host, bound.Port
	if o.NoBroadcast || bound.IP.To4() == nil || bound.IP.IsLoopback() {
		return nil
	}
	bcHost := o.BroadcastHost
	if bcHost == "" {
		bcHost = "0.0.0.0"
	}
	bcAddr := net.JoinHostPort(bcHost, fmt.Sprint(o.BroadcastPort))
	udp, err := listenBroadcast(bcAddr)
	if err != nil {
		return fmt.Errorf("broadcast responder on %s: %w", bcAddr, err)
	}
	s.udp = udp
	return nil
}

// release undoes a partial New.
func (s *Server) release() {
	if s.ln != nil {
		s.ln.Close()
	}
	if s.udp != nil {
		s.udp.Close()
	}
	if s.ownStore {
		s.reg.store.Close()
	}
}

func (s *Server) limits() wire.Limits { return s.lim }

// URI is the name server URI clients use: the NAT location when one is set.
func (s *Server) URI() wire.URI {
	if u := s.nat.Load(); u != nil {
		return *u
	}
	return s.internal
}

// InternalURI is the name server URI at the bound location.
func (s *Server) InternalURI() wire.URI { return s.internal }

// Addr is the address the name server's listener is bound to: a
// *net.TCPAddr (the resolved address, where the URI keeps the host as
// given), or a *net.UnixAddr for a Unix socket.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// BroadcastAddr is the UDP address of the broadcast responder, nil when none runs.
func (s *Server) BroadcastAddr() net.Addr {
	if s.udp == nil {
		return nil
	}
	return s.udp.LocalAddr()
}

// Registry returns the server's registry, for in-process use.
func (s *Server) Registry() *Registry { return s.reg }

// SetNAT changes the external location used for URIs handed out from now on,
// the Pyro.NameServer registration included. An empty host removes NAT; a
// zero port means the bound port. A server on a Unix socket has no NAT: a
// host is refused. When the name server's entry cannot be re-registered the
// previous location is kept, so an error always means nothing changed.
func (s *Server) SetNAT(host string, port int) error {
	if s.opts.UnixSocket != "" && host != "" {
		return fmt.Errorf("NAT %s: the name server listens on a Unix socket, which has no NAT", host)
	}
	prev := s.nat.Load()
	s.setNAT(host, port)
	if err := s.reg.registerSelf(s.URI().String()); err != nil {
		s.nat.Store(prev)
		return fmt.Errorf("NAT %s: %w", host, err)
	}
	return nil
}

func (s *Server) setNAT(host string, port int) {
	if host == "" {
		s.nat.Store(nil)
		return
	}
	if port == 0 {
		port = s.internal.Port
	}
	u := wire.URI{Protocol: "PYRO", Object: NameServerName, Host: strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), Port: port}
	s.nat.Store(&u)
}

// boundLocation is the listener's location as the internal URI names it.
func (s *Server) boundLocation() string { return s.internal.Location() }

// natLocation is Pyro4's natLocationStr, "" without NAT.
func (s *Server) natLocation() string {
	if u := s.nat.Load(); u != nil {
		return u.Location()
	}
	return ""
}

// Serve accepts and serves connections until ctx is done or Close is called,
// and returns nil on such a clean stop (after Close has finished). It runs
// the broadcast responder and the autocleaner alongside. Serve may be called
// once.
func (s *Server) Serve(ctx context.Context) error {
	s.mu.Lock()
	if s.serving {
		s.mu.Unlock()
		return errors.New("nameserver: Serve called twice")
	}
	s.serving = true
	closed := s.closed
	if !closed {
		if s.udp != nil {
			s.wg.Add(1)
			go s.respond()
		}
		if s.opts.AutoClean > 0 {
			s.wg.Add(1)
			go s.autoclean()
			if nl, ok := s.reg.store.(*nodeLocal); ok {
				s.wg.Add(1)
				go s.leadAutoclean(nl.SharedStore)
			}
		}
	}
	s.mu.Unlock()
	if closed {
		return nil
	}
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	s.log.Info("name server running", "uri", s.URI().String(), "internal", s.internal.String())
	var backoff time.Duration
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if s.isClosed() {
				<-s.done
				return nil
			}
			// Out of file descriptors and the like pass; back off meanwhile
			// instead of spinning.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			s.log.Warn("accept failed; retrying", "err", err, "in", backoff)
			select {
			case <-time.After(backoff):
			case <-s.ctx.Done():
			}
			continue
		}
		backoff = 0
		s.startConn(c)
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

func (s *Server) startConn(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	c = s.wrapTLS(c)
	peer := c.RemoteAddr().String()
	cn := &conn{s: s, c: c, br: bufio.NewReaderSize(c, readBufferSize), peer: peer, log: s.log.With("remote", peer)}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.Close()
		return
	}
	if s.overConnLimit() {
		s.mu.Unlock()
		s.refuse(c)
		return
	}
	s.conns[cn] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	s.connTotal.Add(1)
	s.metrics.ConnOpened()
	go func() {
		defer s.wg.Done()
		defer s.metrics.ConnClosed()
		cn.serve()
		c.Close()
		s.mu.Lock()
		delete(s.conns, cn)
		s.mu.Unlock()
	}()
}

func (s *Server) connCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Connections reports the client connections open now and accepted since
// New.
func (s *Server) Connections() (open int, total uint64) {
	return s.connCount(), s.connTotal.Load()
}

// ReadinessChecker is what a store implements when being open is not all
// there is to its readiness (a shared store: its cluster reachable and the
// local copy fresh); Ready asks it.
type ReadinessChecker interface {
	Ready() error
}

// Ready reports whether the server should get traffic: nil once Serve
// accepts connections and the store answers, else why not.
func (s *Server) Ready() error {
	s.mu.Lock()
	serving, closed := s.serving, s.closed
	s.mu.Unlock()
	switch {
	case closed:
		return errors.New("name server closed")
	case !serving:
		return errors.New("name server not serving yet")
	}
	if _, err := s.reg.store.Count(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	if rc, ok := s.reg.store.(ReadinessChecker); ok {
		if err := rc.Ready(); err != nil {
			return fmt.Errorf("store: %w", err)
		}
	}
	return nil
}

// Close stops the server: the listeners, every connection, the responder and
// the autocleaner, and waits for them. It closes the store only when New
// created it. Further calls return the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		conns := make([]*conn, 0, len(s.conns))
		for cn := range s.conns {
			conns = append(conns, cn)
		}
		s.mu.Unlock()
		s.cancel()
		var errs []error
		if err := s.ln.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close listener: %w", err))
		}
		if s.udp != nil {
			s.udp.Close()
		}
		for _, cn := range conns {
			cn.closeNow()
		}
		s.wg.Wait()
		if s.ownStore {
			if err := s.reg.store.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close store: %w", err))
			}
		}
		s.closeErr = errors.Join(errs...)
		s.log.Info("name server shut down")
		close(s.done)
	})
	return s.closeErr
}
