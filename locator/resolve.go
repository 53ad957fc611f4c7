package locator

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/pyro4/pyro4/wire"
)

// Resolve turns a PYRONAME: or PYROMETA: URI into the PYRO: URI it stands
// for, as Pyro4's resolve does; a PYRO: URI is returned unchanged. The name
// server is the one in the URI's location when it has one (a host, with the
// URI's port, or a ./u: Unix socket), else the one Locate finds with opts.
func Resolve(ctx context.Context, uri wire.URI, opts LocateOptions) (wire.URI, error) {
	switch uri.Protocol {
	case "PYRO":
		return uri, nil
	case "PYRONAME", "PYROMETA":
	default:
		return wire.URI{}, &wire.Exception{Class: wire.ClassPyroError, Message: "invalid uri protocol"}
	}
	opts = LocationOf(uri, opts)
	ns, _, err := Locate(ctx, opts)
	if err != nil {
		return wire.URI{}, err
	}
	defer ns.Close()
	return ns.Resolve(uri)
}

// LocationOf returns opts pointed at the name server location a PYRONAME:
// or PYROMETA: URI names, or opts unchanged when it names none.
func LocationOf(uri wire.URI, opts LocateOptions) LocateOptions {
	switch {
	case uri.Sockname != "":
		opts.Host, opts.Port = "./u:"+uri.Sockname, 0
	case uri.Host != "":
		opts.Host, opts.Port = uri.Host, uri.Port
	}
	return opts
}

// Resolve resolves uri with this name server, whatever location uri names:
// PYRONAME:name is a lookup, PYROMETA:a,b a random choice among the
// registrations having all of the tags, and PYRO: is returned unchanged.
func (ns *NameServer) Resolve(uri wire.URI) (wire.URI, error) {
	switch uri.Protocol {
	case "PYRO":
		return uri, nil
	case "PYRONAME":
		return ns.Lookup(uri.Object)
	case "PYROMETA":
		entries, err := ns.List(ListOptions{MetadataAll: uri.Meta})
		if err != nil {
			return wire.URI{}, err
		}
		if len(entries) == 0 {
			return wire.URI{}, &wire.Exception{Class: wire.ClassNamingError,
				Message: "no registrations available with desired metadata properties " + metaRepr(uri.Meta)}
		}
		pick := entries[rand.IntN(len(entries))]
		u, err := wire.ParseURI(pick.URI)
		if err != nil {
			return wire.URI{}, fmt.Errorf("registration %q: %w", pick.Name, err)
		}
		return u, nil
	}
	return wire.URI{}, &wire.Exception{Class: wire.ClassPyroError, Message: "invalid uri protocol"}
}

// metaRepr is the Python set repr Pyro4 puts in its error message, with the
// tags sorted where Python shows them in hash order.
func metaRepr(meta []string) string {
	return wire.Repr(wire.Set(wire.StrList(meta)))
}
