package nameserver

import (
	"hash/maphash"
	"sync"

	"github.com/pyro4/pyro4/wire"
)

// uriValueCache holds the class-dict form of stored URI strings. Lookups
// hand out the same URIs over and over, and parsing one costs a regexp run
// and a handful of allocations. The values are shared and only ever read
// (encoded). Keys are the URI strings themselves, so a re-registered name
// (a new URI string) can never be answered with its old URI.
//
// The cache is sharded to keep lock contention low; a full shard evicts one
// arbitrary entry (Go's map iteration order), which keeps the hit rate near
// capacity/names for a name space larger than the cache instead of dropping
// everything at once. Each server has its own, so that embedded servers
// neither share memory bounds nor see each other's name spaces.
type uriValueCache struct {
	seed   maphash.Seed
	shards [uriCacheShards]uriCacheShard
}

type uriCacheShard struct {
	mu sync.RWMutex
	m  map[string]wire.Value
}

const (
	uriCacheShards   = 64
	uriCachePerShard = 256 // 16,384 URIs in all, a few MB
)

func newURIValueCache() *uriValueCache {
	c := &uriValueCache{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].m = make(map[string]wire.Value)
	}
	return c
}

func (c *uriValueCache) get(s string) (wire.Value, error) {
	sh := &c.shards[maphash.String(c.seed, s)%uriCacheShards]
	sh.mu.RLock()
	v, ok := sh.m[s]
	sh.mu.RUnlock()
	if ok {
		return v, nil
	}
	u, err := wire.ParseURI(s)
	if err != nil {
		return nil, err
	}
	v = u.Value()
	sh.mu.Lock()
	if len(sh.m) >= uriCachePerShard {
		for k := range sh.m {
			delete(sh.m, k)
			break
		}
	}
	sh.m[s] = v
	sh.mu.Unlock()
	return v, nil
}
