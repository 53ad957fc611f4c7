package nameserver

import (
	"context"
	"net"
	"runtime/debug"
	"syscall"
	"time"
)

// broadcastRequest is the datagram Pyro4's locateNS broadcasts.
const broadcastRequest = "GET_NSURI"

// listenBroadcast binds the responder's UDP socket with SO_REUSEADDR, as
// Pyro4 does (SOCK_REUSE), so a restarted name server can rebind at once.
func listenBroadcast(addr string) (net.PacketConn, error) {
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		if err := c.Control(func(fd uintptr) { serr = setReuseAddr(fd) }); err != nil {
			return err
		}
		return serr
	}}
	return lc.ListenPacket(context.Background(), "udp4", addr)
}

// respond is Pyro4's BroadcastServer loop: a datagram that is exactly
// GET_NSURI (read into 100 bytes, as Pyro4's recvfrom(100)) is answered with
// the internal name server URI; anything else is ignored.
func (s *Server) respond() {
	defer s.wg.Done()
	buf := make([]byte, 100)
	for s.respondOnce(buf) {
	}
}

// respondOnce reads and answers one datagram and reports whether to go on.
// A panic (a bug) costs that datagram only: it is logged, and the responder
// pauses briefly, so that a panic on every read cannot spin.
func (s *Server) respondOnce(buf []byte) (more bool) {
	defer func() {
		if r := recover(); r != nil {
			s.log.Error("broadcast responder: panic handling a datagram; continuing", "panic", r, "stack", string(debug.Stack()))
			more = s.pause()
		}
	}()
	n, addr, err := s.udp.ReadFrom(buf)
	if err != nil {
		if s.ctx.Err() != nil {
			return false
		}
		s.log.Debug("broadcast responder read", "err", err)
		return s.pause() // a persistent error must not spin
	}
	if string(buf[:n]) != broadcastRequest {
		return true
	}
	s.metrics.BroadcastRequest()
	reply := s.broadcastReply(addr)
	s.log.Debug("responding to broadcast request", "from", addr.String(), "uri", reply)
	if _, err := s.udp.WriteTo([]byte(reply), addr); err != nil {
		s.log.Debug("broadcast reply", "to", addr.String(), "err", err)
	}
	return true
}

// pause waits a little, and reports false when the server closes meanwhile.
func (s *Server) pause() bool {
	select {
	case <-time.After(10 * time.Millisecond):
		return true
	case <-s.ctx.Done():
		return false
	}
}

// broadcastReply is the internal URI, with an INADDR_ANY host replaced by
// the address of the interface that reaches the requester.
func (s *Server) broadcastReply(from net.Addr) string {
	u := s.internal
	if ua, ok := from.(*net.UDPAddr); ok && u.Host == "0.0.0.0" {
		if ip := interfaceAddress(ua.IP); ip != "" {
			u.Host = ip
		}
	}
	return u.String()
}

// interfaceAddress is Pyro4's socketutil.getInterfaceAddress: connecting a
// UDP socket picks the route without sending anything.
func interfaceAddress(ip net.IP) string {
	c, err := net.DialUDP("udp", nil, &net.UDPAddr{IP: ip, Port: 53})
	if err != nil {
		return ""
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).IP.String()
}
