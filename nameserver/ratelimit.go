package nameserver

import (
	"errors"
	"net"
	"sync"
	"time"

	"github.com/pyro4/pyro4/wire"
)

// Security warnings (a bad HMAC, a refused serializer, an oversize or
// malformed message, a reply not read in time) are logged per peer at most
// securityBurst times per securityWindow, and at most securityGlobal times
// per window over all peers, so that a flood of bad messages cannot flood
// the log. The limiter remembers at most securityPeers peers.
const (
	securityBurst  = 5
	securityGlobal = 50
	securityWindow = 10 * time.Second
	securityPeers  = 256
)

// peerLimiter counts events per peer in fixed windows. Its memory is
// bounded: when it knows max peers, a new peer evicts one whose window has
// passed, or else shares the one overflow count with the other peers it
// could not place.
type peerLimiter struct {
	burst  int
	window time.Duration
	max    int

	mu     sync.Mutex
	peers  map[string]*peerCount
	global peerCount
	over   peerCount // peers beyond max
}

type peerCount struct {
	start      time.Time
	n          int // events in the window that began at start
	suppressed int // events not logged since the last one that was
}

func newPeerLimiter(burst int, window time.Duration, max int) *peerLimiter {
	return &peerLimiter{burst: burst, window: window, max: max, peers: make(map[string]*peerCount, 16)}
}

// allow reports whether an event from peer may be logged now, and how many
// of its events were suppressed since the last one logged.
func (l *peerLimiter) allow(peer string, now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.peers[peer]
	if c == nil {
		c = l.place(peer, now)
	}
	if !c.take(now, l.window, l.burst) {
		return false, 0
	}
	if !l.global.take(now, l.window, securityGlobal) {
		// counted as the peer's: it is told with the peer's next line
		l.global.suppressed--
		c.suppressed++
		return false, 0
	}
	n := c.suppressed
	c.suppressed = 0
	return true, n
}

// place finds room for a new peer's count.
func (l *peerLimiter) place(peer string, now time.Time) *peerCount {
	if len(l.peers) >= l.max {
		for k, c := range l.peers {
			if now.Sub(c.start) >= l.window && c.suppressed == 0 {
				delete(l.peers, k)
			}
		}
	}
	if len(l.peers) >= l.max {
		return &l.over
	}
	c := &peerCount{start: now}
	l.peers[peer] = c
	return c
}

// take counts an event in c's window and reports whether it is within limit.
func (c *peerCount) take(now time.Time, window time.Duration, limit int) bool {
	if now.Sub(c.start) >= window {
		c.start, c.n = now, 0
	}
	c.n++
	if c.n > limit {
		c.suppressed++
		return false
	}
	return true
}

// peerKey is the address a peer is counted by: its IP, whatever its port,
// so that reconnecting does not reset its count.
func peerKey(a net.Addr) string {
	if a == nil {
		return ""
	}
	s := a.String()
	if host, _, err := net.SplitHostPort(s); err == nil {
		return host
	}
	return s
}

// securityEvent logs a refused or dangerous message from this connection's
// peer at WARNING, within the peer's rate.
func (cn *conn) securityEvent(what string, err error) {
	ok, suppressed := cn.s.bounds.sec.allow(peerKey(cn.c.RemoteAddr()), time.Now())
	if !ok {
		return
	}
	if suppressed > 0 {
		cn.log.Warn(what, "err", err, "suppressed", suppressed)
		return
	}
	cn.log.Warn(what, "err", err)
}

// logCallError logs a failed call that is the server's concern rather than
// the caller's: a store error (disk full, I/O, a damaged file) at ERROR,
// and a call refused before it reached a method (a refused serializer, a
// message that does not decode or inflates too far) as a security event.
// A Pyro4 exception raised by a method (unknown name, bad argument) is the
// caller's answer and is not logged.
func (cn *conn) logCallError(method string, err error) {
	var x *wire.Exception
	if !errors.As(err, &x) {
		if ok, suppressed := cn.s.bounds.storeLog.allow("", time.Now()); ok {
			cn.log.Error("call failed", "method", method, "err", err, "suppressed", suppressed)
		}
		return
	}
	if method == "" && (isCommunicationError(x.Class) || x.Class == wire.ClassSecurityError) {
		cn.securityEvent("call refused", err)
	}
}
