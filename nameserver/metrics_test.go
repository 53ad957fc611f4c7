package nameserver

import (
	"bytes"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/pyro4/pyro4/metrics"
	"github.com/pyro4/pyro4/tlsconf/tlstest"
	"github.com/pyro4/pyro4/wire"
)

// counterValues gathers the counter name by its first label's value ("" for
// a counter without labels).
func counterValues(t *testing.T, m *metrics.Metrics, name string) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(m)
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		if f.GetName() != name {
			continue
		}
		for _, s := range f.GetMetric() {
			key := ""
			if ls := s.GetLabel(); len(ls) > 0 {
				key = ls[0].GetValue()
			}
			out[key] = s.GetCounter().GetValue()
		}
	}
	return out
}

// TestErrorsByKind: each kind of failure below the method level counts
// once under its kind, and a client that just leaves counts nothing.
func TestErrorsByKind(t *testing.T) {
	hello := func(t *testing.T, codec string) []byte {
		c, _ := wire.CodecByName(codec)
		d := wire.NewDict(1)
		d.Append("handshake", "hello")
		data, err := c.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	tlsOpts := Options{TLS: tlsServerConfig(t, tlstest.WriteFiles(t), false)}
	for _, tc := range []struct {
		label string
		opts  Options
		send  func(t *testing.T, c net.Conn)
		kind  string // "" for none
	}{
		{"client leaves", Options{}, func(*testing.T, net.Conn) {}, ""},
		{"plain pyro on the TLS port", tlsOpts, func(t *testing.T, c net.Conn) {
			b, _ := (&wire.Message{Type: wire.MsgConnect, SerializerID: wire.SerpentID, Data: hello(t, "serpent")}).Pack(nil)
			c.Write(b)
		}, "tls"},
		{"not the protocol", Options{}, func(t *testing.T, c net.Conn) {
			c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		}, "protocol"},
		{"no hmac", Options{HMACKey: []byte("k")}, func(t *testing.T, c net.Conn) {
			b, _ := (&wire.Message{Type: wire.MsgConnect, SerializerID: wire.SerpentID, Data: hello(t, "serpent")}).Pack(nil)
			c.Write(b)
		}, "hmac"},
		{"too large", Options{MaxMessageSize: 64}, func(t *testing.T, c net.Conn) {
			b, _ := (&wire.Message{Type: wire.MsgConnect, SerializerID: wire.SerpentID, Data: bytes.Repeat([]byte("x"), 500)}).Pack(nil)
			c.Write(b)
		}, "too_large"},
		{"serializer not accepted", Options{Accepted: wire.Accepted{wire.SerpentID: true}}, func(t *testing.T, c net.Conn) {
			b, _ := (&wire.Message{Type: wire.MsgConnect, SerializerID: wire.JSONID, Data: hello(t, "json")}).Pack(nil)
			c.Write(b)
		}, "serializer"},
	} {
		t.Run(tc.label, func(t *testing.T) {
			m := metrics.New(metrics.Options{})
			tc.opts.NoBroadcast, tc.opts.Metrics = true, m
			s := startServer(t, tc.opts)
			c, err := net.Dial("tcp", s.InternalURI().Location())
			if err != nil {
				t.Fatal(err)
			}
			tc.send(t, c)
			if tc.kind == "" {
				c.Close()
			} else {
				// the server answers or closes; either way it is done
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				buf := make([]byte, 512)
				for {
					if _, err := c.Read(buf); err != nil {
						break
					}
				}
				c.Close()
			}
			waitFor(t, "the connection to end", 5*time.Second, func() bool { return s.connCount() == 0 })
			got := counterValues(t, m, "pyro4_ns_errors_total")
			for _, k := range []string{"protocol", "hmac", "tls", "serializer", "too_large"} {
				want := 0.0
				if k == tc.kind {
					want = 1
				}
				if got[k] != want {
					t.Errorf("errors_total{kind=%q} = %v, want %v (all: %v)", k, got[k], want, got)
				}
			}
		})
	}
}

// TestBroadcastCounted: an answered GET_NSURI counts, another datagram
// does not.
func TestBroadcastCounted(t *testing.T) {
	m := metrics.New(metrics.Options{})
	s := startServer(t, Options{Host: "0.0.0.0", BroadcastHost: "127.0.0.1", Metrics: m})
	if s.BroadcastAddr() == nil {
		t.Fatal("no broadcast responder for a 0.0.0.0 bind")
	}
	c, err := net.Dial("udp4", s.BroadcastAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("NOT_A_REQUEST"))
	c.Write([]byte(broadcastRequest))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 200)
	n, err := c.Read(buf)
	if err != nil || !bytes.HasPrefix(buf[:n], []byte("PYRO:Pyro.NameServer@")) {
		t.Fatalf("broadcast reply %q, %v", buf[:n], err)
	}
	if got := counterValues(t, m, "pyro4_ns_broadcast_requests_total")[""]; got != 1 {
		t.Errorf("broadcast_requests_total = %v, want 1", got)
	}
}
