package persist

import (
	"cmp"
	"slices"
	"strings"
	"sync"

	"github.com/google/btree"
)

// memEntry is the stored form of an entry, held by value in the B-tree so
// that a registration costs no allocation of its own beyond one string, and
// the collector marks two pointers for it. kv holds the name's length in
// two bytes (big-endian; MaxNameLen fits), the name, then the URI: one
// object instead of two, and a 24-byte item instead of 40, which matters
// because B-tree nodes are often half empty. Metadata sits behind a
// pointer, nil when empty (the usual case); the slice it points to is never
// modified once stored (an update installs a new one), so Range can hand it
// out without copying.
//
// seq is the entry's place in registration order, as a Python dict keeps
// it: a new name takes the next number, replacing an entry or its metadata
// keeps the number it had. Eight bytes per entry rather than a second tree
// in that order, which would cost more than the entry itself; a listing
// sorts what it collected, which for a prefix is only the entries listed.
//
// A search key is a memEntry whose md is probeKey and whose kv is the bare
// name, so that a lookup need not build the encoded form.
type memEntry struct {
	kv  string
	md  *[]string
	seq uint64 // registration order: Range and DeleteMatching sort by it
}

// probeKey marks a memEntry used only as a search key.
var probeKey = new([]string)

func probe(name string) memEntry { return memEntry{kv: name, md: probeKey} }

func newMemEntry(name, uri string, md []string, seq uint64) memEntry {
	var b strings.Builder
	b.Grow(2 + len(name) + len(uri))
	b.WriteByte(byte(len(name) >> 8))
	b.WriteByte(byte(len(name)))
	b.WriteString(name)
	b.WriteString(uri)
	e := memEntry{kv: b.String(), seq: seq}
	e.setMetadata(md)
	return e
}

// nameLen is the length of the name in an encoded kv.
func (e memEntry) nameLen() int { return int(e.kv[0])<<8 | int(e.kv[1]) }

func (e memEntry) name() string {
	if e.md == probeKey {
		return e.kv
	}
	return e.kv[2 : 2+e.nameLen()]
}

func (e memEntry) uri() string { return e.kv[2+e.nameLen():] }

// setMetadata stores md, which must be normalized and no longer the
// caller's.
func (e *memEntry) setMetadata(md []string) {
	e.md = nil
	if len(md) > 0 {
		// A fresh header rather than &md, which would move md to the heap
		// on every call, empty or not.
		p := new([]string)
		*p = md
		e.md = p
	}
}

func (e memEntry) metadata() []string {
	if e.md == nil {
		return nil
	}
	return *e.md
}

func (e memEntry) entry() Entry {
	n := e.nameLen()
	return Entry{Name: e.kv[2 : 2+n], URI: e.kv[2+n:], Metadata: e.metadata()}
}

func lessMemEntry(a, b memEntry) bool { return a.name() < b.name() }

// btreeDegree trades node size against depth; 32 keeps a million names
// about four levels deep with nodes that fit a few cache lines of pointers.
const btreeDegree = 32

// Memory is the default, volatile Store: one B-tree ordered by name answers
// both Get and Range, so a lookup costs a descent and a prefix listing a
// seek plus the entries it returns (sorted into registration order),
// whatever the size of the store. A map
// beside the tree would make Get a little faster but would double the heap
// the collector has to mark. Reads run in parallel under a shared lock;
// writes are exclusive.
type Memory struct {
	mu     sync.RWMutex
	index  *btree.BTreeG[memEntry]
	next   uint64 // seq of the next new name
	closed bool
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{index: btree.NewG(btreeDegree, lessMemEntry)}
}

// Get implements Store.
func (m *Memory) Get(name string) (Entry, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return Entry{}, false, ErrClosed
	}
	e, ok := m.index.Get(probe(name))
	if !ok {
		return Entry{}, false, nil
	}
	ent := e.entry()
	ent.Metadata = slices.Clone(ent.Metadata)
	return ent, true, nil
}

// Put implements Store.
func (m *Memory) Put(e Entry) error {
	return m.put(e, false)
}

// PutNew implements Store.
func (m *Memory) PutNew(e Entry) error {
	return m.put(e, true)
}

