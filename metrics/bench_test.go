package metrics

import (
	"testing"
	"time"
)

// BenchmarkObserveRequest is the cost the request path pays per call.
func BenchmarkObserveRequest(b *testing.B) {
	m := New(Options{})
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveRequest("lookup", "", 20*time.Microsecond)
	}
}

func BenchmarkObserveRequestError(b *testing.B) {
	m := New(Options{})
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveRequest("lookup", "Pyro4.errors.NamingError", 20*time.Microsecond)
	}
}

// BenchmarkObserveRequestParallel shows the cost when every connection
// goroutine records into the same series.
func BenchmarkObserveRequestParallel(b *testing.B) {
	m := New(Options{})
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.ObserveRequest("lookup", "", 20*time.Microsecond)
		}
	})
}

func BenchmarkNil(b *testing.B) {
	var m *Metrics
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveRequest("lookup", "", 20*time.Microsecond)
	}
}
