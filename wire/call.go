package wire

// This file holds the call layout every codec shares: Pyro4's
// serializeCall sends (object, method, args, kwargs), as a 4-item sequence
// in every serializer but json, which names the four parts.

// callFromSequence checks a call decoded as a 4-item sequence.
func callFromSequence(codec string, v Value) (Call, error) {
	parts, err := callParts(codec, v)
	if err != nil {
		return Call{}, err
	}
	return callFromValues(codec, parts[0], parts[1], parts[2], parts[3])
}

// callParts returns the four items of a call decoded as a sequence (Python
// sends a tuple; a list is read the same way).
func callParts(codec string, v Value) ([]Value, error) {
	parts, ok := sequence(v)
	if !ok {
		return nil, codecErr(codec, "call must be a (object, method, args, kwargs) tuple, not %s", TypeName(v))
	}
	if len(parts) != 4 {
		return nil, codecErr(codec, "call tuple has %d items, want 4 (object, method, args, kwargs)", len(parts))
	}
	return parts, nil
}

// callFromValues checks the four parts of a decoded call the way Pyro4's
// daemon uses them: str object id and method, a sequence of positional
// arguments, a dict of str-keyed keyword arguments.
func callFromValues(codec string, obj, method, args, kwargs Value) (Call, error) {
	var c Call
	var ok bool
	if c.Object, ok = obj.(string); !ok {
		return Call{}, codecErr(codec, "call object id must be a str, not %s", TypeName(obj))
	}
	if c.Method, ok = method.(string); !ok {
		return Call{}, codecErr(codec, "call method name must be a str, not %s", TypeName(method))
	}
	if c.Args, ok = sequence(args); !ok {
		return Call{}, codecErr(codec, "call arguments must be a list or tuple, not %s", TypeName(args))
	}
	kw, isDict := kwargs.(*Dict)
	if !isDict && kwargs != nil { // a batch call (Pyro4.batch) sends None
		return Call{}, codecErr(codec, "call keyword arguments must be a dict, not %s", TypeName(kwargs))
	}
	if kw == nil {
		return c, nil
	}
	for _, it := range kw.Items {
		if _, isStr := it.Key.(string); !isStr {
			return Call{}, codecErr(codec, "keywords must be strings, not %s", TypeName(it.Key))
		}
	}
	if kw.Len() > 0 {
		c.Kwargs = kw
	}
	return c, nil
}

// callArgs returns the arguments as Python's proxy sends them: a tuple.
func callArgs(c Call) Tuple {
	if c.Args == nil {
		return Tuple{}
	}
	return Tuple(c.Args)
}

// callKwargs returns the keyword arguments, an empty dict when there are none.
func callKwargs(c Call) *Dict {
	if c.Kwargs == nil {
		return NewDict(0)
	}
	return c.Kwargs
}
