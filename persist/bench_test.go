package persist

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The benchmark data: a million names in a thousand groups of a thousand,
// so that a group prefix selects exactly 1,000 entries.
const (
	benchGroups  = 1000
	benchMembers = 1000
)

func benchName(g, m int) string { return fmt.Sprintf("group%04d.member%04d", g, m) }

const benchURI = "PYRO:obj_0123456789abcdef@192.168.1.10:51234"

var (
	memory1MOnce sync.Once
	memory1M     *Memory
)

// memoryStore1M builds the million-entry memory store once per process:
// only benchmarks call it, so plain `go test` never pays for it. The names
// are registered in a shuffled order, so that registration order is not
// name order and a listing has real sorting to do.
func memoryStore1M(b *testing.B) *Memory {
	memory1MOnce.Do(func() {
		m := NewMemory()
		for _, i := range shuffled1M() {
			if err := m.Put(Entry{Name: benchName(i/benchMembers, i%benchMembers), URI: benchURI}); err != nil {
				b.Fatal(err)
			}
		}
		memory1M = m
	})
	return memory1M
}

// shuffled1M is a fixed permutation of the benchmark's million indices.
func shuffled1M() []int {
	p := make([]int, benchGroups*benchMembers)
	for i := range p {
		p[i] = i
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(p), func(i, j int) { p[i], p[j] = p[j], p[i] })
	return p
}

// latencies records each operation's duration and reports the 99th
// percentile, the figure the prefix-listing goal is stated in.
type latencies []time.Duration

func (l *latencies) time(fn func()) {
	start := time.Now()
	fn()
	*l = append(*l, time.Since(start))
}

func (l latencies) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	slices.Sort(l)
	b.ReportMetric(float64(l[len(l)*99/100].Nanoseconds()), "p99-ns")
}

func BenchmarkMemoryGet(b *testing.B) {
	m := memoryStore1M(b)
	names := make([]string, 4096)
	for i := range names {
		names[i] = benchName(i*7919%benchGroups, i*104729%benchMembers)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, ok, _ := m.Get(names[i%len(names)]); !ok {
				b.Error("missing")
				return
			}
			i++
		}
	})
}

func BenchmarkMemoryRangePrefix1000of1M(b *testing.B) {
	m := memoryStore1M(b)
	b.ReportAllocs()
	b.ResetTimer()
	var lat latencies
	for i := 0; b.Loop(); i++ {
		prefix := fmt.Sprintf("group%04d.", i%benchGroups)
		n := 0
		var err error
		lat.time(func() { err = m.Range(prefix, func(Entry) bool { n++; return true }) })
		if err != nil || n != benchMembers {
			b.Fatalf("Range(%q) visited %d, %v", prefix, n, err)
		}
	}
	lat.report(b)
}

// BenchmarkBoltPut measures durable writes: each Put returns only after its
// commit is fsynced, so one writer is bound by the disk's sync latency and
// concurrent writers share commits.
func BenchmarkBoltPut(b *testing.B) {
	benchPut(b, func(b *testing.B) Store {
		s, err := OpenBolt(filepath.Join(b.TempDir(), "ns.db"), BoltOptions{})
		if err != nil {
			b.Fatal(err)
		}
		return s
	}, func(b *testing.B, s Store) {
		// Sync latency varies with the disk and its other users; how
		// many puts share a commit shows the grouping on its own.
		b.ReportMetric(s.(*Bolt).CommitStats().PerCommit(), "puts/commit")
	})
}

// BenchmarkMemoryPut is BenchmarkBoltPut's workload on the memory store:
// what registering costs without durability, at the same writer counts.
func BenchmarkMemoryPut(b *testing.B) {
	benchPut(b, func(*testing.B) Store { return NewMemory() }, nil)
}

// benchPut runs b.N Puts of distinct names into a fresh store from 1 and
// from 16 goroutines, as 1 and 16 concurrent clients registering would;
// report adds the backend's own metrics.
func benchPut(b *testing.B, open func(*testing.B) Store, report func(*testing.B, Store)) {
	for _, writers := range []int{1, 16} {
		b.Run(fmt.Sprintf("goroutines=%d", writers), func(b *testing.B) {
			s := open(b)
			defer s.Close()
			var next atomic.Int64
			b.ResetTimer()
			var wg sync.WaitGroup
			for range writers {
				wg.Go(func() {
					for {
						i := next.Add(1) - 1
						if i >= int64(b.N) {
							return
						}
						if err := s.Put(Entry{Name: fmt.Sprintf("obj.%09d", i), URI: benchURI}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "puts/s")
			if report != nil {
				report(b, s)
			}
		})
	}
}

var (
	bolt1MDir  string
	bolt1MPath string
)

// boltStore1M writes a million-entry store file once per process, filling
// it in large transactions (durability per entry is not the point here).
func boltStore1M(b *testing.B) string {
	if bolt1MPath != "" {
		if _, err := os.Stat(bolt1MPath); err == nil {
			return bolt1MPath
		}
	}
	dir, err := os.MkdirTemp("", "persist-bench-")
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(dir, "ns.db")
	s, err := OpenBolt(path, BoltOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for g := 0; g < benchGroups; g += 100 {
		err := s.db.Update(func(tx *bolt.Tx) error {
			tx.Bucket(namesBucket).FillPercent = 0.9 // names arrive in order
			for gg := g; gg < g+100; gg++ {
				for i := range benchMembers {
					if err := putOp(Entry{Name: benchName(gg, i), URI: benchURI}, false)(tx); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	bolt1MDir, bolt1MPath = dir, path
	return path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if bolt1MDir != "" {
		os.RemoveAll(bolt1MDir)
	}
	if sql1MDir != "" {
		os.RemoveAll(sql1MDir)
	}
	os.Exit(code)
}

// BenchmarkBoltOpen1M is the start-up cost of a name server with a million
// registrations: OpenBolt (format check, lock, map) and the first lookup.
func BenchmarkBoltOpen1M(b *testing.B) {
	path := boltStore1M(b)
	fi, _ := os.Stat(path)
	b.ResetTimer()
	for b.Loop() {
		s, err := OpenBolt(path, BoltOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if n, err := s.Count(); err != nil || n != benchGroups*benchMembers {
			b.Fatalf("Count() = %d, %v", n, err)
		}
		if _, ok, err := s.Get(benchName(500, 500)); !ok || err != nil {
			b.Fatalf("Get: %v %v", ok, err)
		}
		if err := s.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(fi.Size())/(1<<20), "file-MB")
}

// openBolt1M opens the store of a million registrations for the length of
// one benchmark run.
func openBolt1M(b *testing.B) *Bolt {
	b.Helper()
	s, err := OpenBolt(boltStore1M(b), BoltOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

func BenchmarkBoltGet1M(b *testing.B) {
	s := openBolt1M(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, ok, err := s.Get(benchName(i*7919%benchGroups, i*104729%benchMembers)); !ok || err != nil {
				b.Errorf("Get: %v %v", ok, err)
				return
			}
			i++
		}
	})
}

func BenchmarkBoltRangePrefix1000of1M(b *testing.B) {
	s := openBolt1M(b)
	b.ReportAllocs()
	b.ResetTimer()
	var lat latencies
	for i := 0; b.Loop(); i++ {
		n := 0
		var err error
		lat.time(func() {
			err = s.Range(fmt.Sprintf("group%04d.", i%benchGroups), func(Entry) bool { n++; return true })
		})
		if err != nil || n != benchMembers {
			b.Fatalf("Range visited %d, %v", n, err)
		}
	}
	lat.report(b)
}
