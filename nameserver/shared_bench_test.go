package nameserver

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/etcdtest"
	"github.com/pyro4/pyro4/persist"
	"github.com/pyro4/pyro4/wire"
)

// benchEtcdStore opens a store on a name space of its own on ec.
func benchEtcdStore(b *testing.B, ec *etcdtest.Cluster, prefix string) *persist.Etcd {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := persist.OpenEtcd(ctx, persist.EtcdOptions{Endpoints: ec.Endpoints(), Prefix: prefix, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// BenchmarkLookup64Shared is BenchmarkLookup64 on a server over the memory
// store and on one over a 3-member etcd cluster: lookups come from the
// etcd store's local index, so the two should be alike.
func BenchmarkLookup64Shared(b *testing.B) {
	etcdtest.Require(b)
	ec := etcdtest.Start(b, 3)
	type server struct {
		s   *Server
		req []byte
	}
	servers := map[string]server{}
	for _, kind := range []string{"memory", "etcd"} {
		opts := Options{NoBroadcast: true}
		if kind == "etcd" {
			opts.Store = benchEtcdStore(b, ec, "/bench-lookup/")
		}
		s, req := lookupServerWith(b, opts)
		servers[kind] = server{s, req}
	}
	for _, kind := range []string{"memory", "etcd"} {
		b.Run(kind, func(b *testing.B) {
			sv := servers[kind]
			runClients(b, func() (net.Conn, error) { return dialHandshake(sv.s) },
				func(c *clientConn) error { return c.roundTrip(sv.req) })
		})
	}
}

// registerRequest is a packed serpent register(name, uri) call.
func registerRequest(tb testing.TB, name string) []byte {
	serpent, ok := wire.CodecByName("serpent")
	if !ok {
		tb.Skip("no serpent codec")
	}
	data, err := wire.MarshalCall(serpent, wire.Call{Object: NameServerName, Method: "register",
		Args: []wire.Value{name, "PYRO:obj@10.0.0.1:4711"}})
	if err != nil {
		tb.Fatal(err)
	}
	req, err := (&wire.Message{Type: wire.MsgInvoke, Seq: 1, SerializerID: wire.SerpentID, Data: data}).Pack(nil)
	if err != nil {
		tb.Fatal(err)
	}
	return req
}

// BenchmarkRegister16Etcd measures registrations through a server on a
// 3-member etcd cluster from 16 clients at once; each reply is sent after
// a quorum has committed the write.
func BenchmarkRegister16Etcd(b *testing.B) {
	etcdtest.Require(b)
	ec := etcdtest.Start(b, 3)
	s := startServer(b, Options{Host: "127.0.0.1", NoBroadcast: true, Store: benchEtcdStore(b, ec, "/bench-register/")})
	const clients = 16
	conns := make([]*clientConn, clients)
	reqs := make([][]byte, clients)
	for i := range conns {
		c, err := dialHandshake(s)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		conns[i], reqs[i] = newClientConn(c), registerRequest(b, fmt.Sprintf("bench.reg.%d", i))
	}
	work := make(chan struct{}, 1024)
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				if err := c.roundTrip(reqs[i]); err != nil {
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
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "registrations/s")
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
}
