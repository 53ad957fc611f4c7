package nameserver

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/pyro4/pyro4/persist"
	"github.com/pyro4/pyro4/wire"
)

// Well-known object ids.
const (
	// NameServerName is the id of the name server object and the name under
	// which the name server registers itself.
	NameServerName = "Pyro.NameServer"
	// DaemonName is the id of the daemon's own object.
	DaemonName = "Pyro.Daemon"
)

// nameServerMetadata is what Pyro4's name server puts on its own entry.
var nameServerMetadata = []string{"class:Pyro4.naming.NameServer"}

// Registry is the name server's name space with the semantics of Pyro4's
// NameServer. Client registrations live in a persist.Store; static entries
// (from the configuration file) live in an overlay in memory and are never
// written to the store, so an entry removed from the configuration is gone
// after a restart too.
//
// A static entry shadows a client entry of the same name: lookups and
// listings show the static one, while the client entry stays in the store
// untouched and is visible again once the static entry is removed. Clients
// cannot register over, set metadata on, or remove a static name; they get
// a NamingError "name is statically configured: NAME (edit the config file)".
//
// The Pyro.NameServer entry is the name server's own: remove never deletes
// it, as in Pyro4.
type Registry struct {
	store    persist.Store
	static   atomic.Pointer[staticSet]
	staticMu sync.Mutex // serialises SetStatic

	// hooks, when set (by the Server, before it serves), get every change
	// in the order of order.
	hooks *registryHooks
	order changeOrder
}

// staticSet is immutable once published, so readers need no lock.
type staticSet struct {
	byName  map[string]persist.Entry
	ordered []persist.Entry // as in the config file: the listing order
	sorted  []persist.Entry // by name: the order of reports
}

var emptyStatic = &staticSet{byName: map[string]persist.Entry{}}

// NewRegistry returns a registry over store with no static entries.
func NewRegistry(store persist.Store) *Registry {
	r := &Registry{store: store}
	r.static.Store(emptyStatic)
	return r
}

// Store returns the store that holds the client registrations.
func (r *Registry) Store() persist.Store { return r.store }

func staticError(name string) *wire.Exception {
	return namingError("name is statically configured: %s (edit the config file)", name)
}

// Lookup returns the entry registered under name, static entries first.
func (r *Registry) Lookup(name string) (persist.Entry, bool, error) {
	if e, ok := r.static.Load().byName[name]; ok {
		e.Metadata = slices.Clone(e.Metadata)
		return e, true, nil
	}
	e, ok, err := r.store.Get(name)
	if err != nil {
		return persist.Entry{}, false, fmt.Errorf("lookup %q: %w", name, err)
	}
	return e, ok, nil
}

// exists reports whether name is registered, static entries included.
func (r *Registry) exists(name string) (bool, error) {
	_, found, err := r.Lookup(name)
	return found, err
}

// Register stores e. With safe, an existing name is a NamingError "name
// already registered: NAME", as in Pyro4. A name longer than
// persist.MaxNameLen is a NamingError that quotes only its start.
func (r *Registry) Register(e persist.Entry, safe bool) error {
	if len(e.Name) > persist.MaxNameLen {
		return namingError("name too long: %d bytes, at most %d (%s...)", len(e.Name), persist.MaxNameLen, nameStart(e.Name))
	}
	if _, ok := r.static.Load().byName[e.Name]; ok {
		if safe {
			return namingError("name already registered: %s", e.Name)
		}
		return staticError(e.Name)
	}
	if r.hooks != nil {
		defer r.order.unlockName(r.order.lockName(e.Name))
	}
	start := r.hooks.commitTimer()
	if !safe {
		if err := r.store.Put(e); err != nil {
			return fmt.Errorf("register %q: %w", e.Name, err)
		}
		r.hooks.committed(start)
		r.reportRegistered(e)
		return nil
	}
	err := r.store.PutNew(e)
	if err == nil {
		r.hooks.committed(start)
		r.reportRegistered(e)
	}
	if errors.Is(err, persist.ErrExists) {
		return namingError("name already registered: %s", e.Name)
	}
	if err != nil {
		return fmt.Errorf("register %q: %w", e.Name, err)
	}
	return nil
}

// reportRegistered reports e as stored, its metadata as the store keeps it.
func (r *Registry) reportRegistered(e persist.Entry) {
	if r.hooks.wantsEntries() {
		e.Metadata = persist.NormalizeMetadata(e.Metadata)
	}
	r.hooks.report(entryChange(ChangeRegister, e))
}

// nameStart is the first few characters of a name too long to quote.
func nameStart(name string) string {
	const show = 40
	n := 0
	for i := range name {
		if n == show {
			return name[:i]
		}
		n++
	}
	return name
}

