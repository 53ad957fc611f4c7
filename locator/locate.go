package locator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pyro4/pyro4/wire"
)

// Pyro4's defaults for locating a name server.
const (
	DefaultNSHost           = wire.DefaultNSHost
	DefaultNSPort           = wire.DefaultNSPort
	DefaultBcPort           = wire.DefaultBcPort
	DefaultBroadcastTimeout = 700 * time.Millisecond
	broadcastTries          = 3
	// debianHostAddr is the address Debian's /etc/hosts gives the machine's
	// own name; Pyro4 tries it after NS_HOST when that is a local address.
	debianHostAddr = "127.0.1.1"
)

// DefaultBroadcastAddrs is Pyro4's BROADCAST_ADDRS default.
var DefaultBroadcastAddrs = wire.DefaultBroadcastAddrs

// LocateOptions say where to look for a name server: the equivalent of the
// arguments of Pyro4's locateNS(host, port, hmac_key) plus the config items
// it reads. Zero values mean Pyro4's defaults.
type LocateOptions struct {
	Options // for the connection to the name server

	// Host is where the name server is, a host name, an address or a Unix
	// socket as "./u:path". Empty means search: NS_HOST when it is a local
	// address (and 127.0.1.1), then broadcast, then NS_HOST:NS_PORT.
	Host string
	// Port is the name server port with Host. Without Host it is the port
	// tried on the local host and the broadcast port, as locateNS's port
	// argument is; 0 means NSPort and BcPort.
	Port int

	NSHost           string        // PYRO_NS_HOST; "" means localhost
	NSPort           int           // PYRO_NS_PORT; 0 means 9090
	BcPort           int           // PYRO_NS_BCPORT; 0 means 9091
	BroadcastAddrs   []string      // PYRO_BROADCAST_ADDRS; nil means <broadcast>, 0.0.0.0
	NoBroadcast      bool          // skip the broadcast step
	BroadcastTimeout time.Duration // wait per broadcast round; 0 means 0.7 s

	// OnAttempt, when set, is told about every place tried, in order.
	OnAttempt func(Attempt)
}

func (o LocateOptions) withDefaults() LocateOptions {
	if o.NSHost == "" {
		o.NSHost = DefaultNSHost
	}
	if o.NSPort == 0 {
		o.NSPort = DefaultNSPort
	}
	if o.BcPort == 0 {
		o.BcPort = DefaultBcPort
	}
	if o.BroadcastAddrs == nil {
		o.BroadcastAddrs = DefaultBroadcastAddrs
	}
	if o.BroadcastTimeout == 0 {
		o.BroadcastTimeout = DefaultBroadcastTimeout
	}
	return o
}

// Step is the step of Locate that found (or failed to find) a name server.
type Step int

// The steps of Locate, in the order they are tried.
const (
	StepHost      Step = iota + 1 // the host or Unix socket given
	StepLocal                     // NS_HOST as a local address, or 127.0.1.1
	StepBroadcast                 // a UDP broadcast answered
	StepNSHost                    // NS_HOST:NS_PORT, after the broadcast failed
)

func (s Step) String() string {
	switch s {
	case StepHost:
		return "host"
	case StepLocal:
		return "local"
	case StepBroadcast:
		return "broadcast"
	case StepNSHost:
		return "ns-host"
	}
	return "step(" + strconv.Itoa(int(s)) + ")"
}

// Attempt is one place Locate tried.
type Attempt struct {
	Step Step
	Addr string // host:port, ./u:path, or the broadcast targets
	Err  error  // nil when the name server was found here
}

func (a Attempt) String() string {
	if a.Err == nil {
		return fmt.Sprintf("%s %s: found", a.Step, a.Addr)
	}
	return fmt.Sprintf("%s %s: %s", a.Step, a.Addr, strings.TrimPrefix(reason(a.Err), "cannot connect to "+a.Addr+": "))
}

func reason(err error) string {
	var e *wire.Exception
	if errors.As(err, &e) {
		return e.Text()
	}
	return err.Error()
}

// LocateError says that no name server was found and where Locate looked.
type LocateError struct {
	Attempts []Attempt
}

func (e *LocateError) Error() string {
	parts := make([]string, len(e.Attempts))
	for i, a := range e.Attempts {
		parts[i] = a.String()
	}
	return "failed to locate the name server (" + strings.Join(parts, "; ") + ")"
}

// Locate finds a name server the way Pyro4 4.82's locateNS does and returns
// a connection to it and the step that found it. Without a Host it tries
// NS_HOST when that is a local address (localhost, 127.x, ::1) and then
// 127.0.1.1 (by connecting, not by a DNS query), then asks for the name
// server's URI with a UDP GET_NSURI broadcast to each broadcast address
// (3 rounds of 0.7 s), and last connects to NS_HOST:NS_PORT. The failure is
// a *LocateError listing every attempt.
func Locate(ctx context.Context, opts LocateOptions) (*NameServer, Step, error) {
	o := opts.withDefaults()
	l := &locating{ctx: ctx, o: o}
	if o.Host != "" {
		port := o.Port
		if port == 0 {
			port = o.NSPort
		}
		if ns := l.dial(StepHost, nsURIAt(o.Host, port)); ns != nil {
			return ns, StepHost, nil
		}
		return nil, 0, l.failed()
	}
	port := o.Port
	if port == 0 {
		port = o.NSPort
	}
	for _, h := range localHosts(o.NSHost) {
		if ns := l.dial(StepLocal, nsURIAt(h, port)); ns != nil {
			return ns, StepLocal, nil
		}
	}
	if !o.NoBroadcast {
		bcPort := o.Port
		if bcPort == 0 {
			bcPort = o.BcPort
		}
		if ns := l.broadcast(bcPort); ns != nil {
			return ns, StepBroadcast, nil
		}
	}
	if ns := l.dial(StepNSHost, nsURIAt(o.NSHost, o.NSPort)); ns != nil {
		return ns, StepNSHost, nil
	}
	return nil, 0, l.failed()
}

