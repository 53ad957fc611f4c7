package nameserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
	"github.com/pyro4/pyro4/persist"
	"github.com/pyro4/pyro4/wire"
)

// attrRecorder keeps every record as a line of text with the logger's own
// attributes too (the connection's remote address), unlike logRecorder.
type attrRecorder struct {
	mu    *sync.Mutex
	lines *[]string
	attrs []slog.Attr
}

func newAttrRecorder() *attrRecorder { return &attrRecorder{mu: new(sync.Mutex), lines: new([]string)} }

func (h *attrRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *attrRecorder) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Level.String() + " " + r.Message)
	for _, a := range h.attrs {
		b.WriteString(" " + a.String())
	}
	r.Attrs(func(a slog.Attr) bool { b.WriteString(" " + a.String()); return true })
	h.mu.Lock()
	*h.lines = append(*h.lines, b.String())
	h.mu.Unlock()
	return nil
}
func (h *attrRecorder) WithAttrs(as []slog.Attr) slog.Handler {
	return &attrRecorder{mu: h.mu, lines: h.lines, attrs: append(append([]slog.Attr{}, h.attrs...), as...)}
}
func (h *attrRecorder) WithGroup(string) slog.Handler { return h }

func (h *attrRecorder) matching(parts ...string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, l := range *h.lines {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			out = append(out, l)
		}
	}
	return out
}

// fillLarge registers n names with 60-byte URIs: list() of them all is
// about n*100 bytes.
func fillLarge(t *testing.T, store persist.Store, n int) {
	t.Helper()
	for i := range n {
		e := persist.Entry{Name: fmt.Sprintf("large.listing.name.%06d", i), URI: fmt.Sprintf("PYRO:obj_%032d@127.0.0.1:51851", i)}
		if err := store.Put(e); err != nil {
			t.Fatal(err)
		}
	}
}

func heapAlloc() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// TestNonReadingClientsAreCut: clients that pipeline list() calls and read
// nothing hold one reply each at most, are disconnected once a reply has
// waited SendTimeout, and the memory comes back.
func TestNonReadingClientsAreCut(t *testing.T) {
	const clients, calls, names = 30, 20, 20000
	store := persist.NewMemory()
	fillLarge(t, store, names)
	s := startServer(t, Options{NoBroadcast: true, Store: store, SendTimeout: time.Second})
	base := heapAlloc()

	serpent, _ := wire.CodecByName("serpent")
	req, err := wire.MarshalCall(serpent, wire.Call{Object: NameServerName, Method: "list"})
	if err != nil {
		t.Fatal(err)
	}
	for range clients {
		tc := dialTest(t, s, "serpent")
		tc.connect(NameServerName)
		for i := range calls {
			tc.send(&wire.Message{Type: wire.MsgInvoke, Seq: uint16(i + 1), SerializerID: wire.SerpentID, Data: req})
		}
	}

	var peakHeld int64
	var peakHeap uint64
	start := time.Now()
	for s.connCount() > 0 {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("%d of %d non-reading clients still connected after %v (send timeout 1s)", s.connCount(), clients, time.Since(start))
		}
		peakHeld = max(peakHeld, s.bounds.replies.held.Load())
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peakHeap = max(peakHeap, ms.HeapAlloc)
		time.Sleep(20 * time.Millisecond)
	}
	replySize := int64(names * 100)
	if peakHeld == 0 {
		t.Fatal("no reply was ever waiting to be written: the clients did not pin anything, the test shows nothing")
	}
	if peakHeld > clients*replySize*3/2 {
		t.Errorf("replies waiting peaked at %d bytes, more than one reply (%d bytes) per client", peakHeld, replySize)
	}
	// Each connection holds one encoded reply and, while it encodes, the
	// result it encodes from; twenty pipelined replies per client would be
	// over a gigabyte.
	if grew := int64(peakHeap) - int64(base); grew > clients*replySize*4 {
		t.Errorf("heap grew by %d MB while the clients did not read, want under %d MB", grew>>20, clients*replySize*4>>20)
	}
	if held := s.bounds.replies.held.Load(); held != 0 {
		t.Errorf("%d bytes of replies still counted after every client was cut", held)
	}
	if after := heapAlloc(); after > base+16<<20 {
		t.Errorf("heap is %d MB after the clients were cut, %d MB before: their replies were not given back", after>>20, base>>20)
	}
}