// registerSelf stores the name server's own entry, bypassing the static
// overlay (SetStatic refuses the name, so it cannot be static).
func (r *Registry) registerSelf(uri string) error {
	if r.hooks != nil {
		defer r.order.unlockName(r.order.lockName(NameServerName))
	}
	e := persist.Entry{Name: NameServerName, URI: uri, Metadata: nameServerMetadata}
	if err := r.store.Put(e); err != nil {
		return fmt.Errorf("register %q: %w", NameServerName, err)
	}
	r.reportRegistered(e)
	return nil
}

// SetMetadata replaces the metadata of an existing registration.
func (r *Registry) SetMetadata(name string, metadata []string) error {
	if _, ok := r.static.Load().byName[name]; ok {
		return staticError(name)
	}
	if r.hooks != nil {
		defer r.order.unlockName(r.order.lockName(name))
	}
	start := r.hooks.commitTimer()
	err := r.store.SetMetadata(name, metadata)
	r.hooks.committed(start)
	if errors.Is(err, persist.ErrNotFound) {
		return namingError("unknown name: %s", name)
	}
	if err != nil {
		return fmt.Errorf("set metadata of %q: %w", name, err)
	}
	c := Change{Op: ChangeMetadata, Name: name}
	if r.hooks.wantsEntries() {
		// The report carries the URI too; under the name's lock it is the
		// one the metadata was set on.
		if e, ok, gerr := r.store.Get(name); gerr == nil && ok {
			c = entryChange(ChangeMetadata, e)
		}
	}
	r.hooks.report(c)
	return nil
}

// Remove deletes a client registration and reports whether it existed. The
// name server's own entry is never removed; a static name is an error.
func (r *Registry) Remove(name string) (bool, error) {
	if name == NameServerName {
		return false, nil
	}
	if _, ok := r.static.Load().byName[name]; ok {
		return false, staticError(name)
	}
	if r.hooks != nil {
		defer r.order.unlockName(r.order.lockName(name))
	}
	c := Change{Op: ChangeRemove, Name: name}
	if r.hooks.wantsEntries() {
		if e, ok, gerr := r.store.Get(name); gerr == nil && ok {
			c = entryChange(ChangeRemove, e)
		}
	}
	start := r.hooks.commitTimer()
	ok, err := r.store.Delete(name)
	if err != nil {
		return false, fmt.Errorf("remove %q: %w", name, err)
	}
	r.hooks.committed(start)
	if ok {
		r.hooks.report(c)
	}
	return ok, nil
}

// RemoveMatching deletes, in one atomic step, every client registration
// whose name starts with prefix and satisfies match (nil: all of them). The
// name server's own entry and static names are skipped, not errors, the way
// Pyro4 skips its own entry in a prefix or regex removal.
func (r *Registry) RemoveMatching(prefix string, match func(name string) bool) ([]string, error) {
	if r.hooks != nil {
		r.order.all.Lock()
		defer r.order.all.Unlock()
	}
	static := r.static.Load().byName
	start := r.hooks.commitTimer()
	removed, err := r.store.DeleteMatching(prefix, func(name string) bool {
		if name == NameServerName {
			return false
		}
		if _, ok := static[name]; ok {
			return false
		}
		return match == nil || match(name)
	})
	if err != nil {
		return nil, fmt.Errorf("remove names with prefix %q: %w", prefix, err)
	}
	r.hooks.committed(start)
	r.hooks.reportRemoved(removed)
	return removed, nil
}

// Range calls fn for every entry whose name starts with prefix, static
// entries in place of client entries of the same name, until fn returns
// false. fn must not call back into the registry and must copy the
// metadata slice if it keeps it.
//
// The order is the store's registration order (see persist.Store), which is
// Pyro4's. Static entries are placed as if the name server had registered
// them right after its own entry at start: the name server's entry first,
// then the static entries in the order of the config file, then the client
// registrations in store order. A listing that holds no static entry is
// exactly the store's order.
func (r *Registry) Range(prefix string, fn func(e persist.Entry, static bool) bool) error {
	return r.rangeWith(r.outsideLocks(r.store.Range, true), prefix, fn)
}

// RangeRegexOrder is Range in the order the store's Pyro4 counterpart gives
// a list(regex=...) in (see persist.RegexOrderer): name order for sql, the
// order of Range for the others.
func (r *Registry) RangeRegexOrder(prefix string, fn func(e persist.Entry, static bool) bool) error {
	if o, ok := r.store.(persist.RegexOrderer); ok {
		return r.rangeWith(r.outsideLocks(o.RangeRegexOrder, false), prefix, fn)
	}
	return r.Range(prefix, fn)
}

