package nameserver

import (
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyro4/pyro4/metrics"
	"github.com/pyro4/pyro4/persist"
	"github.com/pyro4/pyro4/wire"
)

// deadAddr is a loopback TCP address where nothing listens.
func deadAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// fastAutoClean are autoclean options that remove an unreachable entry
// within a second, with intervals below Pyro4's 3 s minimum.
func fastAutoClean(log *logRecorder, store persist.Store) Options {
	return Options{NoBroadcast: true, Store: store, Logger: slog.New(log), AutoClean: 20 * time.Millisecond,
		AutoCleanLoopDelay: 5 * time.Millisecond, AutoCleanUnreachable: 300 * time.Millisecond,
		autoCleanMin: 10 * time.Millisecond}
}

func TestAutoClean(t *testing.T) {
	alive, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer alive.Close()
	dead := deadAddr(t)

	log := &logRecorder{}
	opts := fastAutoClean(log, nil)
	m := metrics.New(metrics.Options{})
	opts.Metrics = m
	s := startServer(t, opts)
	r := s.Registry()
	start := time.Now()
	sock := filepath.Join(t.TempDir(), "none.sock")
	for _, e := range []persist.Entry{
		{Name: "alive", URI: "PYRO:obj@" + alive.Addr().String()},
		{Name: "dead", URI: "PYRO:obj@" + dead},
		{Name: "dead.unix", URI: "PYRO:obj@./u:" + sock},
		{Name: "no.location", URI: "PYRONAME:some.name"},
	} {
		if err := r.Register(e, false); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, _, err := r.SetStatic([]persist.Entry{{Name: "static.dead", URI: "PYRO:obj@" + dead}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "unreachable entries to be removed", 10*time.Second, func() bool {
		_, deadThere, _ := r.Lookup("dead")
		_, unixThere, _ := r.Lookup("dead.unix")
		return !deadThere && !unixThere
	})
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Errorf("removed after %v, before the unreachable period", d)
	}
	for _, name := range []string{"alive", "no.location", "static.dead", NameServerName} {
		if _, ok, _ := r.Lookup(name); !ok {
			t.Errorf("%s was removed", name)
		}
	}
	// Each removal is logged once, as a warning (which the default log of
	// `pyro4 ns` shows), with the name and the URI.
	for name, uri := range map[string]string{"dead": "PYRO:obj@" + dead, "dead.unix": "PYRO:obj@./u:" + sock} {
		if got := log.matching("WARN autoclean: unregistered", "name="+name+" ", "uri="+uri); len(got) != 1 {
			t.Errorf("removal of %s logged %d times: %q", name, len(got), log.matching("autoclean"))
		}
	}
	if got := log.matching("unregistered"); len(got) != 2 {
		t.Errorf("removals logged: %q", got)
	}
	if got := counterValues(t, m, "pyro4_ns_autoclean_removed_total")[""]; got != 2 {
		t.Errorf("autoclean_removed_total = %v, want 2", got)
	}
	if got := counterValues(t, m, "pyro4_ns_changes_total")["remove"]; got != 2 {
		t.Errorf("changes_total{op=remove} = %v, want 2", got)
	}
}

// panickyStore panics in Range the first times it is called, as a buggy
// Store might.
type panickyStore struct {
	persist.Store
	panics atomic.Int32
}

func (p *panickyStore) Range(prefix string, fn func(persist.Entry) bool) error {
	if p.panics.Add(-1) >= 0 {
		panic("store bug")
	}
	return p.Store.Range(prefix, fn)
}

// TestAutoCleanSurvivesPanic: a panic in an autoclean round is logged and
// the next rounds run; the server keeps serving.
func TestAutoCleanSurvivesPanic(t *testing.T) {
	requireCodecs(t, "serpent")
	store := &panickyStore{Store: persist.NewMemory()}
	defer store.Store.Close()
	store.panics.Store(3)
	log := &logRecorder{}
	s := startServer(t, fastAutoClean(log, store))
	if err := s.Registry().Register(persist.Entry{Name: "dead", URI: "PYRO:obj@" + deadAddr(t)}, false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the dead entry to be removed after the panics", 10*time.Second, func() bool {
		_, found, _ := s.Registry().Lookup("dead")
		return !found
	})
	if got := log.matching("ERROR autoclean: panic", "panic=store bug"); len(got) != 3 {
		t.Errorf("%d panics logged, want 3: %q", len(got), got)
	}
	tc := dialTest(t, s, "serpent")
	tc.connect(NameServerName)
	if v, err := tc.call(NameServerName, "count"); err != nil || v != int64(1) {
		t.Errorf("count after the panics: %v %v", v, err)
	}
}

// panicTrigger makes the broadcast responder panic on the datagram
// "PANIC": it is handed on as GET_NSURI from a nil address, whose String
// method cannot be called.
type panicTrigger struct{ net.PacketConn }

func (p panicTrigger) ReadFrom(b []byte) (int, net.Addr, error) {
	n, addr, err := p.PacketConn.ReadFrom(b)
	if err == nil && string(b[:n]) == "PANIC" {
		return copy(b, broadcastRequest), nil, nil
	}
	return n, addr, err
}

// TestBroadcastResponderSurvivesPanic: a panic while answering a datagram
// is logged and the responder answers the next one.
func TestBroadcastResponderSurvivesPanic(t *testing.T) {
	log := &logRecorder{}
	s, err := New(Options{Host: "0.0.0.0", BroadcastHost: "127.0.0.1", Logger: slog.New(log)})
	if err != nil {
		t.Fatal(err)
	}
	s.udp = panicTrigger{s.udp}
	serveTest(t, s)
	c, err := net.DialUDP("udp4", nil, s.BroadcastAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("PANIC")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the panic to be logged", 10*time.Second, func() bool {
		return len(log.matching("ERROR broadcast responder: panic")) == 1
	})
	if _, err := c.Write([]byte(broadcastRequest)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 200)
	n, err := c.Read(buf)
	if want := s.InternalURI().String(); err != nil || !strings.HasPrefix(want, "PYRO:Pyro.NameServer@0.0.0.0:") ||
		string(buf[:n]) != strings.Replace(want, "0.0.0.0", "127.0.0.1", 1) {
		t.Errorf("reply after the panic: %q %v", buf[:n], err)
	}
}

func TestDialAddress(t *testing.T) {
	tests := []struct {
		uri, network, addr string
		ok                 bool
	}{
		{"PYRO:obj@localhost:4711", "tcp", "localhost:4711", true},
		{"PYRO:obj@[::1]:4711", "tcp", "[::1]:4711", true},
		{"PYRO:obj@./u:/tmp/ns.sock", "unix", "/tmp/ns.sock", true},
		{"PYRONAME:some.name", "", "", false},
		{"PYROMETA:a,b", "", "", false},
	}
	for _, tt := range tests {
		u, err := wire.ParseURI(tt.uri)
		if err != nil {
			t.Fatalf("%s: %v", tt.uri, err)
		}
		network, addr, ok := dialAddress(u)
		if network != tt.network || addr != tt.addr || ok != tt.ok {
			t.Errorf("dialAddress(%s) = %q, %q, %v; want %q, %q, %v", tt.uri, network, addr, ok, tt.network, tt.addr, tt.ok)
		}
	}
}
