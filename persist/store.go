package persist

import (
	"errors"
	"slices"
)

// Entry is one registration: a name mapped to a URI string and a set of
// metadata strings (sorted, without duplicates).
type Entry struct {
	Name     string
	URI      string
	Metadata []string
}

// NormalizeMetadata returns md the way every Store keeps it: a sorted,
// deduplicated copy, or nil when md is empty, so that stored sets never
// alias the caller's slice.
func NormalizeMetadata(md []string) []string {
	if len(md) == 0 {
		return nil
	}
	out := slices.Clone(md)
	slices.Sort(out)
	return slices.Compact(out)
}

// ErrExists is returned by PutNew when the name is already registered.
var ErrExists = errors.New("name already registered")

// ErrNotFound is returned when an operation needs an existing name.
var ErrNotFound = errors.New("unknown name")

// ErrClosed is returned by every method of a store after Close.
var ErrClosed = errors.New("store is closed")

// MaxNameLen is the longest name, in bytes, a store accepts. It is bbolt's
// key limit less the byte the bolt backend prefixes to every key; the memory
// backend enforces it too so that both backends accept the same names.
const MaxNameLen = 32767

// Store holds the registrations. Every method is atomic with respect to the
// others, and a method that returns nil has made its change durable to the
// degree the backend promises (for bolt: committed and fsynced). Compound
// decisions (register-if-absent, update-if-present, remove-matching) are store
// operations so that they are atomic without a lock around the store.
//
// Metadata passed in is copied, sorted and deduplicated; an empty set is
// stored as nil. Any string, including the empty one, is a valid name up to
// MaxNameLen bytes.
//
// Entries are listed in the store's registration order, the order Pyro4's
// own storage of the same kind gives: for memory and bolt that of a Python
// dict (a new name goes last, replacing an entry or its metadata keeps its
// place, a name removed and registered again goes last); a store of another
// kind documents its own.
type Store interface {
	// Get returns the entry for name. The entry is the caller's to keep.
	Get(name string) (Entry, bool, error)
	// Put stores e, replacing any entry with the same name.
	Put(e Entry) error
	// PutNew stores e only when the name is absent; otherwise ErrExists.
	PutNew(e Entry) error
	// SetMetadata replaces the metadata of an existing entry; ErrNotFound if absent.
	SetMetadata(name string, metadata []string) error
	// Delete removes name and reports whether it was there.
	Delete(name string) (bool, error)
	// DeleteMatching removes, in one atomic step, every entry whose name
	// starts with prefix (empty: every entry) and for which match returns
	// true (a nil match selects them all), and returns the names removed in
	// registration order (nil when none). match runs while the store is locked for writing: it must
	// be quick and must not call back into the store.
	DeleteMatching(prefix string, match func(name string) bool) ([]string, error)
	// Range calls fn for each entry whose name starts with prefix, in
	// registration order, until fn returns false. The entry must not be retained beyond the
	// call unless copied; fn must not call back into the store.
	Range(prefix string, fn func(e Entry) bool) error
	// Count returns the number of entries.
	Count() (int, error)
	// Close releases the store. Further calls fail with ErrClosed; a second
	// Close returns nil.
	Close() error
}

// RegexOrderer is a Store whose Pyro4 counterpart lists a regex search in
// another order than Range's: Pyro4's SqlStorage gives list(regex=...) in
// name order. RangeRegexOrder is Range in that order.
type RegexOrderer interface {
	RangeRegexOrder(prefix string, fn func(e Entry) bool) error
}
