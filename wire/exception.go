package wire

import (
	"fmt"
	"strings"
)

// Class names of the exceptions the name server, the class check and the
// client tools raise or relay. Code names a class by these constants, never
// by a literal.
const (
	ClassPyroError            = "Pyro4.errors.PyroError"
	ClassCommunicationError   = "Pyro4.errors.CommunicationError"
	ClassConnectionClosed     = "Pyro4.errors.ConnectionClosedError"
	ClassTimeoutError         = "Pyro4.errors.TimeoutError"
	ClassProtocolError        = "Pyro4.errors.ProtocolError"
	ClassMessageTooLargeError = "Pyro4.errors.MessageTooLargeError"
	ClassNamingError          = "Pyro4.errors.NamingError"
	ClassDaemonError          = "Pyro4.errors.DaemonError"
	ClassSecurityError        = "Pyro4.errors.SecurityError"
	ClassSerializeError       = "Pyro4.errors.SerializeError"
	ClassTypeError            = "builtins.TypeError"
	ClassValueError           = "builtins.ValueError"
	ClassAttributeError       = "builtins.AttributeError"
	ClassKeyError             = "builtins.KeyError"
	ClassIndexError           = "builtins.IndexError"
	ClassEOFError             = "builtins.EOFError"
	ClassUnicodeDecodeError   = "builtins.UnicodeDecodeError"
	ClassUnicodeEncodeError   = "builtins.UnicodeEncodeError"
	ClassBinasciiError        = "binascii.Error"
)

// Exception is a Python exception as Pyro4 serializes it: a class name, the
// args tuple and the instance attributes (where the remote traceback lives).
// It is also a Go error, so the server returns it and the client receives it.
type Exception struct {
	Class string // module-qualified, e.g. "Pyro4.errors.NamingError"
	// Message is the single str argument most exceptions carry. When Args is
	// nil, the exception's args are (Message,).
	Message    string
	Args       Tuple
	Attributes *Dict
}

// NewException returns an exception of class with a single message argument.
func NewException(class, format string, a ...any) *Exception {
	msg := format
	if len(a) > 0 {
		msg = fmt.Sprintf(format, a...)
	}
	return &Exception{Class: class, Message: msg}
}

// ShortClass is the class name without its module ("NamingError").
func (e *Exception) ShortClass() string {
	for i := len(e.Class) - 1; i >= 0; i-- {
		if e.Class[i] == '.' {
			return e.Class[i+1:]
		}
	}
	return e.Class
}

// Error formats like Python's str(exception) prefixed with the class:
// "NamingError: unknown name: x".
func (e *Exception) Error() string {
	return e.ShortClass() + ": " + e.Text()
}

// Text is str(exception) in Python: "" without arguments, str() of a single
// argument (repr() for KeyError, as Python's KeyError.__str__ does), and
// repr() of the args tuple otherwise.
func (e *Exception) Text() string {
	args := e.args()
	if s, ok := unicodeErrorText(e.Class, args); ok {
		return s
	}
	switch len(args) {
	case 0:
		return ""
	case 1:
		if s, ok := args[0].(string); ok && e.Class != ClassKeyError {
			return s
		}
		return Repr(args[0])
	}
	return Repr(args)
}

// unicodeErrorText is str() of a UnicodeDecodeError or UnicodeEncodeError
// made from its five args (encoding, object, start, end, reason).
func unicodeErrorText(class string, args Tuple) (string, bool) {
	if class != ClassUnicodeDecodeError && class != ClassUnicodeEncodeError || len(args) != 5 {
		return "", false
	}
	enc, ok1 := args[0].(string)
	start, ok2 := args[2].(int64)
	end, ok3 := args[3].(int64)
	reason, ok4 := args[4].(string)
	if !ok1 || !ok2 || !ok3 || !ok4 || start < 0 || end <= start {
		return "", false
	}
	if end > start+1 {
		verb := "decode bytes"
		if class == ClassUnicodeEncodeError {
			verb = "encode characters"
		}
		return fmt.Sprintf("'%s' codec can't %s in position %d-%d: %s", enc, verb, start, end-1, reason), true
	}
	switch obj := args[1].(type) {
	case []byte:
		if class == ClassUnicodeDecodeError && start < int64(len(obj)) {
			return fmt.Sprintf("'%s' codec can't decode byte 0x%02x in position %d: %s", enc, obj[start], start, reason), true
		}
	case string:
		if r := CodePoints(obj); class == ClassUnicodeEncodeError && start < int64(len(r)) {
			return fmt.Sprintf("'%s' codec can't encode character '%s' in position %d: %s", enc,
				pyCharEscape(r[start]), start, reason), true
		}
	}
	return "", false
}