// localHosts is where locateNS looks first: NS_HOST when it names this
// machine, and 127.0.1.1 too for an IPv4 NS_HOST.
func localHosts(nsHost string) []string {
	switch {
	case nsHost == "::1":
		return []string{nsHost}
	case nsHost == "localhost" || strings.HasPrefix(nsHost, "127."):
		if nsHost == debianHostAddr {
			return []string{nsHost}
		}
		return []string{nsHost, debianHostAddr}
	}
	return nil
}

// nsURIAt is the name server's URI at host (or "./u:path") and port.
func nsURIAt(host string, port int) wire.URI {
	if sock, ok := strings.CutPrefix(host, "./u:"); ok {
		return NameServerURI("", 0, sock)
	}
	return NameServerURI(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"), port, "")
}

type locating struct {
	ctx      context.Context
	o        LocateOptions
	attempts []Attempt
}

func (l *locating) record(a Attempt) {
	l.attempts = append(l.attempts, a)
	if l.o.OnAttempt != nil {
		l.o.OnAttempt(a)
	}
}

func (l *locating) failed() error {
	return &LocateError{Attempts: l.attempts}
}

func (l *locating) dial(step Step, uri wire.URI) *NameServer {
	ns, err := DialNameServer(l.ctx, uri, l.o.Options)
	l.record(Attempt{Step: step, Addr: uri.Location(), Err: err})
	return ns
}

// broadcast sends GET_NSURI datagrams and connects to the URI of the first
// responder that answers with one.
func (l *locating) broadcast(port int) *NameServer {
	addrs := make([]string, len(l.o.BroadcastAddrs))
	for i, a := range l.o.BroadcastAddrs {
		addrs[i] = net.JoinHostPort(a, strconv.Itoa(port))
	}
	where := strings.Join(addrs, ",")
	uri, err := broadcastGetNSURI(l.ctx, l.o.BroadcastAddrs, port, l.o.BroadcastTimeout)
	if err != nil {
		l.record(Attempt{Step: StepBroadcast, Addr: where, Err: err})
		return nil
	}
	ns, err := DialNameServer(l.ctx, uri, l.o.Options)
	l.record(Attempt{Step: StepBroadcast, Addr: uri.Location(), Err: err})
	return ns
}

// broadcastTarget maps Pyro4's broadcast address spellings to an address:
// "<broadcast>" is the limited broadcast address, "" the any address (which
// Linux delivers to this host).
func broadcastTarget(addr string, port int) (*net.UDPAddr, error) {
	switch addr {
	case "<broadcast>":
		addr = "255.255.255.255"
	case "":
		addr = "0.0.0.0"
	}
	return net.ResolveUDPAddr("udp4", net.JoinHostPort(addr, strconv.Itoa(port)))
}

func broadcastGetNSURI(ctx context.Context, addrs []string, port int, wait time.Duration) (wire.URI, error) {
	var targets []*net.UDPAddr
	for _, a := range addrs {
		t, err := broadcastTarget(a, port)
		if err != nil {
			return wire.URI{}, fmt.Errorf("broadcast address %q: %w", a, err)
		}
		targets = append(targets, t)
	}
	if len(targets) == 0 {
		return wire.URI{}, errors.New("no broadcast addresses")
	}
	pc, err := net.ListenUDP("udp4", nil)
	if err != nil {
		return wire.URI{}, fmt.Errorf("broadcast socket: %w", err)
	}
	defer pc.Close()
	if err := setBroadcast(pc); err != nil {
		return wire.URI{}, fmt.Errorf("broadcast socket: %w", err)
	}
	// a cancelled context ends the wait for an answer at once
	stop := context.AfterFunc(ctx, func() { pc.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	buf := make([]byte, 512)
	for range broadcastTries {
		sent := 0
		var sendErr error
		for _, t := range targets {
			if _, err := pc.WriteToUDP([]byte("GET_NSURI"), t); err != nil {
				// Pyro4 ignores these two, which some platforms report for
				// an address that cannot be used
				if !errors.Is(err, syscall.EADDRNOTAVAIL) && !errors.Is(err, syscall.EADDRINUSE) {
					sendErr = err
				}
				continue
			}
			sent++
		}
		if sent == 0 && sendErr != nil {
			return wire.URI{}, fmt.Errorf("broadcast: %w", sendErr)
		}
		if u, ok := awaitNSURI(ctx, pc, buf, time.Now().Add(wait)); ok {
			return u, nil
		}
		if ctx.Err() != nil {
			return wire.URI{}, ctx.Err()
		}
	}
	return wire.URI{}, errors.New("no answer to the broadcast")
}

// awaitNSURI reads datagrams until one holds a PYRO: URI or the deadline
// passes. Datagrams that are not a URI are ignored: anyone may send to our
// port.
func awaitNSURI(ctx context.Context, pc *net.UDPConn, buf []byte, deadline time.Time) (wire.URI, bool) {
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	pc.SetReadDeadline(deadline)
	if ctx.Err() != nil {
		return wire.URI{}, false
	}
	for {
		n, _, err := pc.ReadFromUDP(buf)
		if err != nil {
			return wire.URI{}, false
		}
		// Pyro4 decodes the answer as iso-8859-1
		runes := make([]rune, n)
		for i, b := range buf[:n] {
			runes[i] = rune(b)
		}
		u, err := wire.ParseURI(string(runes))
		if err == nil && u.Protocol == "PYRO" {
			return u, true
		}
	}
}
