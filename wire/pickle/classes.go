package pickle

import (
	"strings"

	"github.com/pyro4/pyro4/wire"
)

// The few globals the unpickler resolves, and what calling them builds.
// Nothing else can be named: a pickle that refers to any other global is
// refused before anything is built.

const (
	uriClass     = wire.ClassURI
	wrapperClass = wire.ExceptionWrapperClass
)

// Python pickles a URI and an _ExceptionWrapper as instances (NEWOBJ, or
// copyreg._reconstructor at protocols 0 and 1) whose state BUILD sets.
var (
	uriGlobal     = classRef{"Pyro4.core", "URI"}
	wrapperGlobal = classRef{"Pyro4.futures", "_ExceptionWrapper"}
)

// allowedGlobal maps a global to the class the unpickler knows, applying the
// module renames Python 3 applies to Python 2 pickles.
func allowedGlobal(module, name string) (classRef, bool) {
	switch module {
	case "__builtin__", "exceptions":
		module = "builtins"
	case "copy_reg":
		module = "copyreg"
	}
	if module == "builtins" {
		switch name {
		case "StandardError":
			name = "Exception"
		case "EnvironmentError", "IOError":
			// aliases: the class itself is OSError
			name = "OSError"
		}
	}
	ok := false
	switch module {
	case "builtins":
		switch name {
		case "set", "frozenset", "complex", "bytearray", "bytes", "object":
			ok = true
		default:
			ok = wire.IsBuiltinException(name)
		}
	case "_codecs":
		ok = name == "encode"
	case "copyreg":
		ok = name == "_reconstructor"
	case "Pyro4.core":
		ok = name == "URI"
	case "Pyro4.futures":
		ok = name == "_ExceptionWrapper"
	case "Pyro4.errors":
		ok = wire.IsPyroErrorClass(name)
	}
	return classRef{module, name}, ok
}

func (c classRef) isException() bool {
	switch c.module {
	case "builtins":
		return wire.IsBuiltinException(c.name)
	case "Pyro4.errors":
		return true
	}
	return false
}

func (u *unpickler) global(op byte) error {
	var module, name string
	if op == opGlobal {
		var err error
		if module, err = u.line(); err != nil {
			return err
		}
		if name, err = u.line(); err != nil {
			return err
		}
	} else {
		mv, nv, err := u.pop2()
		if err != nil {
			return err
		}
		var ok1, ok2 bool
		name, ok1 = nv.(string)
		module, ok2 = mv.(string)
		if !ok1 || !ok2 {
			return u.errorf("STACK_GLOBAL requires str")
		}
	}
	c, ok := allowedGlobal(module, name)
	if !ok {
		return u.errorf("global '%s.%s' is forbidden", wire.Truncate(module, 60), wire.Truncate(name, 60))
	}
	u.push(c)
	return nil
}

// call executes REDUCE, NEWOBJ and NEWOBJ_EX.
func (u *unpickler) call(op byte) error {
	if op == opNewObjEx {
		kw, err := u.pop()
		if err != nil {
			return err
		}
		if d, ok := kw.(*dictObj); !ok || len(d.keys) != 0 {
			return u.errorf("NEWOBJ_EX with keyword arguments is not supported")
		}
	}
	cv, av, err := u.pop2()
	if err != nil {
		return err
	}
	cls, ok := cv.(classRef)
	if !ok {
		return u.errorf("cannot call a %s", typeName(cv))
	}
	args, ok := av.(*tupleObj)
	if !ok {
		return u.errorf("arguments of %s must be a tuple, not %s", cls, typeName(av))
	}
	var v any
	switch {
	case cls.isException():
		v = &instance{class: cls.String(), args: args.items}
	case cls == uriGlobal && op != opReduce:
		v = &instance{class: uriClass}
	case cls == wrapperGlobal && op != opReduce:
		if len(args.items) != 0 {
			return u.errorf("%s takes no NEWOBJ arguments", cls)
		}
		v = &instance{class: wrapperClass}
	case op == opReduce:
		v, err = u.reduce(cls, args.items)
	default:
		err = u.errorf("cannot create %s with NEWOBJ", cls)
	}
	if err != nil {
		return err
	}
	u.push(v)
	return nil
}

// reduce calls one of the builtins and helpers that pickles use for values.
func (u *unpickler) reduce(cls classRef, args []any) (any, error) {
	switch cls.String() {
	case "builtins.set", "builtins.frozenset":
		return u.newSet(cls.name == "frozenset", args)
	case "builtins.complex":
		return newComplex(args)
	case "builtins.bytes", "builtins.bytearray":
		switch {
		case len(args) == 0:
			return []byte{}, nil
		case len(args) == 1:
			if b, ok := args[0].([]byte); ok {
				return b, nil
			}
		case len(args) == 2:
			return u.latin1(args)
		}
	case "_codecs.encode":
		return u.latin1(args)
	case "copyreg._reconstructor":
		// protocol 0 and 1 objects: _reconstructor(cls, object, None), then BUILD
		if len(args) == 3 && args[1] == (classRef{"builtins", "object"}) && args[2] == nil {
			switch args[0] {
			case uriGlobal:
				return &instance{class: uriClass}, nil
			case wrapperGlobal:
				return &instance{class: wrapperClass}, nil
			}
		}
	case uriClass:
		if len(args) == 1 {
			if s, ok := args[0].(string); ok {
				uri, err := wire.ParseURI(s)
				if err != nil {
					return nil, u.errorf("Pyro4.core.URI(%q): %v", wire.Truncate(s, 80), err)
				}
				state := uri.Value().(*wire.Dict).Items[1].Value.(wire.Tuple)
				return &instance{class: uriClass, state: &tupleObj{items: state}}, nil
			}
		}
	}
	return nil, u.errorf("unsupported call %s with %d arguments", cls, len(args))
}

