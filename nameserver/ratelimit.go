package nameserver

import (
	"errors"
	"log/slog"
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

// logLimiter counts log lines by key (a peer, a kind of failure) in fixed
// windows, so that one source of events cannot flood the log. Its memory is
// bounded: when it knows max keys, a new key evicts one whose window has
// passed, or else shares the one overflow count with the other keys it
// could not place.
type logLimiter[K comparable] struct {
	burst  int // lines per key per window
	global int // lines per window over all keys; 0: no such limit
	window time.Duration
	max    int

	mu   sync.Mutex
	keys map[K]*logCount
	all  logCount
	over logCount // keys beyond max
}

type logCount struct {
	start      time.Time
	n          int // events in the window that began at start
	suppressed int // events not logged since the last one that was
}

func newLogLimiter[K comparable](burst, global int, window time.Duration, max int) *logLimiter[K] {
	return &logLimiter[K]{burst: burst, global: global, window: window, max: max, keys: make(map[K]*logCount, min(max, 16))}
}

// allow reports whether an event under key may be logged now, and how many
// of its events were suppressed since the last one logged.
func (l *logLimiter[K]) allow(key K, now time.Time) (bool, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.keys[key]
	if c == nil {
		c = l.place(key, now)
	}
	if !c.take(now, l.window, l.burst) {
		return false, 0
	}
	if l.global > 0 && !l.all.take(now, l.window, l.global) {
		// counted as the key's: it is told with the key's next line
		l.all.suppressed--
		c.suppressed++
		return false, 0
	}
	n := c.suppressed
	c.suppressed = 0
	return true, n
}

// warn logs msg at WARNING if key is within its rate; a line that goes out
// carries "suppressed", the number held back since the previous one, when
// there were any.
func (l *logLimiter[K]) warn(log *slog.Logger, key K, msg string, args ...any) {
	ok, suppressed := l.allow(key, time.Now())
	if !ok {
		return
	}
	if suppressed > 0 {
		args = append(args, "suppressed", suppressed)
	}
	log.Warn(msg, args...)
}

// place finds room for a new key's count.
func (l *logLimiter[K]) place(key K, now time.Time) *logCount {
	if len(l.keys) >= l.max {
		for k, c := range l.keys {
			if now.Sub(c.start) >= l.window && c.suppressed == 0 {
				delete(l.keys, k)
			}
		}
	}
	if len(l.keys) >= l.max {
		return &l.over
	}
	c := &logCount{start: now}
	l.keys[key] = c
	return c
}

// take counts an event in c's window and reports whether it is within limit.
func (c *logCount) take(now time.Time, window time.Duration, limit int) bool {
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
	cn.s.bounds.sec.warn(cn.log, peerKey(cn.c.RemoteAddr()), what, "err", err)
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
