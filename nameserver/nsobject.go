package nameserver

import (
	"log/slog"
	"regexp"
	"slices"

	"github.com/pyro4/pyro4/persist"
	"github.com/pyro4/pyro4/wire"
)

// nameServer is Pyro4.naming.NameServer over a registry. Its methods take
// the arguments already bound to their Python signatures, so they can be
// called, and tested, without a daemon or a socket.
type nameServer struct {
	reg  *Registry
	uris *uriValueCache // lookup's answers, by stored URI string
	log  *slog.Logger   // the audit lines go here; nil -> discard
	lim  callLimits     // the server's scan deadline and reply budget
}

func newNameServer(reg *Registry, log *slog.Logger) *nameServer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &nameServer{reg: reg, uris: newURIValueCache(), log: log, lim: callLimits{scanTimeout: DefaultScanTimeout}}
}

// object is the dispatch table: the methods, their signatures, and the
// argument checks in the order Pyro4 4.82 makes them.
func (ns *nameServer) object() *object {
	return newObject("Pyro4.naming", "NameServer", []string{"lock", "storage"},
		&method{name: "ping", fn: ns.ping},
		&method{name: "count", fn: ns.count},
		&method{name: "lookup", params: []param{req("name"), opt("return_metadata", false)}, fn: ns.lookup},
		&method{name: "register", params: []param{req("name"), req("uri"), opt("safe", false), opt("metadata", nil)}, fn: ns.register,
			audit: ns.auditRegister},
		&method{name: "set_metadata", params: []param{req("name"), req("metadata")}, fn: ns.setMetadata,
			audit: ns.auditSetMetadata},
		&method{name: "remove", params: []param{opt("name", nil), opt("prefix", nil), opt("regex", nil)}, fn: ns.remove,
			audit: ns.auditRemove},
		&method{name: "list", params: []param{opt("prefix", nil), opt("regex", nil), opt("metadata_all", nil),
			opt("metadata_any", nil), opt("return_metadata", false)}, fn: ns.list},
	)
}

func (ns *nameServer) ping([]wire.Value) (wire.Value, error) { return nil, nil }

func (ns *nameServer) count([]wire.Value) (wire.Value, error) {
	n, err := ns.reg.Count()
	return int64(n), err
}

func (ns *nameServer) lookup(a []wire.Value) (wire.Value, error) {
	if err := unhashableArg(a[0]); err != nil {
		return nil, err
	}
	name, ok := a[0].(string)
	if !ok {
		return nil, concatName("unknown name: ", a[0])
	}
	e, found, err := ns.reg.Lookup(name)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, namingError("unknown name: %s", name)
	}
	u, err := ns.uris.get(e.URI)
	if err != nil {
		return nil, err
	}
	if wire.Truthy(a[1]) {
		return wire.Tuple{u, wire.StrList(e.Metadata)}, nil
	}
	return u, nil
}

// uriArg accepts what NameServer.register accepts for uri: a URI object (a
// URI class dict on the wire) or a str that parses as a URI.
func uriArg(v wire.Value) (string, error) {
	switch x := v.(type) {
	case *wire.Dict:
		if c, _ := x.GetString("__class__"); c == wire.ClassURI {
			u, err := wire.URIFromValue(x)
			if err != nil {
				return "", err
			}
			return u.String(), nil
		}
	case string:
		if _, err := wire.ParseURI(x); err != nil {
			return "", err
		}
		return x, nil
	}
	return "", typeError("only URIs or strings can be registered")
}

func (ns *nameServer) register(a []wire.Value) (wire.Value, error) {
	uri, err := uriArg(a[1])
	if err != nil {
		return nil, err
	}
	name, ok := a[0].(string)
	if !ok {
		return nil, typeError("name must be a str")
	}
	its, xerr := metadataItems("metadata", a[3])
	if xerr != nil {
		return nil, xerr
	}
	safe := wire.Truthy(a[2])
	md, xerr := metadataStrings("metadata", its)
	if xerr != nil {
		if !safe {
			return nil, xerr
		}
		return nil, ns.nameCheckFirst(name, true, namingError("name already registered: %s", name), xerr)
	}
	return nil, ns.reg.Register(persist.Entry{Name: name, URI: uri, Metadata: md}, safe)
}

func (ns *nameServer) setMetadata(a []wire.Value) (wire.Value, error) {
	name, ok := a[0].(string)
	if !ok {
		return nil, typeError("name must be a str")
	}
	its, xerr := metadataItems("metadata", a[1])
	if xerr != nil {
		return nil, xerr
	}
	md, xerr := metadataStrings("metadata", its)
	if xerr != nil {
		return nil, ns.nameCheckFirst(name, false, namingError("unknown name: %s", name), xerr)
	}
	return nil, ns.reg.SetMetadata(name, md)
}

// nameCheckFirst answers a register or set_metadata whose metadata members
// were refused. Pyro4 checks the name before it builds the metadata set, so
// when the name's presence is failIf, the name's error wins. Nothing is
// written either way, so one look at the name answers as of that moment.
func (ns *nameServer) nameCheckFirst(name string, failIf bool, nameErr, memberErr *wire.Exception) error {
	found, err := ns.reg.exists(name)
	switch {
	case err != nil:
		return err
	case found == failIf:
		return nameErr
	}
	return memberErr
}

