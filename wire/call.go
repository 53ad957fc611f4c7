package wire

// This file is the call layer every codec shares: the forms in which Pyro4's
// serializers send a call (serializeCall and loadsCall), the checks on its
// four parts, the class check on its arguments and the recovery from a
// decoder's panic. A codec only turns values into bytes and back.

// Call is one remote method invocation: what Pyro4's serializeCall packs.
type Call struct {
	Object string
	Method string
	Args   []Value
	Kwargs *Dict // str keys; nil when there are none
}

// CallMarshaler is implemented by codecs that write a call straight into
// their bytes, without the intermediate Tuple MarshalCall builds otherwise.
// MarshalCallTo must return exactly the bytes the generic path gives.
type CallMarshaler interface {
	MarshalCallTo(c Call) ([]byte, error)
}

// MarshalCall encodes c in the form codec's Pyro4 serializer sends it: the
// tuple (object, method, args, kwargs), with the arguments as a list for
// marshal (Pyro4 turns the tuple into a list first) and as an object with
// named parts for json.
func MarshalCall(codec Codec, c Call) ([]byte, error) {
	if m, ok := codec.(CallMarshaler); ok {
		return m.MarshalCallTo(c)
	}
	args, kwargs := CallArgs(c), CallKwargs(c)
	switch codec.ID() {
	case JSONID:
		d := NewDict(4)
		d.Append("object", c.Object)
		d.Append("method", c.Method)
		d.Append("params", args)
		d.Append("kwargs", kwargs)
		return codec.Marshal(d)
	case MarshalID:
		return codec.Marshal(Tuple{c.Object, c.Method, List(args), kwargs})
	}
	return codec.Marshal(Tuple{c.Object, c.Method, args, kwargs})
}

// UnmarshalCall decodes a call as codec's Pyro4 serializer's loadsCall
// reads it, checks its four parts as Pyro4's daemon uses them, and applies
// the class check to its arguments (top down, bottom up for msgpack, none for pickle, as UnmarshalData). A decoder's panic
// becomes an error marked ErrDecoderPanic.
func UnmarshalCall(codec Codec, data []byte) (c Call, err error) {
	name := codec.Name()
	defer RecoverPanic(name, &err)
	v, err := codec.Unmarshal(data)
	if err != nil {
		return Call{}, err
	}
	var parts [4]Value
	if codec.ID() == JSONID {
		parts, err = namedCallParts(name, v)
	} else {
		parts, err = callParts(name, v)
	}
	if err != nil {
		return Call{}, err
	}
	if c, err = callFromValues(name, parts); err != nil {
		return Call{}, err
	}
	if err = checkCallClasses(c, classOrderOf(codec)); err != nil {
		return Call{}, err
	}
	return c, nil
}

// callParts returns the four items of a call decoded as a sequence (Python
// sends a tuple; a list is read the same way).
func callParts(codec string, v Value) (parts [4]Value, err error) {
	seq, ok := Sequence(v)
	if !ok {
		return parts, CodecError(codec, "call must be a (object, method, args, kwargs) tuple, not %s", TypeName(v))
	}
	if len(seq) != 4 {
		return parts, CodecError(codec, "call tuple has %d items, want 4 (object, method, args, kwargs)", len(seq))
	}
	copy(parts[:], seq)
	return parts, nil
}

// namedCallParts returns the four parts of a call json sends as an object.
func namedCallParts(codec string, v Value) (parts [4]Value, err error) {
	d, ok := v.(*Dict)
	if !ok {
		return parts, CodecError(codec, "call must be an object, not %s", TypeName(v))
	}
	for i, k := range [4]string{"object", "method", "params", "kwargs"} {
		if parts[i], ok = d.GetString(k); !ok {
			return parts, CodecError(codec, "call has no %q", k)
		}
	}
	return parts, nil
}

// callFromValues checks the four parts of a decoded call the way Pyro4's
// daemon uses them: str object id and method, a sequence of positional
// arguments, a dict of str-keyed keyword arguments. The messages name the
// method, so that a client's mistake points at the call it made.
func callFromValues(codec string, parts [4]Value) (Call, error) {
	var c Call
	var ok bool
	if c.Object, ok = parts[0].(string); !ok {
		return Call{}, CodecError(codec, "call object id must be a str, not %s", TypeName(parts[0]))
	}
	if c.Method, ok = parts[1].(string); !ok {
		return Call{}, CodecError(codec, "call method name must be a str, not %s", TypeName(parts[1]))
	}
	if c.Args, ok = Sequence(parts[2]); !ok {
		return Call{}, CodecError(codec, "call %s: args must be a tuple or list, not %s", c.Method, TypeName(parts[2]))
	}
	kw, isDict := parts[3].(*Dict)
	if !isDict && parts[3] != nil { // a batch call (Pyro4.batch) sends None
		return Call{}, CodecError(codec, "call %s: kwargs must be a dict, not %s", c.Method, TypeName(parts[3]))
	}
	if kw == nil {
		return c, nil
	}
	for _, it := range kw.Items {
		if _, isStr := it.Key.(string); !isStr {
			return Call{}, CodecError(codec, "call %s: keyword names must be str, not %s", c.Method, TypeName(it.Key))
		}
	}
	if kw.Len() > 0 {
		c.Kwargs = kw
	}
	return c, nil
}

// CallArgs returns the arguments as Python's proxy sends them: a tuple.
func CallArgs(c Call) Tuple {
	if c.Args == nil {
		return Tuple{}
	}
	return Tuple(c.Args)
}

// CallKwargs returns the keyword arguments, an empty dict when there are none.
func CallKwargs(c Call) *Dict {
	if c.Kwargs == nil {
		return NewDict(0)
	}
	return c.Kwargs
}
