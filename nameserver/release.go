package nameserver

import (
	"runtime/debug"
	"sync"
	"time"
)

// releaseAbove is the message size from which the memory a message took is
// handed back to the operating system once it is answered. The buffers of
// such a message are not kept (wire keeps at most 64 KiB, a connection at
// most maxKeptBuffer), but garbage is only collected when the heap next
// grows to its goal, which a large message has just raised, and freed
// pages go back to the system only after that: without a release an idle
// server keeps the RSS of its largest message for minutes.
const releaseAbove = 4 << 20

// releaseDelay lets a burst of large messages finish before the release,
// and releaseInterval bounds how often a client sending large messages one
// after another can make the server collect the whole heap.
const (
	releaseDelay    = 100 * time.Millisecond
	releaseInterval = time.Second
)

// memoryRelease runs debug.FreeOSMemory soon after large messages, at most
// once per releaseInterval; requests during a release or the interval after
// it get one more release at its end.
type memoryRelease struct {
	mu        sync.Mutex
	scheduled bool   // a release is due or its interval is running
	again     bool   // a large message finished since the last release began
	free      func() // debug.FreeOSMemory when nil; tests count calls
}

// after is called once a message of size bytes is done with.
func (r *memoryRelease) after(size int) {
	if size < releaseAbove {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.scheduled {
		r.again = true
		return
	}
	r.scheduled = true
	time.AfterFunc(releaseDelay, r.run)
}

func (r *memoryRelease) run() {
	r.mu.Lock()
	r.again = false
	free := r.free
	r.mu.Unlock()
	if free == nil {
		free = debug.FreeOSMemory
	}
	free()
	time.AfterFunc(releaseInterval, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.again {
			time.AfterFunc(0, r.run)
			return
		}
		r.scheduled = false
	})
}