func (ns *nameServer) remove(a []wire.Value) (wire.Value, error) {
	name, prefix, regex := a[0], a[1], a[2]
	if wire.Truthy(name) {
		if err := unhashableArg(name); err != nil {
			return nil, err
		}
		if n, ok := name.(string); ok {
			removed, err := ns.reg.Remove(n)
			if err != nil {
				return nil, err
			}
			if removed {
				return int64(1), nil
			}
		}
	}
	var removed []string
	var err error
	switch {
	case wire.Truthy(prefix):
		p, xerr := strictPrefixArg(prefix)
		if xerr != nil {
			return nil, xerr
		}
		sc := ns.lim.newScan("remove(prefix=...)")
		if one, ok := p.single(); ok {
			removed, err = ns.reg.removeScanned(one, nil, sc)
		} else {
			removed, err = ns.reg.removeScanned("", func(n string) bool { ok, _ := p.match(n); return ok }, sc)
		}
	case wire.Truthy(regex):
		re, xerr := regexArg(regex)
		if xerr != nil {
			return nil, xerr
		}
		removed, err = ns.reg.removeScanned("", re.MatchString, ns.lim.newScan("remove(regex=...)"))
	default:
		return int64(0), nil
	}
	if err != nil {
		return nil, err
	}
	return int64(len(removed)), nil
}

// strictPrefixArg refuses a tuple with a non-str member up front. Pyro4
// raises the same TypeError only once a name reaches that member; a removal
// must not half-happen, so this server decides before removing anything.
func strictPrefixArg(v wire.Value) (prefixArg, error) {
	p, err := newPrefixArg(v)
	if err != nil {
		return p, err
	}
	for _, m := range p.prefixes {
		if _, ok := m.(string); !ok {
			return p, typeError("tuple for startswith must only contain str, not %s", typeName(m))
		}
	}
	return p, nil
}

// regexArg compiles a regex argument as re.compile would accept it.
func regexArg(v wire.Value) (*regexp.Regexp, error) {
	switch x := v.(type) {
	case string:
		re, err := compilePython(x)
		if err != nil {
			return nil, namingError("invalid regex: %v", err)
		}
		return re, nil
	case []byte:
		// a bytes pattern compiles in Python, then cannot match a str name
		if _, err := compilePython(string(x)); err != nil {
			return nil, namingError("invalid regex: %v", err)
		}
		return nil, typeError("cannot use a bytes pattern on a string-like object")
	}
	return nil, typeError("first argument must be string or compiled pattern")
}

func (ns *nameServer) list(a []wire.Value) (wire.Value, error) {
	given := 0
	for _, v := range a[:4] {
		if v != nil {
			given++
		}
	}
	if given > 1 {
		return nil, valueError("you can only filter on one thing at a time")
	}
	withMeta := wire.Truthy(a[4])
	out := wire.NewDict(8)
	start, keep, none, err := listFilter(a[0], a[1], a[2], a[3])
	if err != nil {
		return nil, err
	}
	if none {
		return out, nil
	}
	var ferr error
	sc := ns.lim.newScan("list()")
	rangeFn := ns.reg.Range
	if wire.Truthy(a[1]) { // a regex listing has its own order in some stores
		rangeFn = ns.reg.RangeRegexOrder
	}
	err = rangeFn(start, func(e persist.Entry, _ bool) bool {
		if ferr = sc.visit(); ferr != nil {
			return false
		}
		if keep != nil {
			ok, err := keep(e)
			if err != nil {
				ferr = err
				return false
			}
			if !ok {
				return true
			}
		}
		if ferr = sc.keep(e, withMeta); ferr != nil {
			return false
		}
		if len(out.Items) == cap(out.Items) {
			// Doubling: append grows a large slice by a quarter, which
			// allocates about five times a big listing's final size.
			out.Items = slices.Grow(out.Items, len(out.Items))
		}
		if withMeta {
			out.Append(e.Name, wire.Tuple{e.URI, wire.StrList(e.Metadata)})
		} else {
			out.Append(e.Name, e.URI)
		}
		return true
	})
	if ferr != nil {
		return nil, ferr
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// listFilter turns the one filter list() was given into where the scan of
// the names starts and which entries it keeps (keep is nil to keep all);
// none is true when no entry can match.
func listFilter(prefix, regex, mdAll, mdAny wire.Value) (start string, keep func(persist.Entry) (bool, error), none bool, err error) {
	switch {
	case wire.Truthy(prefix):
		p, xerr := newPrefixArg(prefix)
		if xerr != nil {
			return "", nil, false, xerr
		}
		if one, ok := p.single(); ok {
			return one, nil, false, nil
		}
		keep = func(e persist.Entry) (bool, error) {
			ok, err := p.match(e.Name)
			if err != nil {
				return false, err
			}
			return ok, nil
		}
	case wire.Truthy(regex):
		re, err := regexArg(regex)
		if err != nil {
			return "", nil, false, err
		}
		keep = func(e persist.Entry) (bool, error) { return re.MatchString(e.Name), nil }
	case wire.Truthy(mdAll):
		tags, other, xerr := searchArg("metadata_all", mdAll)
		if xerr != nil {
			return "", nil, false, xerr
		}
		if other { // a non-str tag is on no entry
			return "", nil, true, nil
		}
		keep = func(e persist.Entry) (bool, error) { return hasAll(e.Metadata, tags), nil }
	case wire.Truthy(mdAny):
		tags, _, xerr := searchArg("metadata_any", mdAny)
		if xerr != nil {
			return "", nil, false, xerr
		}
		keep = func(e persist.Entry) (bool, error) { return hasAny(e.Metadata, tags), nil }
	}
	return "", keep, false, nil
}

// hasAll reports whether every tag is in md (sorted, as stored).
func hasAll(md, tags []string) bool {
	for _, t := range tags {
		if _, ok := slices.BinarySearch(md, t); !ok {
			return false
		}
	}
	return true
}

func hasAny(md, tags []string) bool {
	for _, t := range tags {
		if _, ok := slices.BinarySearch(md, t); ok {
			return true
		}
	}
	return false
}
