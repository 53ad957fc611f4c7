package opsweb

import (
	"bufio"
	"encoding/json"
	"net/http"
	"time"

	"github.com/pyro4/pyro4/persist"
)

// Op is what happened to a name.
type Op string

// The change ops, the event names of the stream.
const (
	OpRegister Op = "register" // registered (new, or replacing the URI)
	OpChange   Op = "change"   // metadata set
	OpRemove   Op = "remove"   // removed (by name, prefix, regex or autoclean)
)

// Event is one change to one name. URI and Metadata are the name's after a
// register or change, and what it had (when known) for a remove.
type Event struct {
	Op       Op
	Name     string
	URI      string
	Metadata []string
}

// Feed is the registry's change feed.
type Feed interface {
	// Subscribe returns a channel of every change from now on and a cancel
	// func, which the caller calls exactly once when done (it stops and
	// closes the channel). The feed closes the channel itself when it
	// drops the subscriber for falling behind or when it shuts down: it
	// never blocks the registry on a slow reader.
	Subscribe() (events <-chan Event, cancel func())
}

type eventJSON struct {
	Op       Op       `json:"op"`
	Name     string   `json:"name"`
	URI      string   `json:"uri"`
	Metadata []string `json:"metadata"`
}

// serveEvents streams the feed as server-sent events: "ready" once the
// subscription stands (a client loads its snapshot after that, so that no
// change falls between the two), then one event per change named by its op
// with a JSON {"op","name","uri","metadata"}, and "overflow" before closing
// when the feed dropped this stream (the client reconnects and reloads).
func (h *Handler) serveEvents(w http.ResponseWriter, r *http.Request) {
	if h.opts.Feed == nil {
		writeError(w, http.StatusServiceUnavailable, "no change feed")
		return
	}
	if h.streams.Add(1) > int64(h.opts.MaxStreams) {
		h.streams.Add(-1)
		writeError(w, http.StatusServiceUnavailable, "too many event streams")
		return
	}
	defer h.streams.Add(-1)

	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream")
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Accel-Buffering", "no") // nginx would otherwise hold events back
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	events, cancel := h.opts.Feed.Subscribe()
	defer cancel()

	rc := http.NewResponseController(w)
	bw := bufio.NewWriter(w)
	// send writes one block and flushes it under a deadline of its own, which
	// also lifts any WriteTimeout of the http.Server for a long stream.
	send := func(block string, data any) bool {
		// An unsupported deadline (a ResponseWriter wrapper) still streams.
		_ = rc.SetWriteDeadline(time.Now().Add(h.opts.WriteTimeout))
		bw.WriteString(block)
		if data != nil {
			bw.WriteString("data: ")
			b, err := json.Marshal(data)
			if err != nil {
				return false
			}
			bw.Write(b)
			bw.WriteString("\n\n")
		}
		if bw.Flush() != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send("retry: 2000\nevent: ready\n", struct{}{}) {
		return
	}
	tick := time.NewTicker(h.opts.KeepAlive)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-h.done:
			return
		case <-tick.C:
			if !send(": keep-alive\n\n", nil) {
				return
			}
		case ev, ok := <-events:
			if !ok {
				send("event: overflow\n", map[string]string{"reason": "change feed dropped this stream"})
				return
			}
			switch ev.Op {
			case OpRegister, OpChange, OpRemove:
			default:
				continue // the event line must not carry an arbitrary string
			}
			e := toJSON(persist.Entry{Name: ev.Name, URI: ev.URI, Metadata: ev.Metadata})
			if !send("event: "+string(ev.Op)+"\n", eventJSON{ev.Op, e.Name, e.URI, e.Metadata}) {
				return
			}
		}
	}
}
