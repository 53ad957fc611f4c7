package opsweb

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type sseEvent struct {
	name, data string
}

// readEvents parses a text/event-stream into events on a channel, closed at
// the stream's end.
func readEvents(body *bufio.Reader) <-chan sseEvent {
	ch := make(chan sseEvent, 64)
	go func() {
		defer close(ch)
		var ev sseEvent
		for {
			line, err := body.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\n")
			switch {
			case line == "":
				if ev.name != "" || ev.data != "" {
					ch <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "event: "):
				ev.name = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[len("data: "):]
			}
		}
	}()
	return ch
}

func next(t *testing.T, ch <-chan sseEvent) sseEvent {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("event stream ended")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event within 5s")
	}
	return sseEvent{}
}

func openStream(t *testing.T, url string) (*http.Response, <-chan sseEvent) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", url+"/api/v1/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 {
		return resp, nil
	}
	return resp, readEvents(bufio.NewReader(resp.Body))
}

func TestEventStream(t *testing.T) {
	feed := NewFanout(16)
	src := newFakeSource(sampleEntries()...)
	src.feed = feed
	srv := httptest.NewServer(newTestHandler(t, Options{Source: src, Feed: feed}))
	t.Cleanup(srv.Close) // before the streams' cleanups, so it runs after them

	resp, events := openStream(t, srv.URL)
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	if ev := next(t, events); ev.name != "ready" {
		t.Fatalf("first event %+v, want ready", ev)
	}
	src.register(entry("new.service", "PYRO:new@127.0.0.1:4000", "env:test", "class:new"))
	src.remove("dept.billing")
	feed.Publish(Event{Op: OpChange, Name: "dept.archive", URI: "PYRO:archive@10.0.0.5:51851"})
	feed.Publish(Event{Op: "evil\ndata: x", Name: "dropped"}) // not an op: never written
	feed.Publish(Event{Op: OpRemove, Name: "last"})

	want := []struct {
		name string
		body eventJSON
	}{
		{"register", eventJSON{OpRegister, "new.service", "PYRO:new@127.0.0.1:4000", []string{"class:new", "env:test"}}},
		{"remove", eventJSON{OpRemove, "dept.billing", "", []string{}}},
		{"change", eventJSON{OpChange, "dept.archive", "PYRO:archive@10.0.0.5:51851", []string{}}},
		{"remove", eventJSON{OpRemove, "last", "", []string{}}},
	}
	for _, w := range want {
		ev := next(t, events)
		if ev.name != w.name {
			t.Fatalf("event %q, want %q (data %s)", ev.name, w.name, ev.data)
		}
		var got eventJSON
		if err := json.Unmarshal([]byte(ev.data), &got); err != nil {
			t.Fatalf("event data %q: %v", ev.data, err)
		}
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(w.body)
		if string(gb) != string(wb) {
			t.Errorf("event %s, want %s", gb, wb)
		}
	}
}

func TestEventStreamClientGoneUnsubscribes(t *testing.T) {
	feed := NewFanout(4)
	srv := httptest.NewServer(newTestHandler(t, Options{Feed: feed}))
	t.Cleanup(srv.Close) // before the streams' cleanups, so it runs after them
	resp, events := openStream(t, srv.URL)
	next(t, events)
	if n := feed.Subscribers(); n != 1 {
		t.Fatalf("subscribers %d, want 1", n)
	}
	resp.Body.Close()
	deadline := time.Now().Add(5 * time.Second)
	for feed.Subscribers() != 0 {
		// the handler notices at its next write or when the context ends
		feed.Publish(Event{Op: OpRemove, Name: "x"})
		if time.Now().After(deadline) {
			t.Fatal("subscription still open 5s after the client left")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestFanoutDropsSlowSubscriber(t *testing.T) {
	f := NewFanout(2)
	slow, cancelSlow := f.Subscribe()
	defer cancelSlow()
	fast, cancelFast := f.Subscribe()
	defer cancelFast()
	got := 0
	for i := range 5 {
		f.Publish(Event{Op: OpRegister, Name: string(rune('a' + i))}) // never blocks
		<-fast
		got++
	}
	if got != 5 {
		t.Fatalf("fast subscriber got %d", got)
	}
	n := 0
	for range slow { // closed after its buffer's two
		n++
	}
	if n != 2 {
		t.Errorf("slow subscriber got %d events before it was dropped, want 2", n)
	}
	if f.Subscribers() != 1 {
		t.Errorf("subscribers %d, want 1", f.Subscribers())
	}
	cancelSlow() // after the drop: harmless
	cancelFast()
	cancelFast()
	if f.Subscribers() != 0 {
		t.Errorf("subscribers after cancel %d", f.Subscribers())
	}
	f.Close()
	ch, cancel := f.Subscribe()
	defer cancel()
	if _, ok := <-ch; ok {
		t.Error("subscription after Close is open")
	}
}

// TestEventStreamOverflow: a stream the feed dropped says so and ends, and
// the client's reconnect gets a fresh "ready".
func TestEventStreamOverflow(t *testing.T) {
	feed := &manualFeed{ch: make(chan Event, 1)}
	srv := httptest.NewServer(newTestHandler(t, Options{Feed: feed}))
	t.Cleanup(srv.Close) // before the streams' cleanups, so it runs after them
	_, events := openStream(t, srv.URL)
	next(t, events)
	close(feed.ch)
	if ev := next(t, events); ev.name != "overflow" {
		t.Fatalf("event %+v, want overflow", ev)
	}
	select {
	case _, ok := <-events:
		if ok {
			t.Fatal("stream goes on after overflow")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stream not closed after overflow")
	}
}

type manualFeed struct{ ch chan Event }

func (f *manualFeed) Subscribe() (<-chan Event, func()) { return f.ch, func() {} }

func TestEventStreamLimits(t *testing.T) {
	if code, _, _ := do(t, newTestHandler(t, Options{}), "GET", "/api/v1/events"); code != 503 {
		t.Errorf("no feed: %d, want 503", code)
	}
	feed := NewFanout(4)
	srv := httptest.NewServer(newTestHandler(t, Options{Feed: feed, MaxStreams: 1, KeepAlive: 20 * time.Millisecond}))
	t.Cleanup(srv.Close) // before the streams' cleanups, so it runs after them
	_, events := openStream(t, srv.URL)
	next(t, events)
	resp, _ := openStream(t, srv.URL)
	if resp.StatusCode != 503 {
		t.Errorf("second stream over MaxStreams 1: %d, want 503", resp.StatusCode)
	}
	// keep-alive comments flow while idle: the stream is still open after
	// several intervals and still delivers
	time.Sleep(100 * time.Millisecond)
	feed.Publish(Event{Op: OpRegister, Name: "after.idle"})
	if ev := next(t, events); ev.name != "register" || !strings.Contains(ev.data, "after.idle") {
		t.Errorf("event after idle %+v", ev)
	}
}

func TestCloseEndsStreams(t *testing.T) {
	feed := NewFanout(4)
	h := newTestHandler(t, Options{Feed: feed})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	_, events := openStream(t, srv.URL)
	next(t, events)
	h.Close()
	select {
	case _, ok := <-events:
		if ok {
			t.Fatal("event after Close")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("stream open 5s after Close")
	}
	if feed.Subscribers() != 0 {
		t.Errorf("subscribers after Close: %d", feed.Subscribers())
	}
	h.Close() // twice: harmless
}
