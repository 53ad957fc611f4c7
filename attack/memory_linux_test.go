package attack

import (
	"bytes"
	"compress/zlib"
	"net"
	"testing"
	"time"

	"github.com/pyro4/pyro4/wire"
)

func TestHeaderHelperParses(t *testing.T) {
	m, err := wire.Unpack(append(header(wire.MsgPing, 5), "hello"...), wire.Limits{})
	if err != nil || m.Type != wire.MsgPing || string(m.Data) != "hello" {
		t.Fatalf("header(MsgPing, 5)+hello: %+v, %v", m, err)
	}
}

// pingServes checks that the server still answers a fresh client.
func pingServes(t *testing.T, s *server) {
	t.Helper()
	cl := connect(t, s.addr)
	if data, exc := cl.call(t, "ping", ""); exc {
		t.Fatalf("ping failed: %q", data)
	}
	cl.c.Close()
}

// TestClaimedBodiesCostNothing: 1,000 connections each send one valid
// header claiming a 1 GB body, and nothing more: as their handshake (no
// key or credential needed), or as a request after a handshake. The server
// must not pay for what was only claimed.
func TestClaimedBodiesCostNothing(t *testing.T) {
	const conns, claim = 1000, 1_000_000_000
	const bound = 50 << 20
	for _, phase := range []string{"handshake", "request"} {
		t.Run(phase, func(t *testing.T) {
			s := startServer(t)
			pingServes(t, s)
			baseline := s.settledRSS(t)
			fds := s.fds(t)
			s.resetPeak(t)

			clients := make([]net.Conn, 0, conns)
			defer func() {
				for _, c := range clients {
					c.Close()
				}
			}()
			h := header(wire.MsgConnect, claim)
			if phase == "request" {
				h = header(wire.MsgInvoke, claim)
			}
			for range conns {
				var c net.Conn
				if phase == "request" {
					c = connect(t, s.addr).c
				} else {
					var err error
					if c, err = net.DialTimeout("tcp", s.addr, wait); err != nil {
						t.Fatalf("connection %d: %v", len(clients)+1, err)
					}
				}
				clients = append(clients, c)
				c.SetWriteDeadline(time.Now().Add(wait))
				if _, err := c.Write(h); err != nil {
					t.Fatalf("connection %d: %v", len(clients), err)
				}
			}
			for deadline := time.Now().Add(wait); s.fds(t) < fds+conns; {
				if time.Now().After(deadline) {
					t.Fatalf("the server accepted %d of %d connections within %v", s.fds(t)-fds, conns, wait)
				}
				time.Sleep(50 * time.Millisecond)
			}
			held := s.settledRSS(t)
			peak := s.peak(t)
			for _, c := range clients {
				c.Close()
			}
			clients = nil
			after := s.rssBelow(t, baseline+4<<20, 3*time.Second)
			t.Logf("%d %s claims of %d bytes: RSS %s before, %s while held (peak %s, +%s), %s after they left",
				conns, phase, claim, mib(baseline), mib(held), mib(peak), mib(peak-baseline), mib(after))
			if peak-baseline >= bound {
				t.Errorf("peak RSS grew by %s for %d header-only claims; the bound is %s", mib(peak-baseline), conns, mib(bound))
			}
			pingServes(t, s)
		})
	}
}

// TestLargeBody: one real body, sent as a PING (which the server reads and
// answers without decoding), costs at most 1.5 times its size at the peak,
// and the memory goes back once it is answered.
func TestLargeBody(t *testing.T) {
	size := 64 << 20
	if heavy() {
		size = 1 << 30
	}
	s := startServer(t)
	cl := connect(t, s.addr)
	baseline := s.settledRSS(t)
	s.resetPeak(t)
	start := time.Now()
	cl.sendBody(t, wire.MsgPing, size)
	reply := cl.receive(t)
	if reply.Type != wire.MsgPing || string(reply.Data) != "pong" {
		t.Fatalf("reply to a %d-byte ping: type %d, %q", size, reply.Type, reply.Data)
	}
	took := time.Since(start)
	peak := s.peak(t)
	// Back down: within a quarter of the body of where it started.
	down := baseline + int64(size)/4
	after := s.rssBelow(t, down, 20*time.Second)
	settled := s.settledRSS(t)
	t.Logf("%s body: RSS %s before, peak %s (+%s, %.2fx the body), %s after, settling at %s (%v to send and answer)",
		mib(int64(size)), mib(baseline), mib(peak), mib(peak-baseline), float64(peak-baseline)/float64(size), mib(after), mib(settled), took.Round(time.Millisecond))
	if limit := baseline + int64(size)*3/2; peak > limit {
		t.Errorf("peak RSS %s is over baseline + 1.5 x body = %s", mib(peak), mib(limit))
	}
	if after > down {
		t.Errorf("RSS %s 20 s after the body was answered; want at most %s (baseline %s + a quarter of the body)", mib(after), mib(down), mib(baseline))
	}
	if data, exc := cl.call(t, "ping", ""); exc {
		t.Fatalf("ping on the same connection: %q", data)
	}
}

// TestCompressedBody: a small zlib body that inflates to just under the
// server's 16 MiB inflation bound costs at most 1.5 times what it inflates
// to, and the memory goes back afterwards.
func TestCompressedBody(t *testing.T) {
	const size = 16<<20 - 1
	var z bytes.Buffer
	w := zlib.NewWriter(&z)
	w.Write(make([]byte, size))
	w.Close()
	s := startServer(t)
	cl := connect(t, s.addr)
	baseline := s.settledRSS(t)
	s.resetPeak(t)
	reply := cl.roundTrip(t, &wire.Message{Type: wire.MsgInvoke, Flags: wire.FlagCompressed, Seq: 1, SerializerID: wire.SerpentID, Data: z.Bytes()})
	if reply.Flags&wire.FlagException == 0 {
		t.Fatalf("a call of %d zero bytes did not fail: %.200q", size, reply.Data)
	}
	peak := s.peak(t)
	down := baseline + size/4
	after := s.rssBelow(t, down, 20*time.Second)
	t.Logf("%d compressed bytes inflating to %s: RSS %s before, peak %s (+%s, %.2fx), %s after",
		z.Len(), mib(size), mib(baseline), mib(peak), mib(peak-baseline), float64(peak-baseline)/size, mib(after))
	if limit := baseline + size*3/2; peak > limit {
		t.Errorf("peak RSS %s is over baseline + 1.5 x the inflated size = %s", mib(peak), mib(limit))
	}
	if after > down {
		t.Errorf("RSS %s 20 s later; want at most %s", mib(after), mib(down))
	}
	pingServes(t, s)
}
