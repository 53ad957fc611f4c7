package persist

import "errors"

// Entry is one registration: a name mapped to a URI string and a set of
// metadata strings (sorted, without duplicates).
type Entry struct {
	Name     string
	URI      string
	Metadata []string
}

// ErrExists is returned by PutNew when the name is already registered.
var ErrExists = errors.New("name already registered")

// ErrNotFound is returned when an operation needs an existing name.
var ErrNotFound = errors.New("unknown name")

// Store holds the registrations. Every method is atomic with respect to the
// others, and a method that returns nil has made its change durable to the
// degree the backend promises (for bolt: committed and fsynced). Compound
// decisions (register-if-absent, update-if-present, remove-matching) are store
// operations so that they are atomic without a lock around the store.
type Store interface {
	// Get returns the entry for name.
	Get(name string) (Entry, bool, error)
	// Put stores e, replacing any entry with the same name.
	Put(e Entry) error
	// PutNew stores e only when the name is absent; otherwise ErrExists.
	PutNew(e Entry) error
	// SetMetadata replaces the metadata of an existing entry; ErrNotFound if absent.
	SetMetadata(name string, metadata []string) error
	// Delete removes name and reports whether it was there.
	Delete(name string) (bool, error)
	// DeleteMatching removes every entry for which match returns true, in one
	// atomic step, and returns the names removed.
	DeleteMatching(prefix string, match func(name string) bool) ([]string, error)
	// Range calls fn for each entry whose name starts with prefix, in name
	// order, until fn returns false. The entry must not be retained beyond the
	// call unless copied; fn must not call back into the store.
	Range(prefix string, fn func(e Entry) bool) error
	// Count returns the number of entries.
	Count() (int, error)
	// Close releases the store. Further calls fail.
	Close() error
}
