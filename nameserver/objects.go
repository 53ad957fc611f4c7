package nameserver

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pyro4/pyro4/wire"
)

// An object is what the daemon dispatches to: a Python class as Pyro4 sees
// it, reduced to a fixed table of exposed methods, like the receivers of
// net/rpc. Nothing is looked up by reflection; a method name that is not in
// the table gets the AttributeError Pyro4's util.getAttribute would raise.
type object struct {
	module, class string
	methods       map[string]*method
	// unexposed are the public (non-underscore) attributes of an instance
	// that are not exposed methods: getAttribute refuses them with
	// "attempt to access unexposed attribute".
	unexposed []string
	// classAttrs is dir() of the class, for the __getattr__/__setattr__
	// property protocol, which looks names up on the class.
	classAttrs []string
}

// method is one exposed method: its Python signature (without self), for
// binding arguments with CPython's rules and messages, and its body, a
// method value bound to the object's own receiver (net/rpc's service.rcvr):
// it sees what that object needs, never the whole server.
type method struct {
	name   string
	params []param
	fn     func(args []wire.Value) (wire.Value, error)
	// audit, when set, is told of each call that succeeded: who called,
	// with which bound arguments, and the result.
	audit func(peer string, args []wire.Value, result wire.Value)
}

type param struct {
	name     string
	def      wire.Value
	optional bool
}

func opt(name string, def wire.Value) param { return param{name: name, def: def, optional: true} }
func req(name string) param                 { return param{name: name} }

// objectDunders is dir(object) plus what a plain class adds: the names every
// exposed Pyro class answers to on the class itself.
var objectDunders = []string{
	"__class__", "__delattr__", "__dict__", "__dir__", "__doc__", "__eq__", "__format__", "__ge__",
	"__getattribute__", "__getstate__", "__gt__", "__hash__", "__init__", "__init_subclass__", "__le__",
	"__lt__", "__module__", "__ne__", "__new__", "__reduce__", "__reduce_ex__", "__repr__", "__setattr__",
	"__sizeof__", "__str__", "__subclasshook__", "__weakref__", "_pyroExposed",
}

func newObject(module, class string, instanceAttrs []string, methods ...*method) *object {
	o := &object{module: module, class: class, methods: map[string]*method{}}
	o.unexposed = append([]string{"__dict__", "__doc__"}, instanceAttrs...)
	o.classAttrs = slices.Clone(objectDunders)
	for _, m := range methods {
		o.methods[m.name] = m
		o.classAttrs = append(o.classAttrs, m.name)
	}
	return o
}

