package locator

import (
	"context"
	"fmt"
	"math/big"
	"sort"

	"github.com/pyro4/pyro4/wire"
)

// NameServerObject is the object id of the name server, Pyro4's
// constants.NAMESERVER_NAME, under which it also registers itself.
const NameServerObject = "Pyro.NameServer"

// NameServer is a typed client of a Pyro4 name server's remote methods.
type NameServer struct {
	conn *Conn
}

// NewNameServer wraps a connection to a name server object.
func NewNameServer(c *Conn) *NameServer { return &NameServer{conn: c} }

// DialNameServer connects to the name server at a PYRO: URI.
func DialNameServer(ctx context.Context, uri wire.URI, opts Options) (*NameServer, error) {
	c, err := Dial(ctx, uri, opts)
	if err != nil {
		return nil, err
	}
	return NewNameServer(c), nil
}

// NameServerURI is the PYRO: URI of the name server at a location: a host
// and port, or a Unix socket path when sockname is not empty.
func NameServerURI(host string, port int, sockname string) wire.URI {
	return wire.URI{Protocol: "PYRO", Object: NameServerObject, Host: host, Port: port, Sockname: sockname}
}

// Conn is the underlying connection.
func (ns *NameServer) Conn() *Conn { return ns.conn }

// URI is the name server's PYRO: URI as it was connected to.
func (ns *NameServer) URI() wire.URI { return ns.conn.URI() }

// Close closes the connection.
func (ns *NameServer) Close() error { return ns.conn.Close() }

// Ping checks that the name server answers.
func (ns *NameServer) Ping() error {
	_, err := ns.conn.Invoke("ping", nil, nil)
	return err
}

// Count returns the number of registrations, the name server's own included.
func (ns *NameServer) Count() (int, error) {
	v, err := ns.conn.Invoke("count", nil, nil)
	if err != nil {
		return 0, err
	}
	return intResult("count", v)
}

// Lookup returns the URI registered under name.
func (ns *NameServer) Lookup(name string) (wire.URI, error) {
	v, err := ns.conn.Invoke("lookup", []wire.Value{name}, nil)
	if err != nil {
		return wire.URI{}, err
	}
	u, err := wire.URIFromValue(v)
	if err != nil {
		return wire.URI{}, fmt.Errorf("lookup %q: %w", name, err)
	}
	return u, nil
}

// LookupMeta returns the URI registered under name and its metadata, in the
// order the server sent them.
func (ns *NameServer) LookupMeta(name string) (wire.URI, []string, error) {
	v, err := ns.conn.Invoke("lookup", []wire.Value{name}, kwargs("return_metadata", true))
	if err != nil {
		return wire.URI{}, nil, err
	}
	pair, ok := pairOf(v)
	if !ok {
		return wire.URI{}, nil, resultError("lookup", v)
	}
	u, err := wire.URIFromValue(pair[0])
	if err != nil {
		return wire.URI{}, nil, fmt.Errorf("lookup %q: %w", name, err)
	}
	meta, ok := wire.Strings(pair[1])
	if !ok && pair[1] != nil {
		return wire.URI{}, nil, resultError("lookup", v)
	}
	return u, meta, nil
}

// Register registers uri (a URI string, validated by the server) under
// name. With safe, an existing registration of name is an error instead of
// being replaced. Metadata nil registers none.
func (ns *NameServer) Register(name, uri string, safe bool, metadata []string) error {
	kw := kwargs("safe", safe)
	if metadata != nil {
		kw.Append("metadata", wire.StrList(metadata))
	}
	_, err := ns.conn.Invoke("register", []wire.Value{name, uri}, kw)
	return err
}

// SetMetadata replaces the metadata of an existing registration; nil or
// empty clears it.
func (ns *NameServer) SetMetadata(name string, metadata []string) error {
	_, err := ns.conn.Invoke("set_metadata", []wire.Value{name, wire.StrList(metadata)}, nil)
	return err
}

// Remove removes the registration of name and returns how many were
// removed (0 or 1). The name server's own registration is never removed.
func (ns *NameServer) Remove(name string) (int, error) {
	return ns.remove([]wire.Value{name}, nil)
}

// RemovePrefix removes every registration whose name starts with prefix.
func (ns *NameServer) RemovePrefix(prefix string) (int, error) {
	return ns.remove(nil, kwargs("prefix", prefix))
}

