package nameserver

import (
	"sync/atomic"
	"testing"
	"time"
)

// TestMemoryRelease: small messages release nothing; a large one releases
// once after releaseDelay; large ones during the release interval make one
// more release at its end, not one each.
func TestMemoryRelease(t *testing.T) {
	var calls atomic.Int32
	r := &memoryRelease{free: func() { calls.Add(1) }}
	waitFor := func(want int32, within time.Duration) {
		t.Helper()
		deadline := time.Now().Add(within)
		for calls.Load() < want && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if got := calls.Load(); got != want {
			t.Fatalf("%d releases, want %d", got, want)
		}
	}
	r.after(releaseAbove - 1)
	time.Sleep(2 * releaseDelay)
	waitFor(0, 0)
	r.after(releaseAbove)
	waitFor(1, releaseDelay+time.Second)
	for range 5 {
		r.after(64 << 20)
	}
	time.Sleep(releaseInterval / 2)
	waitFor(1, 0) // still in the interval
	waitFor(2, releaseInterval+time.Second)
	time.Sleep(releaseInterval + 2*releaseDelay)
	waitFor(2, 0) // nothing further asked for
}