func (m *Memory) put(e Entry, onlyNew bool) error {
	if err := checkName(e.Name); err != nil {
		return err
	}
	md := NormalizeMetadata(e.Metadata)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	old, existed := m.index.Get(probe(e.Name))
	if existed && onlyNew {
		return ErrExists
	}
	seq := old.seq
	if !existed {
		m.next++
		seq = m.next
	}
	m.index.ReplaceOrInsert(newMemEntry(e.Name, e.URI, md, seq))
	return nil
}

// putAt stores e at place seq in the order, replacing any entry of that
// name wherever it was: the index of a store whose own order decides
// (sqlite's row ids) sets it so.
func (m *Memory) putAt(e Entry, seq uint64) error {
	if err := checkName(e.Name); err != nil {
		return err
	}
	md := NormalizeMetadata(e.Metadata)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	m.next = max(m.next, seq)
	m.index.ReplaceOrInsert(newMemEntry(e.Name, e.URI, md, seq))
	return nil
}

// load fills an empty index with entries sorted by name, each with its
// seq set.
func (m *Memory) load(entries []memEntry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	for _, e := range entries {
		m.next = max(m.next, e.seq)
		m.index.ReplaceOrInsert(e)
	}
	return nil
}

// deleteAll removes names in one step, so that no reader sees some gone
// and others not.
func (m *Memory) deleteAll(names []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	for _, n := range names {
		m.index.Delete(probe(n))
	}
	return nil
}

// SetMetadata implements Store.
func (m *Memory) SetMetadata(name string, metadata []string) error {
	md := NormalizeMetadata(metadata)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return ErrClosed
	}
	e, ok := m.index.Get(probe(name))
	if !ok {
		return ErrNotFound
	}
	e.setMetadata(md)
	m.index.ReplaceOrInsert(e)
	return nil
}

// Delete implements Store.
func (m *Memory) Delete(name string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false, ErrClosed
	}
	_, ok := m.index.Delete(probe(name))
	return ok, nil
}

// DeleteMatching implements Store.
func (m *Memory) DeleteMatching(prefix string, match func(name string) bool) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	var hits []memEntry
	m.ascend(prefix, func(e memEntry) bool {
		if match == nil || match(e.name()) {
			hits = append(hits, e)
		}
		return true
	})
	if len(hits) == 0 {
		return nil, nil
	}
	sortBySeq(hits)
	names := make([]string, len(hits))
	for i, e := range hits {
		names[i] = e.name()
		m.index.Delete(probe(names[i]))
	}
	return names, nil
}

// Range implements Store.
func (m *Memory) Range(prefix string, fn func(e Entry) bool) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return ErrClosed
	}
	var hits []memEntry
	if prefix == "" {
		hits = make([]memEntry, 0, m.index.Len())
	}
	m.ascend(prefix, func(e memEntry) bool {
		hits = append(hits, e)
		return true
	})
	sortBySeq(hits)
	for _, e := range hits {
		if !fn(e.entry()) {
			break
		}
	}
	return nil
}

// rangeByName is Range in bytewise name order, the B-tree's own.
func (m *Memory) rangeByName(prefix string, fn func(e Entry) bool) error {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return ErrClosed
	}
	m.ascend(prefix, func(e memEntry) bool { return fn(e.entry()) })
	return nil
}

func sortBySeq(es []memEntry) {
	slices.SortFunc(es, func(a, b memEntry) int { return cmp.Compare(a.seq, b.seq) })
}

// ascend visits the entries whose names start with prefix, in order; the
// caller holds the lock.
func (m *Memory) ascend(prefix string, fn func(memEntry) bool) {
	if prefix == "" {
		m.index.Ascend(fn)
		return
	}
	m.index.AscendGreaterOrEqual(probe(prefix), func(e memEntry) bool {
		return strings.HasPrefix(e.name(), prefix) && fn(e)
	})
}

// Count implements Store.
func (m *Memory) Count() (int, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return 0, ErrClosed
	}
	return m.index.Len(), nil
}

// Close implements Store. It drops the entries.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	m.index = nil
	return nil
}
