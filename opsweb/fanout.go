package opsweb

import "sync"

// Fanout is a Feed the server publishes into: every subscriber has a buffer
// of its own, and one that lets it fill is dropped (its channel closed)
// instead of blocking Publish or growing without bound. The zero value is
// not usable; create it with NewFanout.
type Fanout struct {
	buffer int
	mu     sync.Mutex
	subs   map[*fanoutSub]struct{}
	closed bool
}

type fanoutSub struct {
	ch chan Event
}

// NewFanout returns a Fanout whose subscribers each buffer up to buffer
// events (at least 1). A stream whose client reads slower than the registry
// changes for that many events is dropped; the page then reconnects and
// reloads its snapshot, so a burst larger than buffer costs a reload, not
// memory.
func NewFanout(buffer int) *Fanout {
	if buffer < 1 {
		buffer = 1
	}
	return &Fanout{buffer: buffer, subs: map[*fanoutSub]struct{}{}}
}

// Subscribe implements Feed. After Close it returns a closed channel.
func (f *Fanout) Subscribe() (<-chan Event, func()) {
	s := &fanoutSub{ch: make(chan Event, f.buffer)}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		close(s.ch)
		return s.ch, func() {}
	}
	f.subs[s] = struct{}{}
	return s.ch, func() { f.drop(s) }
}

// drop closes s's channel once, whoever comes first: its cancel, Publish
// finding it full, or Close.
func (f *Fanout) drop(s *fanoutSub) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.dropLocked(s)
}

func (f *Fanout) dropLocked(s *fanoutSub) {
	if _, ok := f.subs[s]; ok {
		delete(f.subs, s)
		close(s.ch)
	}
}

// Publish hands ev to every subscriber without blocking. Events reach each
// subscriber in Publish order; call it from the goroutine that orders the
// registry's changes (or under the lock that does).
func (f *Fanout) Publish(ev Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.subs {
		select {
		case s.ch <- ev:
		default:
			f.dropLocked(s)
		}
	}
}

// Subscribers is the number of subscriptions open now.
func (f *Fanout) Subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

// Close drops every subscriber; later subscriptions get a closed channel.
func (f *Fanout) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for s := range f.subs {
		f.dropLocked(s)
	}
}