// TestReplyBudgetRefusesLargeReplies: a list() larger than the reply
// budget fails fast with a NamingError that names the budget, and the
// connection goes on serving small calls.
func TestReplyBudgetRefusesLargeReplies(t *testing.T) {
	store := persist.NewMemory()
	fillLarge(t, store, 20000)
	s := startServer(t, Options{NoBroadcast: true, Store: store, ReplyBudget: 1 << 20})
	tc := dialTest(t, s, "serpent")
	tc.connect(NameServerName)
	_, err := tc.call(NameServerName, "list")
	var x *wire.Exception
	if !errors.As(err, &x) || x.Class != wire.ClassNamingError || !strings.Contains(x.Message, "reply_budget of 1048576 bytes") {
		t.Fatalf("list() of 2 MB under a 1 MB budget: %v, want NamingError naming reply_budget", err)
	}
	if _, err := tc.call(NameServerName, "lookup", "large.listing.name.000042"); err != nil {
		t.Fatalf("lookup after the refusal: %v", err)
	}
	v, err := tc.call(NameServerName, "list", "large.listing.name.0000")
	if d, ok := v.(*wire.Dict); err != nil || !ok || d.Len() != 100 {
		t.Fatalf("a narrowed list(): %v %v, want 100 names", v, err)
	}
}

func TestReplyBudgetCountsHeldReplies(t *testing.T) {
	b := replyBudget{limit: 1 << 20}
	if err := b.acquire(600 << 10); err != nil {
		t.Fatal(err)
	}
	if err := b.acquire(600 << 10); err == nil || !strings.Contains(err.Message, "614400 bytes of replies wait to be sent") {
		t.Fatalf("second 600 KiB reply under a 1 MiB budget: %v, want a refusal saying what waits", err)
	}
	if err := b.acquire(smallReply); err != nil {
		t.Fatalf("a small reply is refused: %v", err)
	}
	b.release(smallReply)
	if room := b.room(); room != 1<<20-600<<10 {
		t.Errorf("room %d, want %d", room, 1<<20-600<<10)
	}
	b.release(600 << 10)
	if err := b.acquire(600 << 10); err != nil {
		t.Fatalf("after the release: %v", err)
	}
	if err := b.acquire(2 << 20); err == nil || !strings.Contains(err.Message, "larger than the name server's reply_budget") {
		t.Fatalf("a reply larger than the whole budget: %v", err)
	}
}

// TestMaxConnectionsPython: beyond max_connections a real Pyro4 client is
// refused with a CommunicationError that names the limit, and is served
// again once a connection is free.
func TestMaxConnectionsPython(t *testing.T) {
	pypeer.Require(t)
	s := startServer(t, Options{NoBroadcast: true, MaxConnections: 2})
	held := []*testClient{dialTest(t, s, "serpent"), dialTest(t, s, "serpent")}
	for _, tc := range held {
		tc.connect(NameServerName)
	}
	const probe = `
import sys, Pyro4, Pyro4.errors
p = Pyro4.Proxy(sys.argv[1])
try:
    print("COUNT", p.count())
except Pyro4.errors.CommunicationError as x:
    print("REFUSED", type(x).__name__, x)
`
	uri := s.URI().String()
	out, err := pypeer.Run(t, 30*time.Second, pypeer.Env(), probe, uri)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := fmt.Sprintf("REFUSED CommunicationError connection to ('127.0.0.1', %d) rejected: no free workers, the name server has reached its max_connections limit of 2", s.InternalURI().Port)
	if strings.TrimSpace(out) != want {
		t.Fatalf("Python client over the limit printed\n%s\nwant\n%s", out, want)
	}
	held[0].c.Close()
	for start := time.Now(); s.connCount() > 1; time.Sleep(10 * time.Millisecond) {
		if time.Since(start) > 5*time.Second {
			t.Fatal("the closed connection was not let go")
		}
	}
	out, err = pypeer.Run(t, 30*time.Second, pypeer.Env(), probe, uri)
	if err != nil || !strings.HasPrefix(out, "COUNT 1") {
		t.Fatalf("Python client under the limit: %v\n%s", err, out)
	}
}

