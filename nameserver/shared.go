package nameserver

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/pyro4/pyro4/persist"
	"github.com/pyro4/pyro4/wire"
)

// SharedStore is a store that several name servers serve one name space
// from (persist.Etcd). The server recognises one by its Campaign method:
// its own Pyro.NameServer entry then stays on the node (each node has its
// own URI; a shared entry would point every client at whichever node wrote
// last), and autoclean runs only on the node that leads the "autoclean"
// election, not on every node.
type SharedStore interface {
	persist.Store
	// Campaign runs this node as candidate in the named election; the
	// channel tells when it wins (true) and loses (false) the lead, and is
	// closed when ctx ends.
	Campaign(ctx context.Context, election, candidate string) <-chan bool
}

// autocleanElection is the election whose leader runs autoclean.
const autocleanElection = "autoclean"

// nodeLocal is a shared store with the name server's own entry kept in
// this process: Get, Range and Count show this node's entry under
// Pyro.NameServer, writes of that name change it here, and the shared
// store's own entry of that name (one migrated in from a bolt file, say)
// is hidden. Every other name goes to the shared store.
type nodeLocal struct {
	SharedStore
	mu   sync.RWMutex
	self persist.Entry
	set  bool
}

func (s *nodeLocal) own() (persist.Entry, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e := s.self
	e.Metadata = slices.Clone(e.Metadata)
	return e, s.set
}

func (s *nodeLocal) Get(name string) (persist.Entry, bool, error) {
	if name == NameServerName {
		e, ok := s.own()
		return e, ok, nil
	}
	return s.SharedStore.Get(name)
}

func (s *nodeLocal) Put(e persist.Entry) error {
	if e.Name != NameServerName {
		return s.SharedStore.Put(e)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e.Metadata = persist.NormalizeMetadata(e.Metadata)
	s.self, s.set = e, true
	return nil
}

func (s *nodeLocal) PutNew(e persist.Entry) error {
	if e.Name != NameServerName {
		return s.SharedStore.PutNew(e)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.set {
		return persist.ErrExists
	}
	e.Metadata = persist.NormalizeMetadata(e.Metadata)
	s.self, s.set = e, true
	return nil
}

func (s *nodeLocal) SetMetadata(name string, metadata []string) error {
	if name != NameServerName {
		return s.SharedStore.SetMetadata(name, metadata)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.set {
		return persist.ErrNotFound
	}
	s.self.Metadata = persist.NormalizeMetadata(metadata)
	return nil
}

func (s *nodeLocal) Delete(name string) (bool, error) {
	if name == NameServerName {
		s.mu.Lock()
		defer s.mu.Unlock()
		was := s.set
		s.self, s.set = persist.Entry{}, false
		return was, nil
	}
	return s.SharedStore.Delete(name)
}

func (s *nodeLocal) DeleteMatching(prefix string, match func(name string) bool) ([]string, error) {
	return s.SharedStore.DeleteMatching(prefix, func(name string) bool {
		return name != NameServerName && (match == nil || match(name))
	})
}

// Range lists this node's own entry first, where Pyro4's name server has
// it (it registers itself before anyone else), then the shared store's.
func (s *nodeLocal) Range(prefix string, fn func(e persist.Entry) bool) error {
	if e, ok := s.own(); ok && hasPrefix(NameServerName, prefix) && !fn(e) {
		return nil
	}
	return s.SharedStore.Range(prefix, func(e persist.Entry) bool {
		return e.Name == NameServerName || fn(e)
	})
}

func (s *nodeLocal) Count() (int, error) {
	n, err := s.SharedStore.Count()
	if err != nil {
		return 0, err
	}
	if _, shared, err := s.SharedStore.Get(NameServerName); err != nil {
		return 0, err
	} else if shared {
		n--
	}
	if _, ok := s.own(); ok {
		n++
	}
	return n, nil
}

// Ready passes the shared store's readiness on.
func (s *nodeLocal) Ready() error {
	if rc, ok := s.SharedStore.(ReadinessChecker); ok {
		return rc.Ready()
	}
	return nil
}

// storageUnavailable is the NamingError a client gets for a write the
// store could not carry out because its backend (etcd) is unreachable or
// without quorum: a Pyro4 client catches NamingError from the name server's
// writes, where the PyroError that other store failures give is not
// expected.
func storageUnavailable(err error) *wire.Exception {
	if !errors.Is(err, persist.ErrUnavailable) {
		return nil
	}
	return namingError("name server storage unavailable: %v", err)
}

// leadAutoclean campaigns for the autoclean election until the server
// closes, keeping s.leading current.
func (s *Server) leadAutoclean(store SharedStore) {
	defer s.wg.Done()
	for lead := range store.Campaign(s.ctx, autocleanElection, s.URI().String()) {
		s.leading.Store(lead)
		if lead {
			s.log.Info("autoclean: this name server leads the cluster's autoclean")
		} else {
			s.log.Warn("autoclean: lost the lead of the cluster's autoclean (etcd unreachable); campaigning again")
		}
	}
	s.leading.Store(false)
}

// AutocleanLeader reports whether this server runs autoclean rounds: always
// on a store of its own, only while it leads the election on a shared one.
func (s *Server) AutocleanLeader() bool {
	if _, shared := s.reg.store.(*nodeLocal); !shared {
		return s.opts.AutoClean > 0
	}
	return s.leading.Load()
}
