package persist

import (
	"cmp"
	"slices"
	"strings"

	"github.com/google/btree"
)

// etcdEntry is one registration as the local index of an Etcd store holds
// it. create and mod are etcd's create and mod revisions of the key: create
// gives the list order (registration order across the cluster), mod decides
// which of two versions of the key is newer. md is never modified once
// stored, so Range can hand it out without copying.
type etcdEntry struct {
	name, uri   string
	md          []string
	create, mod int64
}

func (e *etcdEntry) entry() Entry { return Entry{Name: e.name, URI: e.uri, Metadata: e.md} }

// nameItem keys the by-name tree. A probe is a nameItem without e, so a
// lookup builds no heap object.
type nameItem struct {
	name string
	e    *etcdEntry
}

func lessNameItem(a, b nameItem) bool { return a.name < b.name }

// lessCreate orders by create revision; names break the tie between keys
// created by one transaction, which share a revision.
func lessCreate(a, b *etcdEntry) bool {
	if a.create != b.create {
		return a.create < b.create
	}
	return a.name < b.name
}

// etcdIndex is the local copy of the name space: one tree by name (Get,
// prefix listing) and one by create revision (listing in registration
// order). It is not safe for concurrent use; Etcd guards it.
//
// Changes arrive from two sources: the watch, in revision order, and the
// store's own writes, applied as soon as etcd has committed them so that a
// write is visible to the node that made it when it returns. The two can
// interleave out of order both ways: a write at revision 12 applied before
// the watch delivers an event at 11, and a write's own application delayed
// (its goroutine descheduled) until after the watch has delivered that
// write and later ones, a delete of the name among them. So each change
// carries its revision and applies only if it is newer than what the index
// knows of its name: newer than the entry, newer than a tombstone, and
// for an own write newer than rev, since the index already shows every key
// as of rev. A local delete leaves a tombstone (gone) until the watch has
// passed its revision, so that a late put below it, from the watch or an
// own write, cannot bring the name back; after that, rev itself turns such
// own writes away. Watch events are not held to rev: they come in order
// and above it anyway, and etcd before 3.4.24 did not order requested
// progress notifications with events, so should one get ahead of an event,
// the event must still apply.
type etcdIndex struct {
	byName *btree.BTreeG[nameItem]
	byRev  *btree.BTreeG[*etcdEntry]
	gone   map[string]int64
	// rev is the revision the watch has delivered everything up to.
	rev int64
}

func newEtcdIndex() *etcdIndex {
	return &etcdIndex{
		byName: btree.NewG(btreeDegree, lessNameItem),
		byRev:  btree.NewG(btreeDegree, lessCreate),
		gone:   map[string]int64{},
	}
}

func (x *etcdIndex) get(name string) *etcdEntry {
	it, ok := x.byName.Get(nameItem{name: name})
	if !ok {
		return nil
	}
	return it.e
}

// put installs e unless the index already knows a newer state of its name;
// local marks a store's own write, which the watch may have delivered
// already. It reports whether e was installed, and the entry it replaced.
func (x *etcdIndex) put(e *etcdEntry, local bool) (installed bool, old *etcdEntry) {
	if local && e.mod <= x.rev {
		return false, nil
	}
	if rev, ok := x.gone[e.name]; ok {
		if e.mod <= rev {
			return false, nil
		}
		delete(x.gone, e.name)
	}
	if old = x.get(e.name); old != nil {
		if old.mod >= e.mod {
			return false, nil
		}
		x.byRev.Delete(old)
	}
	x.byName.ReplaceOrInsert(nameItem{name: e.name, e: e})
	x.byRev.ReplaceOrInsert(e)
	return true, old
}

// remove deletes name as of revision rev unless the index holds a newer
// version; local marks a delete the watch may not have delivered yet. rev
// may also be that of a read which found the name absent. It returns the
// entry it removed, if any.
func (x *etcdIndex) remove(name string, rev int64, local bool) (removed *etcdEntry) {
	if local && rev <= x.rev {
		return nil
	}
	if old := x.get(name); old != nil {
		if old.mod > rev {
			return nil
		}
		x.byName.Delete(nameItem{name: name})
		x.byRev.Delete(old)
		removed = old
	}
	if local && x.gone[name] < rev {
		x.gone[name] = rev
	}
	return removed
}

// advance records that the watch has delivered everything up to rev and
// drops the tombstones it has caught up with.
func (x *etcdIndex) advance(rev int64) {
	if rev <= x.rev {
		return
	}
	x.rev = rev
	for name, r := range x.gone {
		if r <= rev {
			delete(x.gone, name)
		}
	}
}

// carry moves into x, a fresh load at x.rev, what old knew beyond that
// revision: local writes that the load may predate.
func (x *etcdIndex) carry(old *etcdIndex) {
	old.byName.Ascend(func(it nameItem) bool {
		if it.e.mod > x.rev {
			x.put(it.e, true)
		}
		return true
	})
	for name, rev := range old.gone {
		if rev > x.rev {
			x.remove(name, rev, true)
		}
	}
}

// ascend calls fn for the entries whose names start with prefix, in create
// revision order. A prefix's entries are gathered from the name tree and
// sorted; the whole name space is walked in the revision tree directly.
func (x *etcdIndex) ascend(prefix string, fn func(*etcdEntry) bool) {
	if prefix == "" {
		x.byRev.Ascend(fn)
		return
	}
	var found []*etcdEntry
	x.byName.AscendGreaterOrEqual(nameItem{name: prefix}, func(it nameItem) bool {
		if !strings.HasPrefix(it.name, prefix) {
			return false
		}
		found = append(found, it.e)
		return true
	})
	slices.SortFunc(found, func(a, b *etcdEntry) int {
		if c := cmp.Compare(a.create, b.create); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	for _, e := range found {
		if !fn(e) {
			return
		}
	}
}
