package persist

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/etcdtest"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// etcdBenchNames is the size of the name space the etcd benchmarks load:
// 100,000, or PYRO4_BENCH_ETCD_NAMES (1000000 for the start-up figure of a
// million names; loading it takes a while).
func etcdBenchNames(b *testing.B) int {
	if v := os.Getenv("PYRO4_BENCH_ETCD_NAMES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < benchMembers {
			b.Fatalf("PYRO4_BENCH_ETCD_NAMES=%q: want a number of at least %d", v, benchMembers)
		}
		return n
	}
	return 100_000
}

// fillEtcd writes n benchmark names under prefix, many to a transaction.
func fillEtcd(b *testing.B, s *Etcd, n int) {
	b.Helper()
	val := string(encodeEtcdValue(benchURI, nil))
	ops := make([]clientv3.Op, 0, defaultEtcdMaxTxnOps)
	flush := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := s.cli.Txn(ctx).Then(ops...).Commit(); err != nil {
			b.Fatal(err)
		}
		ops = ops[:0]
	}
	for i := range n {
		ops = append(ops, clientv3.OpPut(s.key(benchName(i/benchMembers, i%benchMembers)), val))
		if len(ops) == cap(ops) {
			flush()
		}
	}
	if len(ops) > 0 {
		flush()
	}
}

func benchLookups(b *testing.B, s Store, groups int) {
	names := make([]string, 4096)
	for i := range names {
		names[i] = benchName(i*7919%groups, i*104729%benchMembers)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, ok, _ := s.Get(names[i%len(names)]); !ok {
				b.Error("missing")
				return
			}
			i++
		}
	})
}

// BenchmarkEtcdGet compares a lookup from an etcd store's index with one
// from the memory store, on the same names.
func BenchmarkEtcdGet(b *testing.B) {
	n := etcdBenchNames(b)
	env := &etcdEnv{c: etcdtest.Start(b, 3)}
	s := env.open(b, env.prefix())
	fillEtcd(b, s, n)
	eventually(b, time.Minute, "index loaded", func() bool { c, _ := s.Count(); return c == n })
	m := NewMemory()
	for i := range n {
		m.Put(Entry{Name: benchName(i/benchMembers, i%benchMembers), URI: benchURI})
	}
	b.Run("memory", func(b *testing.B) { benchLookups(b, m, n/benchMembers) })
	b.Run("etcd", func(b *testing.B) { benchLookups(b, s, n/benchMembers) })
}

// BenchmarkEtcdRangePrefix1000 lists a prefix of 1,000 names, in
// registration order, from the index.
func BenchmarkEtcdRangePrefix1000(b *testing.B) {
	n := etcdBenchNames(b)
	env := &etcdEnv{c: etcdtest.Start(b, 3)}
	s := env.open(b, env.prefix())
	fillEtcd(b, s, n)
	eventually(b, time.Minute, "index loaded", func() bool { c, _ := s.Count(); return c == n })
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		prefix := fmt.Sprintf("group%04d.", i%(n/benchMembers))
		c := 0
		if err := s.Range(prefix, func(Entry) bool { c++; return true }); err != nil || c != benchMembers {
			b.Fatalf("Range(%q) visited %d, %v", prefix, c, err)
		}
	}
}

// BenchmarkEtcdPutNew16 measures registrations through etcd from 16
// concurrent clients; each returns after a quorum has committed it.
func BenchmarkEtcdPutNew16(b *testing.B) {
	const clients = 16
	env := &etcdEnv{c: etcdtest.Start(b, 3)}
	s := env.open(b, env.prefix(), func(o *EtcdOptions) { o.RequestTimeout = 10 * time.Second })
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				if err := s.PutNew(Entry{Name: fmt.Sprintf("bench.%d", i), URI: benchURI}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "writes/s")
}

// BenchmarkEtcdPropagation measures how long after a write is acknowledged
// by one store a lookup on another store sees it.
func BenchmarkEtcdPropagation(b *testing.B) {
	env := &etcdEnv{c: etcdtest.Start(b, 3)}
	p := env.prefix()
	a, c := env.open(b, p), env.open(b, p)
	delays := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		name := fmt.Sprintf("prop.%d", i)
		if err := a.Put(Entry{Name: name, URI: benchURI}); err != nil {
			b.Fatal(err)
		}
		acked := time.Now()
		for spins := 0; ; spins++ {
			if _, ok, _ := c.Get(name); ok {
				break
			}
			if spins > 10_000_000 {
				b.Fatalf("%s not seen by the other store", name)
			}
			runtime.Gosched()
		}
		delays = append(delays, time.Since(acked))
	}
	b.StopTimer()
	slices.Sort(delays)
	b.ReportMetric(float64(delays[len(delays)/2])/1e3, "p50-µs")
	b.ReportMetric(float64(delays[len(delays)*99/100])/1e3, "p99-µs")
}

// BenchmarkEtcdOpen measures a node's start-up on a populated name space:
// connecting, and loading every name into the index.
func BenchmarkEtcdOpen(b *testing.B) {
	n := etcdBenchNames(b)
	env := &etcdEnv{c: etcdtest.Start(b, 3)}
	p := env.prefix()
	fillEtcd(b, env.open(b, p), n)
	b.ReportAllocs()
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		s, err := OpenEtcd(ctx, EtcdOptions{Endpoints: env.c.Endpoints(), Prefix: p, RequestTimeout: 30 * time.Second})
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		if c, _ := s.Count(); c != n {
			b.Fatalf("opened with %d names, want %d", c, n)
		}
		s.Close()
	}
	b.ReportMetric(float64(n), "names")
}
