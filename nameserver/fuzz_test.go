package nameserver

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyro4/pyro4/wire"
)

// panicCatcher is a slog handler that records error records, through which
// the connection's recover reports a panic.
type panicCatcher struct {
	mu     sync.Mutex
	panics []string
}

func (h *panicCatcher) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }
func (h *panicCatcher) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "panic") {
		h.mu.Lock()
		var b strings.Builder
		b.WriteString(r.Message)
		r.Attrs(func(a slog.Attr) bool { b.WriteString(" " + a.String()); return true })
		h.panics = append(h.panics, b.String())
		h.mu.Unlock()
	}
	return nil
}
func (h *panicCatcher) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *panicCatcher) WithGroup(string) slog.Handler      { return h }

// fuzzSeeds are whole client conversations: a handshake followed by calls.
func fuzzSeeds(t testing.TB) [][]byte {
	serpent, ok := wire.CodecByName("serpent")
	if !ok {
		t.Fatal("no serpent codec")
	}
	pack := func(m wire.Message) []byte {
		b, err := m.Pack(nil)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	hs := wire.NewDict(2)
	hs.Append("handshake", "hello")
	hs.Append("object", NameServerName)
	hsData, _ := serpent.Marshal(hs)
	connect := pack(wire.Message{Type: wire.MsgConnect, Flags: wire.FlagMetaOnConnect, SerializerID: wire.SerpentID, Data: hsData})
	call := func(flags uint16, method string, args ...wire.Value) []byte {
		data, err := wire.MarshalCall(serpent, wire.Call{Object: NameServerName, Method: method, Args: args})
		if err != nil {
			t.Fatal(err)
		}
		return pack(wire.Message{Type: wire.MsgInvoke, Flags: flags, Seq: 1, SerializerID: wire.SerpentID, Data: data})
	}
	join := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	batch := call(wire.FlagBatch, "<batch>",
		wire.Tuple{"register", wire.Tuple{"x", "PYRO:o@h:1"}, wire.NewDict(0)},
		wire.Tuple{"lookup", wire.Tuple{"nope"}, wire.NewDict(0)})
	return [][]byte{
		join(connect, call(0, "ping"), call(0, "list", nil, "^a.*"), call(0, "lookup", "Pyro.NameServer", true)),
		join(connect, call(0, "register", "a", "PYRO:o@h:1", false, wire.List{"m"}), call(0, "list", nil, nil, wire.List{"m"}, nil, true)),
		join(connect, batch, call(wire.FlagOneway, "remove", nil, "a")),
		join(connect, pack(wire.Message{Type: wire.MsgPing, Seq: 2, SerializerID: wire.SerpentID})),
		connect[:30],
		[]byte("GET_NSURI"),
	}
}

// FuzzConnection feeds arbitrary bytes to a server connection: whatever
// arrives, the connection must end (when the peer closes) without a panic.
func FuzzConnection(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	catcher := &panicCatcher{}
	s, err := New(Options{Host: "127.0.0.1", NoBroadcast: true, MaxMessageSize: 1 << 20, Logger: slog.New(catcher)})
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	f.Fuzz(func(t *testing.T, input []byte) {
		server, client := net.Pipe()
		cn := &conn{s: s, c: server, br: bufio.NewReader(server), log: s.log}
		done := make(chan struct{})
		go func() {
			defer close(done)
			cn.serve()
			server.Close()
		}()
		go io.Copy(io.Discard, client)
		client.SetWriteDeadline(time.Now().Add(5 * time.Second))
		client.Write(input)
		client.Close()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("connection did not end after the peer closed")
		}
		catcher.mu.Lock()
		defer catcher.mu.Unlock()
		if len(catcher.panics) > 0 {
			t.Fatalf("panic on input %q: %s", input, catcher.panics[0])
		}
	})
}
