package nameserver

import (
	"bufio"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pyro4/pyro4/metrics"
	"github.com/pyro4/pyro4/persist"
	"github.com/pyro4/pyro4/wire"
)

// benchClients is the client concurrency the throughput target is set at.
const benchClients = 64

// clientConn is one benchmark client's connection and the reply it reads
// into, reused so that the client allocates nothing per round trip and
// allocs/op counts the server's allocations alone.
type clientConn struct {
	net.Conn
	br    *bufio.Reader
	reply wire.Message
	buf   []byte
}

func newClientConn(c net.Conn) *clientConn {
	return &clientConn{Conn: c, br: bufio.NewReader(c), buf: make([]byte, 0, 4096)}
}

// runClients runs b.N round trips spread over benchClients connections made
// by dial, each round trip done by do.
func runClients(b *testing.B, dial func() (net.Conn, error), do func(c *clientConn) error) {
	b.Helper()
	conns := make([]net.Conn, benchClients)
	for i := range conns {
		c, err := dial()
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	var next sync.WaitGroup
	work := make(chan struct{}, 1024)
	errs := make(chan error, benchClients)
	b.ResetTimer()
	for _, c := range conns {
		next.Add(1)
		go func() {
			defer next.Done()
			cc := newClientConn(c)
			for range work {
				if err := do(cc); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for range b.N {
		work <- struct{}{}
	}
	close(work)
	next.Wait()
	b.StopTimer()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
}

// lookupRequest is a packed serpent lookup call, as a Pyro4 proxy sends it.
func lookupRequest(tb testing.TB, name string) []byte {
	serpent, ok := wire.CodecByName("serpent")
	if !ok {
		tb.Skip("no serpent codec")
	}
	data, err := wire.MarshalCall(serpent, wire.Call{Object: NameServerName, Method: "lookup", Args: []wire.Value{name}})
	if err != nil {
		tb.Fatal(err)
	}
	req, err := (&wire.Message{Type: wire.MsgInvoke, Seq: 1, SerializerID: wire.SerpentID, Data: data}).Pack(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return req
}

// lookupServer starts a server with 1,000 names (each with one metadata
// tag) and returns it with a packed lookup request for one of them.
func lookupServer(tb testing.TB) (*Server, []byte) {
	return lookupServerWith(tb, Options{NoBroadcast: true})
}

// observedOptions are the options of a server with its metrics and a
// change callback on, as pyro4 ns --http runs it.
func observedOptions() Options {
	return Options{NoBroadcast: true, Metrics: metrics.New(metrics.Options{}), OnChange: func(Change) {}}
}

func lookupServerWith(tb testing.TB, opts Options) (*Server, []byte) {
	s := startServer(tb, opts)
	for i := range 1000 {
		s.Registry().Register(persist.Entry{Name: "bench.name." + string(rune('a'+i%26)) + itoaBench(i),
			URI: "PYRO:obj@localhost:4711", Metadata: []string{"m"}}, false)
	}
	return s, lookupRequest(tb, "bench.name.a0")
}

// dialHandshake connects to s and completes a serpent handshake.
func dialHandshake(s *Server) (net.Conn, error) {
	c, err := net.Dial("tcp", s.InternalURI().Location())
	if err != nil {
		return nil, err
	}
	return handshake(c)
}

// handshake completes a serpent Pyro handshake with the name server object
// on c, or closes c.
func handshake(c net.Conn) (net.Conn, error) {
	serpent, _ := wire.CodecByName("serpent")
	d := wire.NewDict(2)
	d.Append("handshake", "hello")
	d.Append("object", NameServerName)
	data, _ := serpent.Marshal(d)
	hs, _ := (&wire.Message{Type: wire.MsgConnect, SerializerID: wire.SerpentID, Data: data}).Pack(nil)
	if _, err := c.Write(hs); err != nil {
		c.Close()
		return nil, err
	}
	if _, err := wire.ReadMessage(c, wire.Limits{}); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// roundTrip sends req and reads its result into c's reused message.
func (c *clientConn) roundTrip(req []byte) error {
	if _, err := c.Write(req); err != nil {
		return err
	}
	var err error
	c.buf, _, err = wire.ReadMessageInto(c.br, wire.Limits{}, &c.reply, c.buf)
	if err == nil && (c.reply.Type != wire.MsgResult || c.reply.Flags&wire.FlagException != 0) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// BenchmarkLookup64 measures lookups over 64 connections: the name server's
// hot path (read, decode, registry, encode, write).
func BenchmarkLookup64(b *testing.B) {
	s, req := lookupServer(b)
	runClients(b, func() (net.Conn, error) { return dialHandshake(s) },
		func(c *clientConn) error { return c.roundTrip(req) })
}

// BenchmarkLookup64Metrics is BenchmarkLookup64 with the metrics and a
// change callback on: their cost on the hot path.
func BenchmarkLookup64Metrics(b *testing.B) {
	s, req := lookupServerWith(b, observedOptions())
	runClients(b, func() (net.Conn, error) { return dialHandshake(s) },
		func(c *clientConn) error { return c.roundTrip(req) })
}

// BenchmarkRequestMetrics is what the metrics add to each call on the
// request path, alone: the two clock reads and the recording, from 64
// goroutines into the same series as Lookup64's connections do. Its time
// against Lookup64's is the metrics' share of a lookup, which the
// whole-path benchmarks cannot resolve on a busy machine.
func BenchmarkRequestMetrics(b *testing.B) {
	cn := &conn{s: &Server{metrics: metrics.New(metrics.Options{}), epoch: time.Now()}}
	b.ReportAllocs()
	b.SetParallelism(32) // 64 goroutines on 2 cores
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			start := cn.clock()
			cn.s.metrics.ObserveRequest("lookup", "", cn.clock()-start)
		}
	})
}

// BenchmarkEcho64 is the baseline: a loopback server that reads a message of
// the lookup request's size and writes one of the lookup reply's size, with
// a goroutine per connection and no work in between.
func BenchmarkEcho64(b *testing.B) {
	req := lookupRequest(b, "bench.name.a0")
	reply := make([]byte, 120)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				br := bufio.NewReader(c)
				buf := make([]byte, len(req))
				for {
					if _, err := io.ReadFull(br, buf); err != nil {
						return
					}
					if _, err := c.Write(reply); err != nil {
						return
					}
				}
			}()
		}
	}()
	runClients(b, func() (net.Conn, error) { return net.Dial("tcp", ln.Addr().String()) },
		func(c *clientConn) error {
			if _, err := c.Write(req); err != nil {
				return err
			}
			_, err := io.ReadFull(c.br, c.buf[:len(reply)])
			return err
		})
}

func itoaBench(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoaBench(i/10) + digits[i%10:i%10+1]
}

// BenchmarkHandshake measures a connection's setup: connect, a handshake
// with metadata (as a Pyro4 proxy makes it), the CONNECTOK reply, close.
func BenchmarkHandshake(b *testing.B) {
	s := startServer(b, Options{NoBroadcast: true})
	serpent, ok := wire.CodecByName("serpent")
	if !ok {
		b.Skip("no serpent codec")
	}
	d := wire.NewDict(2)
	d.Append("handshake", "hello")
	d.Append("object", NameServerName)
	data, err := serpent.Marshal(d)
	if err != nil {
		b.Fatal(err)
	}
	hs, err := (&wire.Message{Type: wire.MsgConnect, Flags: wire.FlagMetaOnConnect,
		SerializerID: wire.SerpentID, Data: data}).Pack(nil)
	if err != nil {
		b.Fatal(err)
	}
	addr := s.InternalURI().Location()
	b.ResetTimer()
	for range b.N {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Write(hs); err != nil {
			b.Fatal(err)
		}
		m, err := wire.ReadMessage(c, wire.Limits{})
		c.Close()
		if err != nil {
			b.Fatal(err)
		}
		if m.Type != wire.MsgConnectOK || m.Flags&wire.FlagMetaOnConnect == 0 {
			b.Fatalf("reply type %d flags %#x", m.Type, m.Flags)
		}
	}
}