// dialFrom connects to s from the loopback address local, so that one test
// can be several peers.
func dialFrom(t *testing.T, s *Server, local string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", s.InternalURI().Location())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return c
}

// waitLines waits until the recorder has n lines with parts.
func waitLines(t *testing.T, rec *attrRecorder, n int, parts ...string) []string {
	t.Helper()
	for start := time.Now(); ; time.Sleep(10 * time.Millisecond) {
		if got := rec.matching(parts...); len(got) >= n || time.Since(start) > 5*time.Second {
			return got
		}
	}
}

// TestSecurityEventsWarnRateLimited: a bad HMAC, a refused serializer, an
// oversize and a malformed message are each logged at WARNING with the
// peer's address, and a flood from one peer is logged only a few times.
func TestSecurityEventsWarnRateLimited(t *testing.T) {
	rec := newAttrRecorder()
	key := []byte("the key")
	s := startServer(t, Options{NoBroadcast: true, HMACKey: key, MaxMessageSize: 4096, Logger: slog.New(rec)})

	// a flood of malformed headers from 127.0.0.1
	for range 3 * securityBurst {
		c := dialFrom(t, s, "127.0.0.1")
		c.Write(append([]byte("JUNK"), make([]byte, 20)...))
		wire.ReadMessage(c, wire.Limits{HMACKey: key}) // the CONNECTFAIL, or the close
		c.Close()
	}
	if got := waitLines(t, rec, securityBurst+1, "WARN", "remote=127.0.0.1:", "invalid data or unsupported protocol version"); len(got) != securityBurst {
		t.Errorf("%d malformed messages from one peer logged %d warnings, want %d:\n%s", 3*securityBurst, len(got), securityBurst, strings.Join(got, "\n"))
	}

	serpent, _ := wire.CodecByName("serpent")
	hello, _ := serpent.Marshal(wire.Value("hello"))
	for _, c := range []struct {
		peer, what string
		msg        wire.Message
		key        []byte
	}{
		{"127.0.0.2", "message hmac mismatch", wire.Message{Type: wire.MsgConnect, SerializerID: wire.SerpentID, Data: hello}, []byte("wrong key")},
		{"127.0.0.3", "serializer that is not accepted: 4", wire.Message{Type: wire.MsgConnect, SerializerID: wire.PickleID, Data: []byte("x")}, key},
		{"127.0.0.4", "max message size exceeded", wire.Message{Type: wire.MsgConnect, SerializerID: wire.SerpentID, Data: make([]byte, 8000)}, key},
	} {
		conn := dialFrom(t, s, c.peer)
		b, err := c.msg.Pack(c.key)
		if err != nil {
			t.Fatal(err)
		}
		conn.Write(b)
		wire.ReadMessage(conn, wire.Limits{HMACKey: key})
		if got := waitLines(t, rec, 1, "WARN", "remote="+c.peer+":", c.what); len(got) != 1 {
			t.Errorf("%s: %d warnings naming the peer, want 1; log:\n%s", c.what, len(got), strings.Join(rec.matching(""), "\n"))
		}
	}
}

