package nameserver

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pyro4/pyro4/persist"
	"github.com/pyro4/pyro4/wire"
)

func TestNewRefuses(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"autoclean too small", Options{AutoClean: time.Second}, "NS_AUTOCLEAN cannot be smaller than 3"},
		{"autoclean negative", Options{AutoClean: -time.Second}, "cannot be smaller"},
		{"nat with unix socket", Options{UnixSocket: "/tmp/x", NATHost: "ext"}, "Unix socket"},
		{"nat port alone", Options{NATPort: 5}, "NAT port needs a NAT host"},
		{"port in use", Options{Port: -1}, "listen on"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.opts.Port == -1 {
				l, err := net.Listen("tcp4", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				defer l.Close()
				tt.opts.Host, tt.opts.Port = "127.0.0.1", l.Addr().(*net.TCPAddr).Port
			}
			if s, err := New(tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
				if s != nil {
					s.Close()
				}
				t.Errorf("New: %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

func TestURIsAndNAT(t *testing.T) {
	requireCodecs(t, "serpent")
	s := startServer(t, Options{NoBroadcast: true})
	port := s.InternalURI().Port
	if got := s.URI().String(); got != "PYRO:Pyro.NameServer@127.0.0.1:"+strconv.Itoa(port) || s.URI().String() != s.InternalURI().String() {
		t.Errorf("URI %s", got)
	}
	self := func() string {
		e, ok, err := s.Registry().Lookup(NameServerName)
		if err != nil || !ok {
			t.Fatalf("self entry: %v %v", ok, err)
		}
		return e.URI
	}
	s.SetNAT("ext.example", 0)
	want := "PYRO:Pyro.NameServer@ext.example:" + strconv.Itoa(port)
	if s.URI().String() != want || self() != want || s.InternalURI().Host != "127.0.0.1" {
		t.Errorf("after SetNAT: URI %s, entry %s, internal %s", s.URI(), self(), s.InternalURI())
	}
	s.SetNAT("[::1]", 8080)
	if want := "PYRO:Pyro.NameServer@[::1]:8080"; s.URI().String() != want || self() != want {
		t.Errorf("after SetNAT v6: URI %s, entry %s", s.URI(), self())
	}
	tc := dialTest(t, s, "serpent")
	tc.connect(DaemonName)
	if v, err := tc.call(DaemonName, "info"); err != nil || !strings.HasPrefix(v.(string), "Pyro.Daemon bound on 127.0.0.1:"+strconv.Itoa(port)+", NAT [::1]:8080, 2 objects registered.") {
		t.Errorf("info %v %v", v, err)
	}
	s.SetNAT("", 0)
	if s.URI().String() != s.InternalURI().String() || self() != s.InternalURI().String() {
		t.Errorf("after clearing NAT: %s %s", s.URI(), self())
	}
}

func TestBroadcastResponder(t *testing.T) {
	s := startServer(t, Options{Host: "0.0.0.0", BroadcastHost: "127.0.0.1", NATHost: "nat.example", NATPort: 1})
	addr, ok := s.BroadcastAddr().(*net.UDPAddr)
	if !ok {
		t.Fatal("no responder")
	}
	c, err := net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: addr.Port})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ask := func(payload string) string {
		c.Write([]byte(payload))
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		buf := make([]byte, 200)
		n, err := c.Read(buf)
		if err != nil {
			return "no reply"
		}
		return string(buf[:n])
	}
	// the internal location, with 0.0.0.0 replaced by the interface that
	// reaches the requester; never the NAT one
	want := "PYRO:Pyro.NameServer@127.0.0.1:" + strconv.Itoa(s.InternalURI().Port)
	for _, tt := range []struct{ payload, want string }{
		{"GET_NSURI", want},
		{"GET_NSURI ", "no reply"},
		{"GET", "no reply"},
		{strings.Repeat("x", 500), "no reply"},
		{"GET_NSURI", want},
	} {
		if got := ask(tt.payload); got != tt.want {
			t.Errorf("%.20q: %q, want %q", tt.payload, got, tt.want)
		}
	}
}

func TestNoBroadcastResponder(t *testing.T) {
	dir := t.TempDir()
	for _, opts := range []Options{
		{Host: "127.0.0.1"},
		{Host: "localhost"},
		{Host: "127.0.0.2"},
		{Host: "0.0.0.0", NoBroadcast: true, BroadcastHost: "127.0.0.1"},
		{UnixSocket: filepath.Join(dir, "ns.sock")},
		{Host: "::1"},
	} {
		s, err := New(opts)
		if err != nil {
			if opts.Host == "::1" || opts.Host == "127.0.0.2" {
				continue // no such loopback address on this machine
			}
			t.Fatal(err)
		}
		if s.BroadcastAddr() != nil {
			t.Errorf("%+v: a responder runs", opts)
		}
		s.Close()
	}
}

func TestAddr(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ns.sock")
	tests := []struct {
		opts    Options
		network string
		addr    string // "" for the port the listener got
	}{
		{Options{Host: "127.0.0.1"}, "tcp", "127.0.0.1"},
		{Options{Host: "localhost"}, "tcp", "127.0.0.1"},
		{Options{Host: "::1"}, "tcp", "::1"},
		{Options{UnixSocket: path}, "unix", path},
	}
	for _, tt := range tests {
		s, err := New(tt.opts)
		if err != nil {
			if tt.opts.Host == "::1" {
				continue // no IPv6 loopback on this machine
			}
			t.Fatal(err)
		}
		a := s.Addr()
		want := tt.addr
		if tt.network == "tcp" {
			want = net.JoinHostPort(tt.addr, strconv.Itoa(s.InternalURI().Port))
		}
		if a.Network() != tt.network || a.String() != want {
			t.Errorf("%+v: Addr() = %s %s, want %s %s", tt.opts, a.Network(), a, tt.network, want)
		}
		s.Close()
	}
}

func TestUnixSocket(t *testing.T) {
	requireCodecs(t, "serpent")
	path := filepath.Join(t.TempDir(), "ns.sock")
	s := startServer(t, Options{UnixSocket: path})
	if got := s.URI().String(); got != "PYRO:Pyro.NameServer@./u:"+path {
		t.Errorf("URI %s", got)
	}
	tc := dialTest(t, s, "serpent")
	tc.connect(NameServerName)
	v, err := tc.call(NameServerName, "lookup", NameServerName)
	u, uerr := wire.URIFromValue(v)
	if err != nil || uerr != nil || u.Sockname != path {
		t.Errorf("lookup self: %v %v %v", v, err, uerr)
	}
}

func TestServeAndCloseLifecycle(t *testing.T) {
	s, err := New(Options{Host: "127.0.0.1", NoBroadcast: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- s.Serve(ctx) }()
	c, err := net.Dial("tcp", s.InternalURI().Location())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
	// the open connection was closed, the store (ours) too
	c.SetReadDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("connection still open")
	}
	if _, err := s.Registry().Count(); !errors.Is(err, persist.ErrClosed) {
		t.Errorf("own store not closed: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := s.Serve(context.Background()); err == nil {
		t.Error("second Serve accepted")
	}
}
