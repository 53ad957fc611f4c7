package nameserver

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"time"

	"github.com/pyro4/pyro4/wire"
)

// Over Options.MaxConnections, a new connection is refused the way Pyro4's
// thread pool refuses one when it has no worker: its handshake is read and
// answered with a CONNECTFAIL that names the limit, which the Pyro4 client
// raises as CommunicationError ("connection to ... rejected: no free
// workers, ..."; Pyro4's asynchronous proxies wait and retry on those
// words). Reading the handshake first matters: closing a socket with
// unread data resets it, and the client would see only "connection reset".
//
// A refusal is bounded too: refuseTimeout for the handshake to arrive,
// refuseMaxSize for its size, and at most maxRefusing in progress; past
// that a connection is closed at once.
const (
	refuseTimeout = 2 * time.Second
	refuseMaxSize = 64 << 10
	maxRefusing   = 64
)

// overConnLimit reports whether one more connection would pass the limit;
// s.mu is held.
func (s *Server) overConnLimit() bool {
	return s.bounds.maxConns > 0 && len(s.conns) >= s.bounds.maxConns
}

// refuse answers c's handshake with the limit and closes it, in its own
// goroutine (which Close waits for).
func (s *Server) refuse(c net.Conn) {
	if s.bounds.refusing.Add(1) > maxRefusing {
		s.bounds.refusing.Add(-1)
		c.Close()
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer s.bounds.refusing.Add(-1)
		stop := context.AfterFunc(s.ctx, func() { c.Close() })
		defer stop()
		defer c.Close()
		cn := &conn{s: s, c: c, br: bufio.NewReaderSize(c, readBufferSize), log: s.log.With("remote", c.RemoteAddr().String())}
		cn.securityEvent("connection refused", fmt.Errorf("max_connections limit of %d reached", s.bounds.maxConns))
		c.SetDeadline(time.Now().Add(refuseTimeout))
		m, err := wire.ReadMessage(cn.br, wire.Limits{MaxSize: refuseMaxSize, HMACKey: s.lim.HMACKey})
		if err != nil && isDisconnect(err) {
			return
		}
		cn.setCorrelation(m)
		var seq uint16
		if m != nil {
			seq = m.Seq
		}
		cn.connectFail(seq, wire.MarshalID, fmt.Sprintf("no free workers, the name server has reached its max_connections limit of %d", s.bounds.maxConns))
	}()
}