// methodNames returns the exposed method names, sorted (Pyro4 sends a set,
// whose order is arbitrary).
func (o *object) methodNames() []string {
	names := make([]string, 0, len(o.methods))
	for n := range o.methods {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// metadata is what DaemonObject.get_metadata returns for the object.
func (o *object) metadata(asLists bool) *wire.Dict {
	names := o.methodNames()
	d := wire.NewDict(3)
	if asLists {
		d.Append("methods", wire.StrList(names))
		d.Append("oneway", wire.List{})
		d.Append("attrs", wire.List{})
	} else {
		d.Append("methods", wire.Set(wire.StrList(names)))
		d.Append("oneway", wire.Set{})
		d.Append("attrs", wire.Set{})
	}
	return d
}

// privateDunders is Pyro4's util._private_dunder_methods.
var privateDunders = map[string]bool{
	"__init__": true, "__init_subclass__": true, "__class__": true, "__module__": true, "__weakref__": true,
	"__call__": true, "__new__": true, "__del__": true, "__repr__": true, "__unicode__": true,
	"__str__": true, "__format__": true, "__nonzero__": true, "__bool__": true, "__coerce__": true,
	"__cmp__": true, "__eq__": true, "__ne__": true, "__hash__": true, "__ge__": true, "__gt__": true, "__le__": true, "__lt__": true,
	"__dir__": true, "__enter__": true, "__exit__": true, "__copy__": true, "__deepcopy__": true, "__sizeof__": true,
	"__getattr__": true, "__setattr__": true, "__hasattr__": true, "__getattribute__": true, "__delattr__": true,
	"__instancecheck__": true, "__subclasscheck__": true, "__getinitargs__": true, "__getnewargs__": true,
	"__getstate__": true, "__setstate__": true, "__reduce__": true, "__reduce_ex__": true,
	"__getstate_for_dict__": true, "__setstate_from_dict__": true, "__subclasshook__": true,
}

// isPrivate is Pyro4's util.is_private_attribute.
func isPrivate(name string) bool {
	if privateDunders[name] {
		return true
	}
	if !strings.HasPrefix(name, "_") {
		return false
	}
	return !(len(name) > 4 && strings.HasPrefix(name, "__") && strings.HasSuffix(name, "__"))
}

// lookup resolves a method name the way util.getAttribute does.
func (o *object) lookup(name wire.Value) (*method, error) {
	s, ok := name.(string)
	if !ok {
		return nil, attributeError("'%s' object has no attribute 'startswith'", typeName(name))
	}
	return o.methodNamed(s)
}

// methodNamed is lookup for a name already known to be a str: boxing it into a
// Value would cost an allocation per request.
func (o *object) methodNamed(s string) (*method, error) {
	if isPrivate(s) {
		return nil, attributeError("attempt to access private attribute '%s'", s)
	}
	if m, ok := o.methods[s]; ok {
		return m, nil
	}
	if slices.Contains(o.unexposed, s) {
		return nil, attributeError("attempt to access unexposed attribute '%s'", s)
	}
	return nil, attributeError("'%s' object has no attribute '%s'", o.class, s)
}

// property answers the __getattr__/__setattr__ calls a proxy makes for
// remote attributes. These objects expose no properties, so every name is
// refused, with the message Pyro4 gives for it.
func (o *object) property(args []wire.Value) error {
	if len(args) == 0 {
		return &wire.Exception{Class: wire.ClassIndexError, Message: "tuple index out of range"}
	}
	s, ok := args[0].(string)
	if !ok {
		return typeError("attribute name must be string, not '%s'", typeName(args[0]))
	}
	if slices.Contains(o.classAttrs, s) {
		return attributeError("attempt to access unexposed or unknown remote attribute '%s'", s)
	}
	return attributeError("type object '%s' has no attribute '%s'", o.class, s)
}

// bind matches positional and keyword arguments to m's parameters with
// CPython 3.11's rules, producing its TypeError messages: keywords first (an
// unknown keyword, or one already given positionally), then too many
// positional arguments, then missing required ones. Defaults fill the rest.
func (o *object) bind(m *method, args []wire.Value, kwargs *wire.Dict) ([]wire.Value, error) {
	// qual names the method in error messages only: built on the error
	// paths, it costs the lookups nothing.
	qual := func() string { return o.class + "." + m.name + "()" }
	bound := make([]wire.Value, len(m.params))
	var setBuf [8]bool // no allocation for the signatures here
	set := setBuf[:0]
	if len(m.params) <= len(setBuf) {
		set = setBuf[:len(m.params)]
	} else {
		set = make([]bool, len(m.params))
	}
	for i := 0; i < len(args) && i < len(bound); i++ {
		bound[i], set[i] = args[i], true
	}
	for _, it := range dictItems(kwargs) {
		k, ok := it.Key.(string)
		if !ok {
			return nil, typeError("keywords must be strings")
		}
		idx := slices.IndexFunc(m.params, func(p param) bool { return p.name == k })
		if idx < 0 {
			return nil, typeError("%s got an unexpected keyword argument '%s'", qual(), k)
		}
		if set[idx] {
			return nil, typeError("%s got multiple values for argument '%s'", qual(), k)
		}
		bound[idx], set[idx] = it.Value, true
	}
	if len(args) > len(m.params) {
		return nil, tooManyPositional(qual(), m.params, len(args))
	}
	var missing []string
	for i, p := range m.params {
		switch {
		case set[i]:
		case p.optional:
			bound[i] = p.def
		default:
			missing = append(missing, "'"+p.name+"'")
		}
	}
	if len(missing) > 0 {
		return nil, typeError("%s missing %d required positional argument%s: %s",
			qual(), len(missing), plural(len(missing)), joinNames(missing))
	}
	return bound, nil
}

func tooManyPositional(qual string, params []param, given int) error {
	total, required := len(params)+1, 1 // self counts, as in CPython's message
	for _, p := range params {
		if !p.optional {
			required++
		}
	}
	takes := fmt.Sprintf("%d positional argument%s", total, plural(total))
	if required != total {
		takes = fmt.Sprintf("from %d to %d positional arguments", required, total)
	}
	return typeError("%s takes %s but %d were given", qual, takes, given+1)
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// joinNames joins like CPython: 'a', 'a' and 'b', 'a', 'b', and 'c'.
func joinNames(names []string) string {
	switch len(names) {
	case 1:
		return names[0]
	case 2:
		return names[0] + " and " + names[1]
	}
	return strings.Join(names[:len(names)-1], ", ") + ", and " + names[len(names)-1]
}

func dictItems(d *wire.Dict) []wire.DictItem {
	if d == nil {
		return nil
	}
	return d.Items
}
