package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketsCoverEveryValue(t *testing.T) {
	vals := []uint64{0, 1, 127, 128, 129, 255, 256, 257, 1000, 1 << 20, 1<<20 - 1, 1<<20 + 1, 1 << 40, math.MaxUint64 - 1, math.MaxUint64}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		vals = append(vals, rng.Uint64()>>rng.IntN(64))
	}
	for _, v := range vals {
		i := bucketOf(v)
		if i < 0 || i >= numBuckets {
			t.Fatalf("bucketOf(%d) = %d, outside 0..%d", v, i, numBuckets-1)
		}
		lo, hi := bucketRange(i)
		if v < lo || v > hi {
			t.Fatalf("bucket %d holds %d..%d, not %d", i, lo, hi, v)
		}
		// The bucket is narrow: within 1/2^subBits of its values.
		if v >= subCount && float64(hi-lo) > float64(v)/subCount {
			t.Fatalf("bucket %d (%d..%d) is too wide for %d", i, lo, hi, v)
		}
	}
}

func TestBucketsAreOrdered(t *testing.T) {
	prevHi := uint64(0)
	for i := 1; i < numBuckets; i++ {
		lo, hi := bucketRange(i)
		if lo != prevHi+1 || hi < lo {
			t.Fatalf("bucket %d is %d..%d after one ending at %d", i, lo, hi, prevHi)
		}
		prevHi = hi
	}
	if prevHi != math.MaxUint64 {
		t.Fatalf("the last bucket ends at %d", prevHi)
	}
}

func TestPercentiles(t *testing.T) {
	tests := []struct {
		name   string
		values []time.Duration
		p      float64
		want   time.Duration
		tol    float64 // relative
	}{
		{"empty", nil, 99, 0, 0},
		{"one value", []time.Duration{42 * time.Microsecond}, 50, 42 * time.Microsecond, 0},
		{"small values are exact", []time.Duration{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 50, 5, 0},
		{"p100 is the max", []time.Duration{1, 5, 1000, 77777}, 100, 77777, 0},
		{"p0 is the min", []time.Duration{300, 5000, 1000}, 0, 300, 0},
		{"uniform p50", uniform(100000), 50, 50000 * time.Microsecond, 0.01},
		{"uniform p99", uniform(100000), 99, 99000 * time.Microsecond, 0.01},
		{"uniform p99.9", uniform(100000), 99.9, 99900 * time.Microsecond, 0.01},
		{"tail", append(slices.Repeat([]time.Duration{time.Millisecond}, 990), slices.Repeat([]time.Duration{time.Second}, 10)...), 99.9, time.Second, 0},
		{"just below the tail", append(slices.Repeat([]time.Duration{time.Millisecond}, 990), slices.Repeat([]time.Duration{time.Second}, 10)...), 99, time.Millisecond, 0.01},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHistogram()
			for _, v := range tt.values {
				h.record(v)
			}
			got := h.percentile(tt.p)
			if diff := math.Abs(float64(got - tt.want)); diff > tt.tol*float64(tt.want) {
				t.Errorf("p%g = %v, want %v (±%g)", tt.p, got, tt.want, tt.tol)
			}
			// Reported at the top of the bucket: never below the true value.
			if got < tt.want && tt.tol == 0 {
				t.Errorf("p%g = %v is below the true %v", tt.p, got, tt.want)
			}
		})
	}
}

func uniform(n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i+1) * time.Microsecond
	}
	rand.New(rand.NewPCG(3, 4)).Shuffle(n, func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

func TestMergeEqualsOneHistogram(t *testing.T) {
	all, a, b := newHistogram(), newHistogram(), newHistogram()
	rng := rand.New(rand.NewPCG(5, 6))
	for i := range 5000 {
		v := time.Duration(rng.ExpFloat64() * float64(time.Millisecond))
		all.record(v)
		if i%3 == 0 {
			a.record(v)
		} else {
			b.record(v)
		}
	}
	a.merge(b)
	a.merge(newHistogram()) // an empty one changes nothing
	if a.summary() != all.summary() || a.n != all.n || a.min != all.min {
		t.Fatalf("merged %+v, want %+v", a.summary(), all.summary())
	}
}

func TestSummaryMicroseconds(t *testing.T) {
	h := newHistogram()
	h.record(1500 * time.Microsecond)
	h.record(2500 * time.Microsecond)
	s := h.summary()
	if s.Mean != 2000 || s.Max < 2500 || s.Max > 2500*1.01 {
		t.Fatalf("summary %+v, want mean 2000µs and max about 2500µs", s)
	}
	if (newHistogram().summary() != Latency{}) {
		t.Fatal("an empty histogram has a non-zero summary")
	}
}
