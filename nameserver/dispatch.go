package nameserver

import "github.com/pyro4/pyro4/wire"

// call binds the arguments to m's signature and runs it; peer is the
// caller's address, for the method's audit.
func (obj *object) call(peer string, m *method, args []wire.Value, kwargs *wire.Dict) (wire.Value, error) {
	bound, err := obj.bind(m, args, kwargs)
	if err != nil {
		return nil, err
	}
	res, err := m.fn(bound)
	if x := storageUnavailable(err); x != nil {
		return nil, x
	}
	if err == nil && m.audit != nil {
		m.audit(peer, bound, res)
	}
	return res, err
}

// batch runs a FLAGS_BATCH request: calls is a sequence of (method, args,
// kwargs). As in Pyro4, the results are collected in a list; the first
// call that raises contributes a wrapped exception and ends the batch,
// while an unknown method or a malformed entry fails the whole request.
func (obj *object) batch(peer string, calls []wire.Value) (wire.Value, error) {
	results := make(wire.List, 0, len(calls))
	for _, c := range calls {
		parts, err := unpack3(c)
		if err != nil {
			return nil, err
		}
		m, err := obj.lookup(parts[0])
		if err != nil {
			return nil, err
		}
		res, err := obj.batchCall(peer, m, parts[1], parts[2])
		if err != nil {
			x := asException(err)
			x = x.WithTraceback(traceback(m.name, x))
			results = append(results, x.WrapperValue())
			break
		}
		results = append(results, res)
	}
	return results, nil
}

func (obj *object) batchCall(peer string, m *method, args, kwargs wire.Value) (wire.Value, error) {
	// qual names the method in error messages only.
	qual := func() string { return obj.module + "." + obj.class + "." + m.name + "()" }
	if _, isStr := args.(string); isStr {
		// iterable in Python (it would spread into characters), never sent by a client
		return nil, typeError("%s argument after * must be an iterable, not str", qual())
	}
	vargs, xerr := items(args)
	if xerr != nil {
		return nil, typeError("%s argument after * must be an iterable, not %s", qual(), typeName(args))
	}
	kw, ok := plainDict(kwargs)
	if !ok {
		return nil, typeError("%s argument after ** must be a mapping, not %s", qual(), typeName(kwargs))
	}
	return obj.call(peer, m, vargs, kw)
}

// unpack3 is Python's "a, b, c = v".
func unpack3(v wire.Value) ([]wire.Value, error) {
	parts, err := items(v)
	if err != nil {
		return nil, typeError("cannot unpack non-iterable %s object", typeName(v))
	}
	switch {
	case len(parts) < 3:
		return nil, valueError("not enough values to unpack (expected 3, got %d)", len(parts))
	case len(parts) > 3:
		return nil, valueError("too many values to unpack (expected 3)")
	}
	return parts, nil
}
