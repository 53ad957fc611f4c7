package persist

import "slices"

// Snapshotter is a Store that can hand out a consistent, read-only view of
// its entries which holds none of the store's locks while it is read. A slow
// scan over a snapshot (a regex listing over many names) then never makes a
// writer wait, nor the readers that a waiting writer would queue behind it.
// A store whose Range already reads without blocking writers (bolt's read
// transactions) need not be one.
type Snapshotter interface {
	// Snapshot returns the entries as they are now. Later writes to the
	// store do not change it. The caller must Release it.
	Snapshot() (Snapshot, error)
}

// Snapshot is a Snapshotter's view of its entries.
type Snapshot interface {
	// Range is Store.Range over the snapshot; fn may be slow.
	Range(prefix string, fn func(e Entry) bool) error
	// Release drops the snapshot; further Range calls fail with ErrClosed.
	Release()
}

// UnchangedDeleter is a Store that can remove a set of entries decided
// outside its lock: DeleteUnchanged removes, in one atomic step, each given
// entry that is still stored with the same URI and metadata, and returns
// their names in the order given. An entry changed or removed meanwhile is
// left as it is, so a removal computed on a snapshot never deletes a
// registration made after it.
type UnchangedDeleter interface {
	DeleteUnchanged(entries []Entry) ([]string, error)
}

// memSnapshot is a Memory over a lazy copy of another's B-tree: the copy
// costs nothing up front, and the tree's copy-on-write keeps the shared
// nodes unchanged while the original goes on being written.
type memSnapshot struct{ m *Memory }

// Snapshot implements Snapshotter. It holds the write lock only for the
// B-tree's constant-time lazy clone.
func (m *Memory) Snapshot() (Snapshot, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	// The clone is a Memory of its own, so listing it is Memory.Range,
	// ordering and all; nothing ever writes to it.
	return memSnapshot{&Memory{index: m.index.Clone()}}, nil
}

func (s memSnapshot) Range(prefix string, fn func(e Entry) bool) error {
	return s.m.Range(prefix, fn)
}

func (s memSnapshot) Release() { _ = s.m.Close() }

// DeleteUnchanged implements UnchangedDeleter.
func (m *Memory) DeleteUnchanged(entries []Entry) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	var removed []string
	for _, e := range entries {
		cur, ok := m.index.Get(probe(e.Name))
		if !ok || cur.uri() != e.URI || !slices.Equal(cur.metadata(), e.Metadata) {
			continue
		}
		m.index.Delete(probe(e.Name))
		removed = append(removed, e.Name)
	}
	return removed, nil
}
