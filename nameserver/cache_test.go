package nameserver

import (
	"fmt"
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
	ns := newNameServer(NewRegistry(persist.NewMemory()))
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
