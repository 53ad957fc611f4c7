package pickle

import (
	"github.com/pyro4/pyro4/wire"
)

// After STOP the unpickler's result is converted into the value model once,
// sharing converted containers, refusing cycles, and charging every
// expansion to NodeBudget.

type converted struct {
	v    wire.Value
	size int
	busy bool
}

type converter struct {
	done   map[any]converted
	nodes  int
	budget int
}

func (c *converter) charge(n int) error {
	c.nodes += n
	if c.nodes > c.budget {
		return wire.CodecError("pickle", "value expands beyond %d units", c.budget)
	}
	return nil
}

func (c *converter) convert(x any, depth int) (wire.Value, error) {
	if depth > wire.MaxDepth {
		return nil, wire.CodecError("pickle", "value nested deeper than %d", wire.MaxDepth)
	}
	switch o := x.(type) {
	case *listObj, *tupleObj, *dictObj, *setObj, *instance:
		if e, seen := c.done[x]; seen {
			if e.busy {
				return nil, wire.CodecError("pickle", "recursive %s is not supported", typeName(x))
			}
			return e.v, c.charge(e.size)
		}
		c.done[x] = converted{busy: true}
		start := c.nodes
		if err := c.charge(1); err != nil {
			return nil, err
		}
		v, err := c.container(x, depth)
		if err != nil {
			return nil, err
		}
		c.done[x] = converted{v: v, size: c.nodes - start}
		return v, nil
	case classRef:
		return nil, wire.CodecError("pickle", "class %s is not supported as a value", o)
	}
	return x, c.charge(1 + wire.PayloadCost(x))
}

func (c *converter) items(in []any, depth int) ([]wire.Value, error) {
	out := make([]wire.Value, len(in))
	for i, it := range in {
		v, err := c.convert(it, depth+1)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (c *converter) container(x any, depth int) (wire.Value, error) {
	switch o := x.(type) {
	case *listObj:
		items, err := c.items(o.items, depth)
		return wire.List(items), err
	case *tupleObj:
		items, err := c.items(o.items, depth)
		return wire.Tuple(items), err
	case *setObj:
		items, err := c.items(o.items, depth)
		return wire.Set(items), err
	case *dictObj:
		return c.dict(o, depth)
	case *instance:
		return c.object(o, depth)
	}
	return nil, wire.CodecError("pickle", "internal error: unexpected %T", x)
}

func (c *converter) dict(o *dictObj, depth int) (*wire.Dict, error) {
	d := wire.NewDict(len(o.keys))
	for i := range o.keys {
		k, err := c.convert(o.keys[i], depth+1)
		if err != nil {
			return nil, err
		}
		v, err := c.convert(o.vals[i], depth+1)
		if err != nil {
			return nil, err
		}
		d.Append(k, v)
	}
	return d, nil
}

// object gives the class-dict form Pyro4's other serializers use.
func (c *converter) object(o *instance, depth int) (wire.Value, error) {
	d := wire.NewDict(4)
	d.Append("__class__", o.class)
	if o.class == uriClass {
		if o.state == nil {
			return nil, wire.CodecError("pickle", "Pyro4.core.URI without state")
		}
		st, err := c.convert(o.state, depth+1)
		if err != nil {
			return nil, err
		}
		items, _ := wire.Sequence(st)
		if len(items) != 5 {
			return nil, wire.CodecError("pickle", "Pyro4.core.URI state must hold 5 items")
		}
		d.Append("state", wire.Tuple(items))
		return d, nil
	}
	if o.class == wrapperClass {
		return c.wrapper(o, d, depth)
	}
	args, err := c.items(o.args, depth)
	if err != nil {
		return nil, err
	}
	attrs := wire.NewDict(0)
	if o.attrs != nil {
		if attrs, err = c.dict(o.attrs, depth+1); err != nil {
			return nil, err
		}
	}
	d.Append("__exception__", true)
	d.Append("args", wire.Tuple(args))
	d.Append("attributes", attrs)
	return d, nil
}
