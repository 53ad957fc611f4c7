package wire

import (
	"strings"
)

// This file is Pyro4's SerializerBase.dict_to_class as a check. A Pyro4
// server turns every dict with a "__class__" key among a call's arguments
// into an object and refuses the classes it does not know, so a client that
// sends its own class instance gets SerializeError("unsupported serialized
// class: ...") before any method runs. The name server needs none of those
// objects: the check only decides, raising what Pyro4 raises, and the dicts
// stay dicts in the Value model.
//
// Not modelled: the constructor checks of particular exception classes
// (UnicodeDecodeError wants 5 arguments, an ExceptionGroup a message and
// exception objects, which a top-down check never has) and the special attributes whose
// setters refuse some values (__traceback__, __cause__); where msgpack's
// bottom-up order has an inner object replace its dict before the outer
// dict is looked at, the outer dict is still checked as if it held the dict.

// classOrder is the order in which a serializer's Pyro4 loads meets the
// class dicts of a value.
type classOrder uint8

const (
	classesTopDown   classOrder = iota // recreate_classes (serpent, json, marshal): no look inside a dict it rebuilds
	classesBottomUp                    // msgpack's object_hook, which runs as each map ends
	classesUnchecked                   // pickle's own loads (our unpickler builds only known classes anyway)
)

// classOrderOf returns the order of codec's Pyro4 serializer.
func classOrderOf(codec Codec) classOrder {
	switch codec.ID() {
	case PickleID:
		return classesUnchecked
	case MsgpackID:
		return classesBottomUp
	}
	return classesTopDown
}

// CheckCallClasses applies the class check to a call's arguments as codec's
// Pyro4 serializer does. UnmarshalCall has applied it already; this is the
// verdict on its own, for a call built otherwise.
func CheckCallClasses(codec Codec, c Call) error { return checkCallClasses(c, classOrderOf(codec)) }

// checkCallClasses applies the check to a call's arguments the way the
// codec's Pyro4 serializer meets the dicts.
func checkCallClasses(c Call, order classOrder) error {
	if order == classesUnchecked {
		return nil
	}
	for _, a := range c.Args {
		if err := checkClasses(a, order == classesBottomUp); err != nil {
			return err
		}
	}
	if c.Kwargs == nil {
		return nil
	}
	return checkClasses(c.Kwargs, order == classesBottomUp)
}

// UnmarshalData is codec's Unmarshal followed by the class check its Pyro4
// serializer's loads applies, for the data other than calls that Pyro4
// recreates classes in, such as a handshake: top down for serpent, json and
// marshal, bottom up for msgpack (as UnmarshalCall), none for pickle, whose
// loads is pickle's own (our unpickler builds only known classes anyway).
func UnmarshalData(codec Codec, data []byte) (Value, error) {
	v, err := codec.Unmarshal(data)
	if err != nil {
		return nil, err
	}
	switch classOrderOf(codec) {
	case classesUnchecked:
		return v, nil
	case classesBottomUp:
		err = checkClasses(v, true)
	default:
		err = checkClasses(v, false)
	}
	if err != nil {
		return nil, err
	}
	return v, nil
}

func checkClasses(v Value, bottomUp bool) error {
	if d, ok := v.(*Dict); ok {
		return checkDictClasses(d, bottomUp)
	}
	items, _ := Sequence(v)
	if s, ok := v.(Set); ok {
		items = s
	}
	for _, it := range items {
		if err := checkClasses(it, bottomUp); err != nil {
			return err
		}
	}
	return nil
}

// checkDictClasses checks a dict and the values in it; keys are never
// recreated by Pyro4.
func checkDictClasses(d *Dict, bottomUp bool) error {
	_, isClass := d.GetString("__class__")
	if isClass && !bottomUp {
		return dictToClass(d)
	}
	for _, it := range d.Items {
		if err := checkClasses(it.Value, bottomUp); err != nil {
			return err
		}
	}
	if isClass {
		return dictToClass(d)
	}
	return nil
}

// dictToClass decides a class dict as Pyro4's dict_to_class does, in its
// order: the class name, double underscores, then the known classes.
func dictToClass(d *Dict) error {
	cv, _ := d.GetString("__class__")
	name, err := className(cv)
	if err != nil {
		return err
	}
	if strings.Contains(name, "__") {
		return &Exception{Class: ClassSecurityError,
			Message: "refused to deserialize types with double underscores in their name: " + name}
	}
	switch {
	case strings.HasPrefix(name, "Pyro4.core."):
		switch name {
		case ClassURI:
			return checkURIState(d)
		case ClassProxy:
			return checkProxyState(d)
		case ClassDaemon:
			_, err := classField(d, "state")
			return err
		}
	case strings.HasPrefix(name, "Pyro4.util."):
		if pyro4Serializers[strings.TrimPrefix(name, "Pyro4.util.")] {
			return nil
		}
	case strings.HasPrefix(name, "Pyro4.errors."):
		short := strings.TrimPrefix(name, "Pyro4.errors.")
		if !IsPyroErrorClass(short) {
			return noAttribute("Pyro4.errors", short)
		}
		return checkException(name, d)
	case name == ExceptionWrapperClass:
		ex, err := classField(d, "exception")
		if err != nil {
			return err
		}
		if exd, ok := ex.(*Dict); ok {
			if _, isClass := exd.GetString("__class__"); isClass {
				return dictToClass(exd)
			}
		}
		return nil
	default:
		if flag, _ := d.GetString("__exception__"); Truthy(flag) {
			return checkNamedException(name, d)
		}
	}
	return unsupportedClass(name)
}