func (u *unpickler) newSet(frozen bool, args []any) (any, error) {
	s := newSetObj(frozen)
	if len(args) == 0 {
		return s, nil
	}
	var items []any
	switch it := args[0].(type) {
	case *listObj:
		items = it.items
	case *tupleObj:
		items = it.items
	case *setObj:
		items = it.items
	}
	if len(args) != 1 || (items == nil && !isEmptySeq(args[0])) {
		return nil, u.errorf("set() argument must be a list, tuple or set")
	}
	if err := u.charge(len(items)); err != nil {
		return nil, err
	}
	for _, it := range items {
		if err := u.addItem(s, it); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func isEmptySeq(v any) bool {
	switch v.(type) {
	case *listObj, *tupleObj, *setObj:
		return true
	}
	return false
}

func newComplex(args []any) (any, error) {
	var parts [2]float64
	if len(args) > 2 {
		return nil, wire.CodecError("pickle", "complex() takes at most 2 arguments")
	}
	for i, a := range args {
		f, ok := wire.ToFloat(a)
		if !ok {
			return nil, wire.CodecError("pickle", "complex() argument must be a number, not %s", typeName(a))
		}
		parts[i] = f
	}
	return complex(parts[0], parts[1]), nil
}

// latin1 builds bytes from (str, "latin1"): Python 3's protocol 2 bytes.
func (u *unpickler) latin1(args []any) (any, error) {
	if len(args) != 2 {
		return nil, u.errorf("encode() takes a str and an encoding")
	}
	s, ok1 := args[0].(string)
	enc, ok2 := args[1].(string)
	switch strings.ToLower(strings.ReplaceAll(enc, "_", "-")) {
	case "latin1", "latin-1", "iso-8859-1", "iso8859-1":
	default:
		ok2 = false
	}
	if !ok1 || !ok2 {
		return nil, u.errorf("only str encoded as latin-1 can make bytes")
	}
	if err := u.charge(len(s)/8 + 1); err != nil {
		return nil, err
	}
	b, ok := wire.UTF8ToLatin1(s)
	if !ok {
		return nil, u.errorf("'latin-1' codec can't encode the str")
	}
	return b, nil
}

// build executes BUILD: __setstate__ of a URI, the __dict__ of an
// _ExceptionWrapper, attributes of an exception.
func (u *unpickler) build() error {
	state, err := u.pop()
	if err != nil {
		return err
	}
	target, err := u.top()
	if err != nil {
		return err
	}
	obj, ok := target.(*instance)
	if !ok {
		return u.errorf("BUILD on a %s is not supported", typeName(target))
	}
	if obj.class == uriClass {
		var n int
		switch s := state.(type) {
		case *tupleObj:
			n = len(s.items)
		case *listObj:
			n = len(s.items)
		}
		if n != 5 {
			return u.errorf("Pyro4.core.URI state must hold 5 items")
		}
		obj.state = state
		return nil
	}
	if obj.class == wrapperClass {
		return u.buildWrapper(obj, state)
	}
	if state == nil {
		return nil
	}
	d, ok := state.(*dictObj)
	if !ok {
		return u.errorf("state is not a dictionary")
	}
	if obj.attrs == nil {
		obj.attrs = newDictObj()
	}
	for i, k := range d.keys {
		if _, isStr := k.(string); !isStr {
			return u.errorf("attribute name must be string, not '%s'", typeName(k))
		}
		if err := u.setItem(obj.attrs, k, d.vals[i]); err != nil {
			return err
		}
	}
	return nil
}

// buildWrapper sets the one attribute of an _ExceptionWrapper, which must be
// an exception the unpickler built.
func (u *unpickler) buildWrapper(obj *instance, state any) error {
	d, ok := state.(*dictObj)
	if !ok || len(d.keys) != 1 || d.keys[0] != "exception" {
		return u.errorf("%s state must be a dict with only 'exception'", wrapperClass)
	}
	exc, ok := d.vals[0].(*instance)
	if !ok || exc.class == uriClass || exc.class == wrapperClass {
		return u.errorf("%s must wrap an exception, not %s", wrapperClass, typeName(d.vals[0]))
	}
	obj.state = exc
	return nil
}

// wrapper completes d, the class dict of an _ExceptionWrapper, with the
// exception's class dict.
func (c *converter) wrapper(o *instance, d *wire.Dict, depth int) (wire.Value, error) {
	if o.state == nil {
		return nil, wire.CodecError("pickle", "%s without an exception", wrapperClass)
	}
	exc, err := c.convert(o.state, depth+1)
	if err != nil {
		return nil, err
	}
	d.Append("exception", exc)
	return d, nil
}
