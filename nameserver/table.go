package nameserver

import "github.com/pyro4/pyro4/wire"

// objectTable is a daemon's objects by id (Pyro4's Daemon.objectsById; net/rpc's
// serviceMap). Each Server builds its own in New and only reads it after,
// so connections look objects up without a lock.
type objectTable struct {
	ids  []string // in registration order, as Daemon.registered lists them
	byID map[string]*object
}

func newObjectTable() *objectTable {
	return &objectTable{byID: map[string]*object{}}
}

// register adds o under id. It is only called while the server is built.
func (t *objectTable) register(id string, o *object) {
	if _, dup := t.byID[id]; !dup {
		t.ids = append(t.ids, id)
	}
	t.byID[id] = o
}

// get returns the object with id, nil when there is none.
func (t *objectTable) get(id string) *object { return t.byID[id] }

// metadataFor is DaemonObject.get_metadata's lookup of an object id, which
// the handshake's FLAGS_META_ON_CONNECT reply shares.
func (t *objectTable) metadataFor(id wire.Value, asLists bool) (*wire.Dict, error) {
	if err := unhashableArg(id); err != nil {
		return nil, err
	}
	s, _ := id.(string)
	o := t.get(s)
	if o == nil {
		return nil, wire.NewException(wire.ClassDaemonError, "unknown object")
	}
	return o.metadata(asLists), nil
}
