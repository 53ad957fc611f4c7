package persist

import (
	"fmt"
	"runtime"
	"testing"
)

// heapInuse returns the live heap after a full collection.
func heapInuse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// BenchmarkMemory1MHeap measures what a million registrations cost the
// memory store in live heap. Names and URIs are distinct strings, as they
// are when they arrive off the wire, so their bytes count too.
func BenchmarkMemory1MHeap(b *testing.B) {
	const n = benchGroups * benchMembers
	for b.Loop() {
		before := heapInuse()
		m := NewMemory()
		for g := range benchGroups {
			for i := range benchMembers {
				uri := fmt.Sprintf("PYRO:obj_%08x%08x@192.168.1.10:51234", g, i)
				if err := m.Put(Entry{Name: benchName(g, i), URI: uri}); err != nil {
					b.Fatal(err)
				}
			}
		}
		after := heapInuse()
		b.ReportMetric(float64(after-before)/n, "bytes/entry")
		b.ReportMetric(float64(after-before)/(1<<20), "heap-MB")
		runtime.KeepAlive(m)
	}
}
