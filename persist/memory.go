package persist

import (
	"slices"
	"strings"
	"sync"

	"github.com/google/btree"
)

// memEntry is the stored form of an entry. Its metadata slice is never
// modified once stored (an update installs a new slice), so Range can hand
// it out without copying.
type memEntry struct {
	name string
	uri  string
	md   []string
}

func (e *memEntry) entry() Entry { return Entry{Name: e.name, URI: e.uri, Metadata: e.md} }

func lessMemEntry(a, b *memEntry) bool { return a.name < b.name }

// btreeDegree trades node size against depth; 32 keeps a million names
// about four levels deep with nodes that fit a few cache lines of pointers.
const btreeDegree = 32

// Memory is the default, volatile Store: a map answers Get and a B-tree
// ordered by name answers Range, so a prefix listing costs a seek plus the
// entries it returns, whatever the size of the store. Reads run in parallel
// under a shared lock; writes are exclusive.
type Memory struct {
	mu     sync.RWMutex
	byName map[string]*memEntry
	index  *btree.BTreeG[*memEntry]
	closed bool
}

// NewMemory returns an empty in-memory store.
func NewMemory() *Memory {
	return &Memory{
		byName: make(map[string]*memEntry),
		index:  btree.NewG(btreeDegree, lessMemEntry),
	}
}

// Get implements Store.
func (m *Memory) Get(name string) (Entry, bool, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return Entry{}, false, ErrClosed
	}
	e, ok := m.byName[name]
	if !ok {
		return Entry{}, false, nil
	}
	return Entry{Name: e.name, URI: e.uri, Metadata: slices.Clone(e.md)}, true, nil
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
	if old, ok := m.byName[e.Name]; ok {
		if onlyNew {
			return ErrExists
		}
		// The B-tree orders by name only, so updating in place keeps it valid.
		old.uri, old.md = e.URI, md
		return nil
	}
	me := &memEntry{name: e.Name, uri: e.URI, md: md}
	m.byName[e.Name] = me
	m.index.ReplaceOrInsert(me)
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
	e, ok := m.byName[name]
	if !ok {
		return ErrNotFound
	}
	e.md = md
	return nil
}

// Delete implements Store.
func (m *Memory) Delete(name string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return false, ErrClosed
	}
	e, ok := m.byName[name]
	if !ok {
		return false, nil
	}
	delete(m.byName, name)
	m.index.Delete(e)
	return true, nil
}

// DeleteMatching implements Store.
func (m *Memory) DeleteMatching(prefix string, match func(name string) bool) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	var victims []*memEntry
	m.ascend(prefix, func(e *memEntry) bool {
		if match == nil || match(e.name) {
			victims = append(victims, e)
		}
		return true
	})
	if len(victims) == 0 {
		return nil, nil
	}
	names := make([]string, len(victims))
	for i, e := range victims {
		names[i] = e.name
		delete(m.byName, e.name)
		m.index.Delete(e)
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
	m.ascend(prefix, func(e *memEntry) bool { return fn(e.entry()) })
	return nil
}

// ascend visits the entries whose names start with prefix, in order; the
// caller holds the lock.
func (m *Memory) ascend(prefix string, fn func(*memEntry) bool) {
	if prefix == "" {
		m.index.Ascend(fn)
		return
	}
	m.index.AscendGreaterOrEqual(&memEntry{name: prefix}, func(e *memEntry) bool {
		return strings.HasPrefix(e.name, prefix) && fn(e)
	})
}

// Count implements Store.
func (m *Memory) Count() (int, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return 0, ErrClosed
	}
	return len(m.byName), nil
}

// Close implements Store. It drops the entries.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	m.byName, m.index = nil, nil
	return nil
}