// RemoveRegex removes every registration whose name matches regex (a
// Python re.match, anchored at the start only).
func (ns *NameServer) RemoveRegex(regex string) (int, error) {
	return ns.remove(nil, kwargs("regex", regex))
}

func (ns *NameServer) remove(args []wire.Value, kw *wire.Dict) (int, error) {
	v, err := ns.conn.Invoke("remove", args, kw)
	if err != nil {
		return 0, err
	}
	return intResult("remove", v)
}

// ListOptions select what List returns. The name server accepts at most one
// of Prefix, Regex, MetadataAll and MetadataAny; empty ones are not sent.
type ListOptions struct {
	Prefix         string
	Regex          string   // Python re.match: anchored at the start only
	MetadataAll    []string // registrations having all of these tags
	MetadataAny    []string // registrations having any of these tags
	ReturnMetadata bool     // fill Entry.Metadata
}

// Entry is one registration. URI is the string the name server stored.
// Metadata is in the order the server sent it (Pyro4 sends a Python set's
// iteration order) and is nil unless ListOptions.ReturnMetadata was set.
type Entry struct {
	Name     string
	URI      string
	Metadata []string
}

// List returns the registrations selected by opts, sorted by name.
func (ns *NameServer) List(opts ListOptions) ([]Entry, error) {
	kw := wire.NewDict(2)
	if opts.Prefix != "" {
		kw.Append("prefix", opts.Prefix)
	}
	if opts.Regex != "" {
		kw.Append("regex", opts.Regex)
	}
	if len(opts.MetadataAll) > 0 {
		kw.Append("metadata_all", wire.StrList(opts.MetadataAll))
	}
	if len(opts.MetadataAny) > 0 {
		kw.Append("metadata_any", wire.StrList(opts.MetadataAny))
	}
	if opts.ReturnMetadata {
		kw.Append("return_metadata", true)
	}
	v, err := ns.conn.Invoke("list", nil, kw)
	if err != nil {
		return nil, err
	}
	return entriesFromValue(v)
}

// entriesFromValue reads list()'s result: a dict of name to URI string, or
// of name to (URI string, [metadata]) with return_metadata.
func entriesFromValue(v wire.Value) ([]Entry, error) {
	d, ok := v.(*wire.Dict)
	if !ok {
		return nil, resultError("list", v)
	}
	out := make([]Entry, 0, d.Len())
	for _, it := range d.Items {
		name, ok := it.Key.(string)
		if !ok {
			return nil, resultError("list", v)
		}
		e := Entry{Name: name}
		val := it.Value
		if pair, ok := pairOf(val); ok {
			if pair[1] != nil {
				if e.Metadata, ok = wire.Strings(pair[1]); !ok {
					return nil, resultError("list", v)
				}
			}
			if e.Metadata == nil {
				e.Metadata = []string{}
			}
			val = pair[0]
		}
		if e.URI, ok = uriText(val); !ok {
			return nil, resultError("list", v)
		}
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// uriText accepts a URI as a str or as a URI class dict.
func uriText(v wire.Value) (string, bool) {
	if s, ok := v.(string); ok {
		return s, true
	}
	if d, ok := v.(*wire.Dict); ok {
		if u, err := wire.URIFromValue(d); err == nil {
			return u.String(), true
		}
	}
	return "", false
}

func pairOf(v wire.Value) ([]wire.Value, bool) {
	switch x := v.(type) {
	case wire.Tuple:
		return x, len(x) == 2
	case wire.List:
		return x, len(x) == 2
	}
	return nil, false
}

func intResult(method string, v wire.Value) (int, error) {
	switch n := v.(type) {
	case int64:
		return int(n), nil
	case *big.Int:
		return 0, fmt.Errorf("%s: result %s out of range", method, n)
	}
	return 0, resultError(method, v)
}

func resultError(method string, v wire.Value) error {
	return &wire.Exception{Class: wire.ClassProtocolError,
		Message: fmt.Sprintf("unexpected result of %s: %s", method, truncate(wire.Repr(v), 200))}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func kwargs(k string, v wire.Value) *wire.Dict {
	d := wire.NewDict(2)
	d.Append(k, v)
	return d
}