func (r *Registry) rangeWith(storeRange func(string, func(persist.Entry) bool) error, prefix string, fn func(e persist.Entry, static bool) bool) error {
	st := r.static.Load()
	anyStatic := false
	for _, e := range st.ordered {
		if anyStatic = hasPrefix(e.Name, prefix); anyStatic {
			break
		}
	}
	if !anyStatic {
		if err := storeRange(prefix, func(e persist.Entry) bool { return fn(e, false) }); err != nil {
			return fmt.Errorf("list names with prefix %q: %w", prefix, err)
		}
		return nil
	}
	if hasPrefix(NameServerName, prefix) {
		e, ok, err := r.store.Get(NameServerName)
		if err != nil {
			return fmt.Errorf("list names with prefix %q: %w", prefix, err)
		}
		if ok && !fn(e, false) {
			return nil
		}
	}
	for _, e := range st.ordered {
		if hasPrefix(e.Name, prefix) && !fn(e, true) {
			return nil
		}
	}
	err := storeRange(prefix, func(e persist.Entry) bool {
		if _, shadowed := st.byName[e.Name]; shadowed || e.Name == NameServerName {
			return true
		}
		return fn(e, false)
	})
	if err != nil {
		return fmt.Errorf("list names with prefix %q: %w", prefix, err)
	}
	return nil
}

func compareStrings(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// Count returns the number of names, static and client, each counted once.
func (r *Registry) Count() (int, error) {
	n, err := r.store.Count()
	if err != nil {
		return 0, fmt.Errorf("count names: %w", err)
	}
	for name := range r.static.Load().byName {
		_, shadowed, err := r.store.Get(name)
		if err != nil {
			return 0, fmt.Errorf("count names: %w", err)
		}
		if !shadowed {
			n++
		}
	}
	return n, nil
}

// IsStatic reports whether name is a static entry.
func (r *Registry) IsStatic(name string) bool {
	_, ok := r.static.Load().byName[name]
	return ok
}

// Static returns the static entries in name order.
func (r *Registry) Static() []persist.Entry {
	st := r.static.Load().sorted
	out := make([]persist.Entry, len(st))
	for i, e := range st {
		e.Metadata = slices.Clone(e.Metadata)
		out[i] = e
	}
	return out
}

// SetStatic replaces the static entries with entries (in the order they
// are to be listed, the config file's), changing only what
// differs, and reports the names added, changed (URI or metadata) and
// removed, each in name order. Client registrations are never touched. Every
// entry needs a valid URI and a distinct name other than Pyro.NameServer;
// when one does not qualify nothing changes and the error says why.
func (r *Registry) SetStatic(entries []persist.Entry) (added, changed, removed []string, err error) {
	next := &staticSet{byName: make(map[string]persist.Entry, len(entries))}
	for _, e := range entries {
		if e.Name == NameServerName {
			return nil, nil, nil, fmt.Errorf("static entry %q: the name server's own name cannot be configured", e.Name)
		}
		if _, dup := next.byName[e.Name]; dup {
			return nil, nil, nil, fmt.Errorf("static entry %q: configured twice", e.Name)
		}
		if len(e.Name) > persist.MaxNameLen {
			return nil, nil, nil, fmt.Errorf("static entry of %d bytes: name longer than %d bytes", len(e.Name), persist.MaxNameLen)
		}
		if _, perr := wire.ParseURI(e.URI); perr != nil {
			return nil, nil, nil, fmt.Errorf("static entry %q: uri %q: %w", e.Name, e.URI, perr)
		}
		e.Metadata = persist.NormalizeMetadata(e.Metadata)
		next.byName[e.Name] = e
		next.ordered = append(next.ordered, e)
	}
	next.sorted = slices.Clone(next.ordered)
	slices.SortFunc(next.sorted, func(a, b persist.Entry) int { return compareStrings(a.Name, b.Name) })

	if r.hooks != nil {
		r.order.all.Lock()
		defer r.order.all.Unlock()
	}
	r.staticMu.Lock()
	defer r.staticMu.Unlock()
	prev := r.static.Load()
	for _, e := range next.sorted {
		old, ok := prev.byName[e.Name]
		switch {
		case !ok:
			added = append(added, e.Name)
		case old.URI != e.URI || !slices.Equal(old.Metadata, e.Metadata):
			changed = append(changed, e.Name)
		}
	}
	for _, e := range prev.sorted {
		if _, ok := next.byName[e.Name]; !ok {
			removed = append(removed, e.Name)
		}
	}
	r.static.Store(next)
	r.reportStatic(next, added, changed, removed)
	return added, changed, removed, nil
}

// reportStatic reports a SetStatic: added and changed static entries as
// registered; a removed one as removed, or as the client entry it shadowed,
// which is visible again.
func (r *Registry) reportStatic(next *staticSet, added, changed, removed []string) {
	if r.hooks == nil {
		return
	}
	for _, n := range slices.Concat(added, changed) {
		r.hooks.report(entryChange(ChangeRegister, next.byName[n]))
	}
	for _, n := range removed {
		if e, ok, err := r.store.Get(n); err == nil && ok {
			r.hooks.report(entryChange(ChangeRegister, e))
			continue
		}
		r.hooks.report(Change{Op: ChangeRemove, Name: n})
	}
}
