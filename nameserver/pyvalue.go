package nameserver

import (
	"strings"

	"github.com/pyro4/pyro4/wire"
)

// This file holds the few pieces of Python semantics the NameServer methods
// depend on: hashability, iteration, and the exceptions Python raises when
// those fail (truthiness is wire.Truthy). Pyro4's NameServer takes its
// arguments untyped, so its observable behaviour includes these rules.

func typeError(format string, a ...any) *wire.Exception {
	return wire.NewException(wire.ClassTypeError, format, a...)
}

func namingError(format string, a ...any) *wire.Exception {
	return wire.NewException(wire.ClassNamingError, format, a...)
}

func valueError(format string, a ...any) *wire.Exception {
	return wire.NewException(wire.ClassValueError, format, a...)
}

func attributeError(format string, a ...any) *wire.Exception {
	return wire.NewException(wire.ClassAttributeError, format, a...)
}

// unhashableArg returns the TypeError Python raises when v, a method's
// argument, is used as a dict key or set member, or nil when v is hashable.
// Its rule is the one after Pyro4 recreated classes: a class dict is the
// object it stands for (a URI, a Proxy, an exception) and hashable; only a
// plain dict, a list or a set is not. wire.UnhashableDecoded is the rule
// before, where every dict is a dict.
func unhashableArg(v wire.Value) *wire.Exception {
	switch x := v.(type) {
	case *wire.Dict:
		if _, isDict := plainDict(x); isDict {
			return typeError("unhashable type: 'dict'")
		}
		// URIs, proxies, exceptions: objects, hashable
	case wire.List, wire.Set:
		return typeError("unhashable type: '%s'", wire.TypeName(v))
	case wire.Tuple:
		for _, it := range x {
			if err := unhashableArg(it); err != nil {
				return err
			}
		}
	}
	return nil
}

// objectClass reports the Python class name of a class dict. The call's
// class check has already refused every class dict Pyro4's dict_to_class
// would refuse, so one that reaches a method is the object Pyro4 would have
// built (a URI, a Proxy, an exception), not a dict.
func objectClass(v wire.Value) (string, bool) {
	d, ok := v.(*wire.Dict)
	if !ok {
		return "", false
	}
	switch c, _ := d.Get("__class__"); x := c.(type) {
	case string:
		return x, true
	case []byte:
		return string(x), true
	}
	return "", false
}

// plainDict returns v as a dict when it is one in Python: a *wire.Dict that
// is not an object's class dict.
func plainDict(v wire.Value) (*wire.Dict, bool) {
	d, ok := v.(*wire.Dict)
	if !ok {
		return nil, false
	}
	if _, isObject := objectClass(d); isObject {
		return nil, false
	}
	return d, true
}

// typeName is Python's type(v).__name__: wire.TypeName, or for an object
// built from a class dict the last part of its class name
// ("Pyro4.core.URI" is a URI).
func typeName(v wire.Value) string {
	if class, ok := objectClass(v); ok {
		return class[strings.LastIndexByte(class, '.')+1:]
	}
	return wire.TypeName(v)
}

// items returns what iterating v yields, or Python's TypeError when v is
// not iterable. A str is iterable in Python, but every caller has refused
// str before it gets here.
func items(v wire.Value) ([]wire.Value, *wire.Exception) {
	switch x := v.(type) {
	case wire.List:
		return x, nil
	case wire.Tuple:
		return x, nil
	case wire.Set:
		return x, nil
	case *wire.Dict:
		d, isDict := plainDict(x)
		if !isDict {
			break // URIs, proxies and exceptions are not iterable
		}
		keys := make([]wire.Value, len(d.Items))
		for i, it := range d.Items {
			keys[i] = it.Key
		}
		return keys, nil
	case []byte:
		ints := make([]wire.Value, len(x))
		for i, b := range x {
			ints[i] = int64(b)
		}
		return ints, nil
	case string:
		chars := make([]wire.Value, 0, len(x))
		for _, r := range x {
			chars = append(chars, string(r))
		}
		return chars, nil
	}
	return nil, typeError("'%s' object is not iterable", typeName(v))
}

// metadataItems checks a metadata argument the way NameServer.register and
// set_metadata do before they look at the name (str refused, falsy means
// none, otherwise iterable) and returns its members, not yet checked.
func metadataItems(param string, v wire.Value) ([]wire.Value, *wire.Exception) {
	if _, ok := v.(string); ok {
		return nil, typeError("%s should not be a str, but another iterable (set, list, etc)", param)
	}
	if !wire.Truthy(v) {
		return nil, nil
	}
	return items(v)
}

// metadataStrings is Pyro4's set(metadata), which it builds only after its
// checks of the name: an unhashable member is Python's TypeError. Pyro4
// would store non-str members in its set; this server keeps metadata as
// strings, so it refuses them with a TypeError too.
func metadataStrings(param string, its []wire.Value) ([]string, *wire.Exception) {
	if its == nil {
		return nil, nil
	}
	out := make([]string, 0, len(its))
	for _, it := range its {
		if err := unhashableArg(it); err != nil {
			return nil, err
		}
		s, ok := it.(string)
		if !ok {
			return nil, typeError("%s items must be str, not %s", param, typeName(it))
		}
		out = append(out, s)
	}
	return out, nil
}

// searchArg is metadataItems and metadataStrings for the metadata_all/metadata_any filters of
// list: there a non-str member is legal Python and simply never matches
// (every stored tag is a str), so it is kept out of the search set and
// reported through hasOther.
func searchArg(param string, v wire.Value) (tags []string, hasOther bool, err *wire.Exception) {
	its, err := metadataItems(param, v)
	if err != nil {
		return nil, false, err
	}
	for _, it := range its {
		if err := unhashableArg(it); err != nil {
			return nil, false, err
		}
		if s, ok := it.(string); ok {
			tags = append(tags, s)
		} else {
			hasOther = true
		}
	}
	return tags, hasOther, nil
}

// concatName is Python's "text" + name, which fails for a non-str name.
func concatName(text string, name wire.Value) *wire.Exception {
	s, ok := name.(string)
	if !ok {
		return typeError("can only concatenate str (not \"%s\") to str", typeName(name))
	}
	return namingError("%s", text+s)
}

// prefixArg turns a prefix argument into the prefixes str.startswith would
// test: a str, or a tuple of str (checked lazily, as Python does, so the
// error only comes when a non-str member is actually reached).
type prefixArg struct {
	prefixes []wire.Value
}

func newPrefixArg(v wire.Value) (prefixArg, *wire.Exception) {
	switch x := v.(type) {
	case string:
		return prefixArg{prefixes: []wire.Value{x}}, nil
	case wire.Tuple:
		return prefixArg{prefixes: x}, nil
	}
	return prefixArg{}, typeError("startswith first arg must be str or a tuple of str, not %s", typeName(v))
}

// single returns the one str prefix when there is exactly one, so that the
// store can seek to it.
func (p prefixArg) single() (string, bool) {
	if len(p.prefixes) != 1 {
		return "", false
	}
	s, ok := p.prefixes[0].(string)
	return s, ok
}

func (p prefixArg) match(name string) (bool, *wire.Exception) {
	for _, v := range p.prefixes {
		s, ok := v.(string)
		if !ok {
			return false, typeError("tuple for startswith must only contain str, not %s", typeName(v))
		}
		if len(name) >= len(s) && name[:len(s)] == s {
			return true, nil
		}
	}
	return false, nil
}
