package nameserver

import (
	"github.com/pyro4/pyro4/persist"
	"github.com/pyro4/pyro4/wire"
)

// ListFilter is list()'s keyword arguments for an in-process caller (the
// operations endpoint's API). A nil field is an argument not given
// (Python's None): list() refuses more than one given, even an empty one,
// and takes a given but empty one as no filter.
type ListFilter struct {
	Prefix      *string
	Regex       *string
	MetadataAll []string // nil: not given
	MetadataAny []string
}

// List is the name server's list(..., return_metadata=True) with f's
// arguments, run by the same code as a client's call, so the entries, their
// order and the errors are those a client gets. A filter list() refuses is
// a *wire.Exception (NamingError for an invalid regex, ValueError for more
// than one filter).
func (s *Server) List(f ListFilter) ([]persist.Entry, error) {
	str := func(p *string) wire.Value {
		if p == nil {
			return nil
		}
		return *p
	}
	tags := func(t []string) wire.Value {
		if t == nil {
			return nil
		}
		l := make(wire.List, len(t))
		for i, s := range t {
			l[i] = s
		}
		return l
	}
	v, err := s.ns.list([]wire.Value{str(f.Prefix), str(f.Regex), tags(f.MetadataAll), tags(f.MetadataAny), true})
	if err != nil {
		return nil, err
	}
	d := v.(*wire.Dict)
	out := make([]persist.Entry, 0, len(d.Items))
	for _, it := range d.Items {
		name, _ := it.Key.(string)
		t, _ := it.Value.(wire.Tuple)
		e := persist.Entry{Name: name}
		if len(t) == 2 {
			e.URI, _ = t[0].(string)
			md, _ := t[1].(wire.List)
			for _, m := range md {
				if s, ok := m.(string); ok {
					e.Metadata = append(e.Metadata, s)
				}
			}
		}
		out = append(out, e)
	}
	return out, nil
}
