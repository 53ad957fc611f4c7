package main

import (
	"math"
	"math/bits"
	"time"
)

// The histogram is log-linear, as HdrHistogram is: values below 2^subBits
// nanoseconds get a bucket each, and every power of two above that is cut
// into 2^subBits equal buckets. A value is therefore known to within
// 1/2^subBits (under 0.8%) of itself at any magnitude, in fixed memory and
// with a record that costs a few instructions and no allocation.
const (
	subBits    = 7
	subCount   = 1 << subBits
	numBuckets = subCount + (64-subBits)*subCount
)

// histogram records latencies in nanoseconds. It is not safe for concurrent
// use: every client goroutine keeps its own, merged at the end.
type histogram struct {
	counts   [numBuckets]uint64
	n        uint64
	sum      uint64
	min, max uint64
}

func newHistogram() *histogram { return &histogram{min: math.MaxUint64} }

func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	shift := bits.Len64(v) - 1 - subBits
	return shift*subCount + int(v>>uint(shift))
}

// bucketRange returns the smallest and largest value bucket i holds.
func bucketRange(i int) (lo, hi uint64) {
	if i < subCount {
		return uint64(i), uint64(i)
	}
	shift := uint(i/subCount - 1)
	m := uint64(subCount + i%subCount)
	return m << shift, (m+1)<<shift - 1
}

func (h *histogram) record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[bucketOf(v)]++
	h.n++
	h.sum += v
	h.min = min(h.min, v)
	h.max = max(h.max, v)
}

func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.sum += o.sum
	h.min = min(h.min, o.min)
	h.max = max(h.max, o.max)
}

// percentile returns the value at or below which p percent of the recorded
// values lie, as the top of its bucket (never above the largest value seen),
// so that a reported p99 is never optimistic. Zero when nothing was recorded.
func (h *histogram) percentile(p float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	if p <= 0 {
		return time.Duration(h.min)
	}
	p = min(p, 100)
	rank := uint64(math.Ceil(p / 100 * float64(h.n)))
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			_, hi := bucketRange(i)
			return time.Duration(min(max(hi, h.min), h.max))
		}
	}
	return time.Duration(h.max)
}

func (h *histogram) mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / h.n)
}

// Latency is a latency summary in microseconds, the unit of the reports.
type Latency struct {
	Mean float64 `json:"mean_us"`
	P50  float64 `json:"p50_us"`
	P90  float64 `json:"p90_us"`
	P99  float64 `json:"p99_us"`
	P999 float64 `json:"p999_us"`
	Max  float64 `json:"max_us"`
}

func us(d time.Duration) float64 { return math.Round(float64(d)/1e1) / 1e2 }

func (h *histogram) summary() Latency {
	if h.n == 0 {
		return Latency{}
	}
	return Latency{
		Mean: us(h.mean()),
		P50:  us(h.percentile(50)),
		P90:  us(h.percentile(90)),
		P99:  us(h.percentile(99)),
		P999: us(h.percentile(99.9)),
		Max:  us(time.Duration(h.max)),
	}
}