func TestPeerLimiter(t *testing.T) {
	l := newLogLimiter[string](3, securityGlobal, 10*time.Second, 4)
	now := time.Unix(1000, 0)
	allowed := 0
	for range 10 {
		if ok, _ := l.allow("192.0.2.1", now); ok {
			allowed++
		}
	}
	if allowed != 3 {
		t.Errorf("10 events in a window: %d allowed, want 3", allowed)
	}
	ok, suppressed := l.allow("192.0.2.1", now.Add(11*time.Second))
	if !ok || suppressed != 7 {
		t.Errorf("first event of the next window: allowed %v, suppressed %d; want true, 7", ok, suppressed)
	}
	// Many peers: the map stays bounded, new peers past it share one count.
	for i := range 1000 {
		l.allow(fmt.Sprintf("10.1.%d.%d", i/256, i%256), now.Add(12*time.Second))
	}
	if len(l.keys) > 4 {
		t.Errorf("limiter tracks %d peers, want at most 4", len(l.keys))
	}
	// The global limit holds over all peers together.
	g := newLogLimiter[string](securityGlobal, securityGlobal, time.Minute, 1000)
	allowed = 0
	for i := range 10 * securityGlobal {
		if ok, _ := g.allow(fmt.Sprintf("10.2.%d.%d", i/256, i%256), now); ok {
			allowed++
		}
	}
	if allowed != securityGlobal {
		t.Errorf("events from %d peers: %d allowed, want the global %d", 10*securityGlobal, allowed, securityGlobal)
	}
}

// fullDisk is a store whose writes fail as on a full disk.
type fullDisk struct{ persist.Store }

var errFull = errors.New("write ns.db: no space left on device")

func (fullDisk) Put(persist.Entry) error    { return errFull }
func (fullDisk) PutNew(persist.Entry) error { return errFull }

// TestStoreErrorsAreLoggedAtError: a write the store fails is the client's
// PyroError and the operator's ERROR line.
func TestStoreErrorsAreLoggedAtError(t *testing.T) {
	rec := newAttrRecorder()
	mem := persist.NewMemory()
	s, err := New(Options{Host: "127.0.0.1", NoBroadcast: true, Store: mem, Logger: slog.New(rec)})
	if err != nil {
		t.Fatal(err)
	}
	s.reg.store = fullDisk{mem}
	serveTest(t, s)
	tc := dialTest(t, s, "serpent")
	tc.connect(NameServerName)
	_, err = tc.call(NameServerName, "register", "a.name", "PYRO:x@127.0.0.1:1")
	if err == nil || !strings.Contains(err.Error(), "no space left on device") {
		t.Fatalf("register on a full disk: %v", err)
	}
	if got := waitLines(t, rec, 1, "ERROR", "call failed", "method=register", "no space left on device"); len(got) != 1 {
		t.Errorf("no ERROR line for the store's failure; log:\n%s", strings.Join(rec.matching(""), "\n"))
	}
}

// TestLargeListCopies: the server's side of a large list() allocates a
// small multiple of the reply, not the five-fold of buffers grown by
// append plus a copy of the reply behind its header. The client reads
// into a buffer made beforehand, so the allocations counted are the
// server's.
func TestLargeListCopies(t *testing.T) {
	const names = 100000
	store := persist.NewMemory()
	fillLarge(t, store, names)
	s := startServer(t, Options{NoBroadcast: true, Store: store})
	conn, err := dialHandshake(s)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	serpent, _ := wire.CodecByName("serpent")
	data, err := wire.MarshalCall(serpent, wire.Call{Object: NameServerName, Method: "list"})
	if err != nil {
		t.Fatal(err)
	}
	req, _ := (&wire.Message{Type: wire.MsgInvoke, SerializerID: wire.SerpentID, Data: data}).Pack(nil)
	c := newClientConn(conn)
	c.buf = make([]byte, 0, 32<<20)
	if err := c.roundTrip(req); err != nil { // warm the connection
		t.Fatal(err)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := c.roundTrip(req); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	size := len(c.reply.Data)
	if size < names*80 {
		t.Fatalf("reply of %d bytes, want the whole listing", size)
	}
	// One encoding buffer of about the reply's size, the result dict (two
	// words per name, grown by doubling) and the boxed strings.
	got := after.TotalAlloc - before.TotalAlloc
	t.Logf("a list() reply of %d bytes allocated %d bytes (%.1fx)", size, got, float64(got)/float64(size))
	if got > uint64(4*size) {
		t.Errorf("a list() reply of %d bytes allocated %d bytes (%.1fx), want at most 4x", size, got, float64(got)/float64(size))
	}
}
