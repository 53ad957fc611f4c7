package nameserver

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
	"github.com/pyro4/pyro4/wire"
)

// goClient is a minimal protocol client that reports errors instead of
// failing the test, for use from many goroutines.
type goClient struct {
	c     net.Conn
	br    *bufio.Reader
	codec wire.Codec
	seq   uint16
}

func dialGo(addr string, codec wire.Codec) (*goClient, error) {
	c, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(60 * time.Second))
	gc := &goClient{c: c, br: bufio.NewReader(c), codec: codec}
	d := wire.NewDict(2)
	d.Append("handshake", "hello")
	d.Append("object", NameServerName)
	data, err := codec.Marshal(d)
	if err != nil {
		return nil, err
	}
	m, err := gc.roundTrip(&wire.Message{Type: wire.MsgConnect, Flags: wire.FlagMetaOnConnect, SerializerID: codec.ID(), Data: data})
	if err != nil {
		c.Close()
		return nil, err
	}
	if m.Type != wire.MsgConnectOK {
		c.Close()
		return nil, fmt.Errorf("handshake refused: type %d", m.Type)
	}
	return gc, nil
}

func (gc *goClient) roundTrip(m *wire.Message) (*wire.Message, error) {
	b, err := m.Pack(nil)
	if err != nil {
		return nil, err
	}
	if _, err := gc.c.Write(b); err != nil {
		return nil, err
	}
	r, err := wire.ReadMessage(gc.br, wire.Limits{})
	if err != nil {
		return nil, err
	}
	if r.Seq != m.Seq {
		return nil, fmt.Errorf("reply seq %d for request %d", r.Seq, m.Seq)
	}
	return r, r.Decompress(0)
}

func (gc *goClient) call(method string, args ...wire.Value) (wire.Value, error) {
	data, err := wire.MarshalCall(gc.codec, wire.Call{Object: NameServerName, Method: method, Args: args})
	if err != nil {
		return nil, err
	}
	gc.seq++
	r, err := gc.roundTrip(&wire.Message{Type: wire.MsgInvoke, Seq: gc.seq, SerializerID: gc.codec.ID(), Data: data})
	if err != nil {
		return nil, err
	}
	v, err := gc.codec.Unmarshal(r.Data)
	if err != nil {
		return nil, err
	}
	if r.Flags&wire.FlagException != 0 {
		if x, ok := wire.ExceptionFromValue(v); ok {
			return nil, x
		}
		return nil, fmt.Errorf("bad exception reply %v", wire.Repr(v))
	}
	return v, nil
}

// TestManyClients has 400 Go connections and 100 Python proxies connected at
// the same time, then lets each register, look up and list its own name.
func TestManyClients(t *testing.T) {
	pypeer.Require(t)
	requireCodecs(t, "serpent", "marshal", "json")
	const goClients, pyClients = 400, 100
	s := startServer(t, Options{NoBroadcast: true})
	goFile := filepath.Join(t.TempDir(), "go")
	py := pypeer.Start(t, pypeer.Env(), pypeer.Python, "testdata/many_clients.py", s.URI().String(), fmt.Sprint(pyClients), goFile)
	py.WaitLine(t, "READY", 60*time.Second)

	codecs := []string{"serpent", "marshal", "json"}
	clients := make([]*goClient, goClients)
	errs := make(chan error, goClients)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codec, _ := wire.CodecByName(codecs[i%len(codecs)])
			c, err := dialGo(s.InternalURI().Location(), codec)
			if err != nil {
				errs <- fmt.Errorf("client %d: %w", i, err)
				return
			}
			clients[i] = c
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	defer func() {
		for _, c := range clients {
			c.c.Close()
		}
	}()
	if n := s.connCount(); n < goClients+pyClients {
		t.Fatalf("%d connections open, want at least %d", n, goClients+pyClients)
	}
	if err := os.WriteFile(goFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	errs = make(chan error, goClients)
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("go.client.%03d", i)
			target := fmt.Sprintf("PYRO:obj%d@localhost:%d", i, 2000+i)
			if _, err := c.call("register", name, target, false, wire.List{"go"}); err != nil {
				errs <- fmt.Errorf("%s register: %w", name, err)
				return
			}
			v, err := c.call("lookup", name)
			u, uerr := wire.URIFromValue(v)
			if err != nil || uerr != nil || u.String() != target {
				errs <- fmt.Errorf("%s lookup: %v %v %v", name, wire.Repr(v), err, uerr)
				return
			}
			v, err = c.call("list", name)
			want := wire.NewDict(1)
			want.Append(name, target)
			if err != nil || !wire.Equal(v, want) {
				errs <- fmt.Errorf("%s list: %v %v", name, wire.Repr(v), err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	py.WaitLine(t, fmt.Sprintf("OK %d", pyClients), 60*time.Second)
	if n, err := s.Registry().Count(); err != nil || n != 1+goClients+pyClients {
		t.Errorf("count %d (%v), want %d", n, err, 1+goClients+pyClients)
	}
}