// pyCharEscape is how UnicodeEncodeError.__str__ writes the character.
func pyCharEscape(r rune) string {
	switch {
	case r < 0x100:
		return fmt.Sprintf("\\x%02x", r)
	case r < 0x10000:
		return fmt.Sprintf("\\u%04x", r)
	}
	return fmt.Sprintf("\\U%08x", r)
}

func (e *Exception) args() Tuple {
	if e.Args != nil {
		return e.Args
	}
	return Tuple{e.Message}
}

// Traceback returns the remote traceback lines ("_pyroTraceback"), if any.
func (e *Exception) Traceback() []string {
	v, _ := e.Attributes.GetString("_pyroTraceback")
	lines, _ := Strings(v)
	return lines
}

// WithTraceback returns a copy carrying the given remote traceback lines,
// the way a Pyro4 daemon attaches one to every error reply.
func (e *Exception) WithTraceback(lines []string) *Exception {
	c := *e
	c.Attributes = NewDict(1)
	if e.Attributes != nil {
		c.Attributes.Items = append(c.Attributes.Items, e.Attributes.Items...)
	}
	c.Attributes.Set("_pyroTraceback", StrList(lines))
	return &c
}

// Value is the class-dict form in which Pyro4 serializes the exception.
func (e *Exception) Value() Value {
	d := NewDict(4)
	d.Append("__class__", e.Class)
	d.Append("__exception__", true)
	d.Append("args", e.args())
	attrs := e.Attributes
	if attrs == nil {
		attrs = NewDict(0)
	}
	d.Append("attributes", attrs)
	return d
}

// ExceptionWrapperClass is Pyro4.futures._ExceptionWrapper, which carries
// the exception that ended a batch call among the batch's results.
const ExceptionWrapperClass = "Pyro4.futures._ExceptionWrapper"

// WrapperValue is the class-dict form of the _ExceptionWrapper around e, as
// a Pyro4 daemon puts it among batch results.
func (e *Exception) WrapperValue() Value {
	d := NewDict(2)
	d.Append("__class__", ExceptionWrapperClass)
	d.Append("exception", e.Value())
	return d
}

// UnwrapException returns what an _ExceptionWrapper class dict carries
// (normally an exception class dict); ok is false when v is not one.
func UnwrapException(v Value) (wrapped Value, ok bool) {
	d, isDict := v.(*Dict)
	if !isDict {
		return nil, false
	}
	if c, _ := d.GetString("__class__"); c != ExceptionWrapperClass {
		return nil, false
	}
	wrapped, _ = d.GetString("exception")
	return wrapped, true
}

// ExceptionFromValue recognises an exception class dict the way Pyro4's
// dict_to_class does: a "Pyro4.errors." class by its name alone, any other
// class when "__exception__" is true (Python truth). Args may arrive as a
// tuple or (json, msgpack) a list. An exception with exactly one str
// argument comes back with Message set and Args nil.
func ExceptionFromValue(v Value) (*Exception, bool) {
	d, ok := v.(*Dict)
	if !ok {
		return nil, false
	}
	class, _ := d.GetString("__class__")
	name, ok := class.(string)
	if !ok {
		return nil, false
	}
	if flag, _ := d.GetString("__exception__"); !strings.HasPrefix(name, "Pyro4.errors.") && !Truthy(flag) {
		return nil, false
	}
	e := &Exception{Class: name}
	args, _ := d.GetString("args")
	if items, ok := Sequence(args); ok {
		e.Args = items
	}
	if len(e.Args) == 1 {
		if s, ok := e.Args[0].(string); ok {
			e.Message, e.Args = s, nil
		}
	} else if e.Args == nil {
		e.Args = Tuple{}
	}
	if attrs, ok := d.GetString("attributes"); ok {
		e.Attributes, _ = attrs.(*Dict)
	}
	return e, true
}