func unsupportedClass(name string) error {
	return &Exception{Class: ClassSerializeError, Message: "unsupported serialized class: " + name}
}

// pyro4Serializers are the Pyro4.util classes dict_to_class builds.
var pyro4Serializers = nameSet("SerpentSerializer", "PickleSerializer", "MarshalSerializer", "JsonSerializer",
	"MsgpackSerializer", "CloudpickleSerializer", "DillSerializer")

// className reads "__class__" as dict_to_class uses it: a str, or bytes
// decoded as UTF-8. Any other value fails in the first operation Python
// applies to it: the registry lookup hashes it, `"__" in` iterates it,
// .startswith does not exist on a tuple.
func className(v Value) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case []byte:
		return decodeUTF8(x)
	case List, Set, *Dict:
		return "", pyTypeError("unhashable type: '%s'", TypeName(v))
	case Tuple:
		if t := UnhashableDecoded(x); t != "" {
			return "", pyTypeError("unhashable type: '%s'", t)
		}
		for _, it := range x {
			if s, ok := it.(string); ok && s == "__" {
				return "", pyTypeError(`can only concatenate str (not "tuple") to str`)
			}
		}
		return "", noMember(x, "startswith")
	}
	return "", pyTypeError("argument of type '%s' is not iterable", TypeName(v))
}

// checkNamedException is the "__exception__" branch: a bare name Pyro4
// knows (ValueError, NamingError), else module.name for builtins (Python
// 2's "exceptions" too) and sqlite3's errors.
func checkNamedException(name string, d *Dict) error {
	if IsPyroErrorClass(name) { // Pyro4's TimeoutError shadows the builtin
		return checkException("Pyro4.errors."+name, d)
	}
	if IsBuiltinException(name) || exceptionGroups[name] {
		return checkException("builtins."+name, d)
	}
	namespace, short, ok := strings.Cut(name, ".")
	if !ok {
		return pyValueError("not enough values to unpack (expected 2, got 1)")
	}
	switch namespace {
	case "builtins", "exceptions":
		switch {
		case IsBuiltinException(short) || exceptionGroups[short]:
			return checkException("builtins."+short, d)
		case builtinTypes[short]:
			return unsupportedClass(name)
		case builtinObjects[short]:
			return pyTypeError("issubclass() arg 1 must be a class")
		}
		return noAttribute("builtins", short)
	case "sqlite3":
		if !strings.HasSuffix(short, "Error") {
			break
		}
		if !sqliteErrors[short] {
			return noAttribute("sqlite3", short)
		}
		return checkException("sqlite3."+short, d)
	}
	return unsupportedClass(name)
}

// checkException is make_exception: the class is called with *args, then
// every attribute is set on the instance.
func checkException(class string, d *Dict) error {
	args, err := classField(d, "args")
	if err != nil {
		return err
	}
	if _, iterable := pyIterLen(args); !iterable {
		fn := strings.TrimPrefix(class, "builtins.")
		return pyTypeError("%s() argument after * must be an iterable, not %s", fn, TypeName(args))
	}
	attrs, ok := d.GetString("attributes")
	if !ok {
		return nil
	}
	ad, isDict := attrs.(*Dict)
	if !isDict {
		return noMember(attrs, "items")
	}
	for _, it := range ad.Items {
		name, isStr := it.Key.(string)
		if !isStr {
			return pyTypeError("attribute name must be string, not '%s'", TypeName(it.Key))
		}
		if _, iterable := pyIterLen(it.Value); name == "args" && !iterable {
			return pyTypeError("'%s' object is not iterable", TypeName(it.Value))
		}
	}
	return nil
}

// classField is data[key] on a class dict: a missing key is a KeyError.
func classField(d *Dict, key string) (Value, error) {
	v, ok := d.GetString(key)
	if !ok {
		return nil, &Exception{Class: ClassKeyError, Message: key}
	}
	return v, nil
}

// exceptionGroups are the builtin exceptions Pyro4's all_exceptions has
// but the pickle codec does not build (their constructor is not args-only).
var exceptionGroups = nameSet("BaseExceptionGroup", "ExceptionGroup")

// sqliteErrors are the exception classes of Python 3.11's sqlite3 module.
var sqliteErrors = nameSet("DataError", "DatabaseError", "Error", "IntegrityError", "InterfaceError",
	"InternalError", "NotSupportedError", "OperationalError", "ProgrammingError")

// builtinTypes are Python 3.11's builtin classes that are not exceptions:
// dict_to_class finds them, sees they are no exception and refuses them.
var builtinTypes = nameSet("bool", "bytearray", "bytes", "classmethod", "complex", "dict", "enumerate", "filter",
	"float", "frozenset", "int", "list", "map", "memoryview", "object", "property", "range", "reversed", "set",
	"slice", "staticmethod", "str", "super", "tuple", "type", "zip")

// builtinObjects are the other builtins of a pyro4-ns process (functions,
// constants and the site module's helpers): issubclass refuses them. Names
// with double underscores never get this far.
var builtinObjects = nameSet("Ellipsis", "False", "None", "NotImplemented", "True", "abs", "aiter", "all", "anext",
	"any", "ascii", "bin", "breakpoint", "callable", "chr", "compile", "copyright", "credits", "delattr", "dir",
	"divmod", "eval", "exec", "exit", "format", "getattr", "globals", "hasattr", "hash", "help", "hex", "id",
	"input", "isinstance", "issubclass", "iter", "len", "license", "locals", "max", "min", "next", "oct", "open",
	"ord", "pow", "print", "quit", "repr", "round", "setattr", "sorted", "sum", "vars")
