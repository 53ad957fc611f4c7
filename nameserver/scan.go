package nameserver

import (
	"fmt"
	"time"

	"github.com/pyro4/pyro4/persist"
	"github.com/pyro4/pyro4/wire"
)

// DefaultScanTimeout is Options.ScanTimeout's default: how long one
// listing or removal may spend going through names. A regex such as
// (.*a?){300}x costs Go's linear-time engine milliseconds per name, so a
// listing over 100,000 names would run for a minute without a bound.
const DefaultScanTimeout = 5 * time.Second

// callLimits bound the work and the result of one name server call.
type callLimits struct {
	scanTimeout time.Duration // <= 0: none
	replies     *replyBudget  // nil: no budget
}

// scanCheckEvery is how many names a scan goes through between looks at
// the clock: a look costs about as much as a prefix comparison.
const scanCheckEvery = 16

// scan is one pass over names within the call's limits: a deadline for
// the work, and the room the reply budget has for the result.
type scan struct {
	what     string
	timeout  time.Duration
	deadline time.Time
	n        int
	size     int64 // estimated bytes of the reply so far
	room     int64
	replies  *replyBudget
}

func (l callLimits) newScan(what string) *scan {
	s := &scan{what: what, timeout: l.scanTimeout, replies: l.replies, room: l.replies.room()}
	if s.timeout > 0 {
		s.deadline = time.Now().Add(s.timeout)
	}
	return s
}

// visit counts one name gone through; past the deadline it returns the
// NamingError that names the limit.
func (s *scan) visit() error {
	s.n++
	if s.timeout <= 0 || s.n%scanCheckEvery != 0 || time.Now().Before(s.deadline) {
		return nil
	}
	return s.timedOut()
}

func (s *scan) timedOut() *wire.Exception {
	return namingError("%s stopped after %d names: it ran longer than the name server's scan_timeout of %v (narrow the prefix or the pattern)",
		s.what, s.n, s.timeout)
}

// keep counts an entry going into the reply: about the bytes its name, URI
// and metadata take encoded. Past the room the reply budget has, it
// returns the budget's refusal, before the result grows any further.
func (s *scan) keep(e persist.Entry, withMeta bool) error {
	s.size += int64(len(e.Name)+len(e.URI)) + 8
	if withMeta {
		s.size += 8
		for _, m := range e.Metadata {
			s.size += int64(len(m)) + 4
		}
	}
	if s.size <= s.room {
		return nil
	}
	return s.replies.refusal(s.size, s.replies.held.Load())
}

// outsideLocks turns storeRange (the store's Range, or another listing of
// it) into one that calls fn outside the store's locks and transactions,
// so that a slow scan (a regex over many names) stalls nobody: over a
// snapshot when the store can make one and storeRange is its Range
// (snapshot), else over the entries copied out of one storeRange first.
// The copy matters for bolt too, whose reads never block writes but for one
// case: a write that must grow the file waits for every open read
// transaction, and the reads that begin after it wait for that write.
func (r *Registry) outsideLocks(storeRange func(string, func(persist.Entry) bool) error, snapshot bool) func(string, func(persist.Entry) bool) error {
	return func(prefix string, fn func(persist.Entry) bool) error {
		if sn, ok := r.store.(persist.Snapshotter); ok && snapshot {
			snap, err := sn.Snapshot()
			if err != nil {
				return err
			}
			defer snap.Release()
			return snap.Range(prefix, fn)
		}
		var all []persist.Entry
		if err := storeRange(prefix, func(e persist.Entry) bool {
			all = append(all, e)
			return true
		}); err != nil {
			return err
		}
		for _, e := range all {
			if !fn(e) {
				break
			}
		}
		return nil
	}
}

// removeScanned removes the client registrations whose name starts with
// prefix and for which match returns true (nil: all). The names are chosen
// on a snapshot, outside the store's write lock and within sc's deadline,
// so a slow pattern neither stalls other calls nor removes half a match:
// a scan that runs out of time removes nothing. Then exactly the chosen
// entries are removed in one step, each only if it has not changed since
// (a registration made meanwhile is kept, as if made after the removal).
func (r *Registry) removeScanned(prefix string, match func(name string) bool, sc *scan) ([]string, error) {
	var chosen []persist.Entry
	var serr error
	err := r.Range(prefix, func(e persist.Entry, static bool) bool {
		if serr = sc.visit(); serr != nil {
			return false
		}
		if !static && e.Name != NameServerName && (match == nil || match(e.Name)) {
			chosen = append(chosen, e)
		}
		return true
	})
	if serr != nil {
		return nil, serr
	}
	if err != nil {
		return nil, err
	}
	if len(chosen) == 0 {
		return nil, nil
	}
	return r.removeChosen(prefix, chosen)
}

// removeChosen removes the entries removeScanned chose, reported to the
// hooks as RemoveMatching reports its removals.
func (r *Registry) removeChosen(prefix string, chosen []persist.Entry) ([]string, error) {
	if r.hooks != nil {
		r.order.all.Lock()
		defer r.order.all.Unlock()
	}
	start := r.hooks.commitTimer()
	var removed []string
	var err error
	if d, ok := r.store.(persist.UnchangedDeleter); ok {
		removed, err = d.DeleteUnchanged(chosen)
	} else {
		set := make(map[string]struct{}, len(chosen))
		for _, e := range chosen {
			set[e.Name] = struct{}{}
		}
		removed, err = r.store.DeleteMatching(prefix, func(name string) bool { _, ok := set[name]; return ok })
	}
	if err != nil {
		return nil, fmt.Errorf("remove names with prefix %q: %w", prefix, err)
	}
	r.hooks.committed(start)
	r.hooks.reportRemoved(removed)
	return removed, nil
}
