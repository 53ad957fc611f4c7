package nameserver

import (
	"fmt"

	"github.com/pyro4/pyro4/wire"
)

// daemonState is what the Pyro.Daemon object reports about the daemon it
// belongs to; the Server provides it.
type daemonState interface {
	boundLocation() string // the listener's location, as in the internal URI
	natLocation() string   // "" without NAT
	connCount() int
}

// daemonObject is Pyro4.core.DaemonObject, the daemon's own Pyro.Daemon:
// it answers about the daemon's state and its object table.
type daemonObject struct {
	state   daemonState
	objects *objectTable
}

func (d *daemonObject) object() *object {
	return newObject("Pyro4.core", "DaemonObject", []string{"daemon"},
		&method{name: "ping", fn: d.ping},
		&method{name: "registered", fn: d.registered},
		&method{name: "info", fn: d.info},
		&method{name: "get_metadata", params: []param{req("objectId"), opt("as_lists", false)}, fn: d.getMetadata},
		&method{name: "get_next_stream_item", params: []param{req("streamId")}, fn: d.nextStreamItem},
		&method{name: "close_stream", params: []param{req("streamId")}, fn: d.closeStream},
	)
}

func (d *daemonObject) ping([]wire.Value) (wire.Value, error) { return nil, nil }

func (d *daemonObject) registered([]wire.Value) (wire.Value, error) {
	return wire.StrList(d.objects.ids), nil
}

func (d *daemonObject) info([]wire.Value) (wire.Value, error) {
	nat := "None"
	if loc := d.state.natLocation(); loc != "" {
		nat = loc
	}
	loc := d.state.boundLocation()
	return fmt.Sprintf("%s bound on %s, NAT %s, %d objects registered. Servertype: <goroutine server on %s; %d connections>",
		DaemonName, loc, nat, len(d.objects.ids), loc, d.state.connCount()), nil
}

func (d *daemonObject) getMetadata(a []wire.Value) (wire.Value, error) {
	return d.objects.metadataFor(a[0], wire.Truthy(a[1]))
}

// This daemon never streams results, so every stream id is unknown.
func (d *daemonObject) nextStreamItem(a []wire.Value) (wire.Value, error) {
	if err := unhashableArg(a[0]); err != nil {
		return nil, err
	}
	return nil, wire.NewException(wire.ClassPyroError, "item stream terminated")
}

func (d *daemonObject) closeStream(a []wire.Value) (wire.Value, error) {
	if err := unhashableArg(a[0]); err != nil {
		return nil, err
	}
	return nil, nil
}
