package nameserver

import (
	"sync"
	"time"

	"github.com/pyro4/pyro4/metrics"
	"github.com/pyro4/pyro4/persist"
)

// ChangeOp is what a change did to a name.
type ChangeOp int

// The change ops.
const (
	ChangeRegister ChangeOp = iota // registered: new, or a new URI or metadata
	ChangeMetadata                 // metadata set
	ChangeRemove                   // removed
)

// String is the op's name as the change feed and the metrics name it.
func (o ChangeOp) String() string {
	switch o {
	case ChangeRegister:
		return "register"
	case ChangeMetadata:
		return "change"
	case ChangeRemove:
		return "remove"
	}
	return "unknown"
}

// Change is one change to one name, as the registry made it: after a
// register or metadata change, the name's URI and metadata as now visible;
// for a remove, what the name had when that is known (a prefix or regex
// removal knows only the names, so URI and Metadata are empty).
type Change struct {
	Op       ChangeOp
	Name     string
	URI      string
	Metadata []string
}

// changeOrder makes the store write and the change report one step, so that
// the reports of one name come in the order its writes were made: writes to
// one name hold its stripe, a removal of many names holds them all. Writes
// to different names still reach the store concurrently, which a durable
// store groups into shared commits.
type changeOrder struct {
	all     sync.RWMutex
	stripes [64]sync.Mutex
}

func (o *changeOrder) stripe(name string) *sync.Mutex {
	// FNV-1a, inline: a hash/fnv Hash would allocate.
	h := uint32(2166136261)
	for i := 0; i < len(name); i++ {
		h = (h ^ uint32(name[i])) * 16777619
	}
	return &o.stripes[h%uint32(len(o.stripes))]
}

func (o *changeOrder) lockName(name string) *sync.Mutex {
	o.all.RLock()
	mu := o.stripe(name)
	mu.Lock()
	return mu
}

func (o *changeOrder) unlockName(mu *sync.Mutex) {
	mu.Unlock()
	o.all.RUnlock()
}

// registryHooks are what a Server attaches to its registry: the metrics and
// the change callback. The zero value reports nothing.
type registryHooks struct {
	metrics  *metrics.Metrics
	onChange func(Change)
}

// commitTimer measures one store write for pyro4_ns_store_commit_seconds:
// a store's write returns once it is durable, so the call's duration is
// the commit's as the server sees it, batching wait included.
func (h *registryHooks) commitTimer() time.Time {
	if h == nil || h.metrics == nil {
		return time.Time{}
	}
	return time.Now()
}

func (h *registryHooks) committed(start time.Time) {
	if !start.IsZero() {
		h.metrics.ObserveCommit(time.Since(start))
	}
}

// report counts the change and hands it to the callback.
func (h *registryHooks) report(c Change) {
	if h == nil {
		return
	}
	h.metrics.Changed(metricsOp(c.Op), 1)
	if h.onChange != nil {
		h.onChange(c)
	}
}

// reportRemoved reports a removal of many names at once.
func (h *registryHooks) reportRemoved(names []string) {
	if h == nil || len(names) == 0 {
		return
	}
	h.metrics.Changed(metrics.OpRemove, len(names))
	if h.onChange != nil {
		for _, n := range names {
			h.onChange(Change{Op: ChangeRemove, Name: n})
		}
	}
}

func (h *registryHooks) wantsEntries() bool { return h != nil && h.onChange != nil }

func metricsOp(o ChangeOp) metrics.Op {
	switch o {
	case ChangeMetadata:
		return metrics.OpChange
	case ChangeRemove:
		return metrics.OpRemove
	}
	return metrics.OpRegister
}

func entryChange(op ChangeOp, e persist.Entry) Change {
	return Change{Op: op, Name: e.Name, URI: e.URI, Metadata: e.Metadata}
}
