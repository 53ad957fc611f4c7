package nameserver

import (
	"fmt"
	"hash/maphash"
	"net"
	"strings"
	"testing"

	"github.com/pyro4/pyro4/persist"
	"github.com/pyro4/pyro4/wire"
)

func TestURIValueCacheBoundedAndExact(t *testing.T) {
	c := newURIValueCache()
	const n = uriCacheShards * uriCachePerShard * 2
	for i := range n {
		s := fmt.Sprintf("PYRO:obj%d@localhost:%d", i, 1000+i%5000)
		v, err := c.get(s)
		if err != nil {
			t.Fatal(err)
		}
		u, err := wire.URIFromValue(v)
		if err != nil {
			t.Fatal(err)
		}
		if u.String() != s {
			t.Fatalf("get(%q) = %q", s, u.String())
		}
	}
	total := 0
	for i := range c.shards {
		if l := len(c.shards[i].m); l > uriCachePerShard {
			t.Fatalf("shard %d holds %d > %d", i, l, uriCachePerShard)
		}
		total += len(c.shards[i].m)
	}
	if total < uriCacheShards*uriCachePerShard/2 {
		t.Fatalf("cache holds only %d entries after %d inserts: evicts too much", total, n)
	}
	if _, err := c.get("not a uri"); err == nil {
		t.Fatal("bad URI accepted")
	}
}

func TestLookupAfterReregisterReturnsNewURI(t *testing.T) {
	ns := newNameServer(NewRegistry(persist.NewMemory()), nil)
	for i := range 3 {
		uri := fmt.Sprintf("PYRO:obj@localhost:%d", 5000+i)
		if _, err := ns.register([]wire.Value{"re.name", uri, false, nil}); err != nil {
			t.Fatal(err)
		}
		v, err := ns.lookup([]wire.Value{"re.name", false})
		if err != nil {
			t.Fatal(err)
		}
		u, err := wire.URIFromValue(v)
		if err != nil {
			t.Fatal(err)
		}
		if u.String() != uri {
			t.Fatalf("lookup after register %d = %s, want %s", i, u.String(), uri)
		}
	}
}

// cached reports whether the URI string s is in c.
func (c *uriValueCache) cached(s string) bool {
	sh := &c.shards[maphash.String(c.seed, s)%uriCacheShards]
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	_, ok := sh.m[s]
	return ok
}

// handshakeKeys lists the keys of s's CONNECTOK cache.
func handshakeKeys(s *Server) []handshakeKey {
	var keys []handshakeKey
	s.handshakeReplies.Range(func(k, _ any) bool { keys = append(keys, k.(handshakeKey)); return true })
	return keys
}

// TestServersKeepTheirOwnCaches runs two servers in one process, each with
// its own NAT location: each hands out its own URIs and keeps its own
// object table, URI cache and CONNECTOK cache.
func TestServersKeepTheirOwnCaches(t *testing.T) {
	serpent, ok := wire.CodecByName("serpent")
	if !ok {
		t.Fatal("no serpent codec")
	}
	a := startServer(t, Options{NoBroadcast: true, NATHost: "192.0.2.1", NATPort: 1111})
	b := startServer(t, Options{NoBroadcast: true, NATHost: "192.0.2.2", NATPort: 2222})
	if a.objects == b.objects || a.ns == b.ns || a.ns.uris == b.ns.uris {
		t.Fatal("two servers share their object table or URI cache")
	}
	req := lookupRequest(t, NameServerName)
	for _, tc := range []struct {
		s     *Server
		flags uint16 // the handshake's: a asks for metadata, b does not
		want  handshakeKey
	}{
		{a, wire.FlagMetaOnConnect, handshakeKey{serializer: wire.SerpentID, object: NameServerName, meta: true}},
		{b, 0, handshakeKey{serializer: wire.SerpentID}},
	} {
		d := wire.NewDict(2)
		d.Append("handshake", "hello")
		d.Append("object", NameServerName)
		data, err := serpent.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		hs, err := (&wire.Message{Type: wire.MsgConnect, Flags: tc.flags, SerializerID: wire.SerpentID, Data: data}).Pack(nil)
		if err != nil {
			t.Fatal(err)
		}
		c, err := net.Dial("tcp", tc.s.InternalURI().Location())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if _, err := c.Write(hs); err != nil {
			t.Fatal(err)
		}
		if m, err := wire.ReadMessage(c, wire.Limits{}); err != nil || m.Type != wire.MsgConnectOK {
			t.Fatalf("handshake with %s: %v, %v", tc.s.URI(), m, err)
		}
		cc := newClientConn(c)
		if err := cc.roundTrip(req); err != nil {
			t.Fatal(err)
		}
		v, err := serpent.Unmarshal(cc.reply.Data)
		if err != nil {
			t.Fatal(err)
		}
		u, err := wire.URIFromValue(v)
		if err != nil {
			t.Fatal(err)
		}
		if u.String() != tc.s.URI().String() {
			t.Errorf("lookup(%s) on %s = %s", NameServerName, tc.s.URI(), u)
		}
		if keys := handshakeKeys(tc.s); len(keys) != 1 || keys[0] != tc.want {
			t.Errorf("%s: CONNECTOK cache holds %+v, want only %+v", tc.s.URI(), keys, tc.want)
		}
	}
	for _, tc := range []struct{ s, other *Server }{{a, b}, {b, a}} {
		if !tc.s.ns.uris.cached(tc.s.URI().String()) {
			t.Errorf("%s: its own URI is not in its URI cache", tc.s.URI())
		}
		if tc.s.ns.uris.cached(tc.other.URI().String()) {
			t.Errorf("%s: the other server's URI %s is in its URI cache", tc.s.URI(), tc.other.URI())
		}
		d := tc.s.objects.get(DaemonName)
		info, err := d.call("", d.methods["info"], nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if want := "NAT " + tc.s.URI().Location() + ","; !strings.Contains(info.(string), want) {
			t.Errorf("Pyro.Daemon info %q does not contain %q", info, want)
		}
	}
}
