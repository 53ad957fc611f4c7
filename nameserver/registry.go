package nameserver

import (
	"errors"

	"github.com/pyro4/pyro4/persist"
)

// Registry is the name server's name space with the semantics of Pyro4's
// NameServer, kept in a persist.Store plus an overlay of static entries.
type Registry struct {
	store persist.Store
}

// SetStatic replaces the static entries (from the configuration file) with
// entries, changing only what differs, and reports which names were added,
// changed and removed.
func (r *Registry) SetStatic(entries []persist.Entry) (added, changed, removed []string, err error) {
	return nil, nil, nil, errors.New("nameserver: not implemented yet")
}
