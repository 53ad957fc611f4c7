package pickle

import (
	"encoding/binary"
	"math"
	"math/big"
	"strings"

	"github.com/pyro4/pyro4/wire"
)

// exceptionClass splits a class name of an exception the codec may build,
// "Pyro4.errors.NamingError" or "builtins.ValueError".
func exceptionClass(class string) (module, name string, ok bool) {
	i := strings.LastIndexByte(class, '.')
	if i < 0 {
		return "", "", false
	}
	module, name = class[:i], class[i+1:]
	switch module {
	case "Pyro4.errors":
		return module, name, wire.IsPyroErrorClass(name)
	case "builtins":
		return module, name, wire.IsBuiltinException(name)
	}
	return "", "", false
}

func appendValue(buf []byte, v wire.Value) ([]byte, error) {
	buf = append(buf, opProto, 2)
	buf, err := (&pickler{}).value(buf, v, false, 0)
	if err != nil {
		return nil, err
	}
	return append(buf, opStop), nil
}

type pickler struct{}

func (p *pickler) value(buf []byte, v wire.Value, hashed bool, depth int) ([]byte, error) {
	if depth > wire.MaxDepth {
		return nil, wire.CodecError("pickle", "value nested deeper than %d", wire.MaxDepth)
	}
	switch x := v.(type) {
	case nil:
		return append(buf, opNone), nil
	case bool:
		if x {
			return append(buf, opNewTrue), nil
		}
		return append(buf, opNewFalse), nil
	case int64:
		return appendInt(buf, x), nil
	case *big.Int:
		return appendLong(buf, x), nil
	case float64:
		return binary.BigEndian.AppendUint64(append(buf, opBinFloat), math.Float64bits(x)), nil
	case complex128:
		buf = appendGlobal(buf, "__builtin__", "complex")
		buf = binary.BigEndian.AppendUint64(append(buf, opBinFloat), math.Float64bits(real(x)))
		buf = binary.BigEndian.AppendUint64(append(buf, opBinFloat), math.Float64bits(imag(x)))
		return append(buf, opTuple2, opReduce), nil
	case string:
		return appendStr(buf, x)
	case []byte:
		return appendBytes(buf, x), nil
	case wire.Tuple:
		return p.tuple(buf, x, hashed, depth)
	case wire.List:
		buf = append(buf, opEmptyList)
		return p.marked(buf, x, false, opAppends, depth)
	case wire.Set:
		name := "set"
		if hashed {
			name = "frozenset"
		}
		buf = append(appendGlobal(buf, "__builtin__", name), opEmptyList)
		buf, err := p.marked(buf, x, true, opAppends, depth)
		if err != nil {
			return nil, err
		}
		return append(buf, opTuple1, opReduce), nil
	case *wire.Dict:
		return p.dict(buf, x, depth)
	}
	return nil, wire.CodecError("pickle", "cannot encode Go type %T", v)
}

func (p *pickler) tuple(buf []byte, t wire.Tuple, hashed bool, depth int) ([]byte, error) {
	if len(t) == 0 {
		return append(buf, opEmptyTuple), nil
	}
	if len(t) > 3 {
		buf = append(buf, opMark)
	}
	var err error
	for _, it := range t {
		if buf, err = p.value(buf, it, hashed, depth+1); err != nil {
			return nil, err
		}
	}
	switch len(t) {
	case 1:
		return append(buf, opTuple1), nil
	case 2:
		return append(buf, opTuple2), nil
	case 3:
		return append(buf, opTuple3), nil
	}
	return append(buf, opTuple), nil
}

// marked writes MARK, the items, and op (APPENDS), unless there are none.
func (p *pickler) marked(buf []byte, items []wire.Value, hashed bool, op byte, depth int) ([]byte, error) {
	if len(items) == 0 {
		return buf, nil
	}
	buf = append(buf, opMark)
	var err error
	for _, it := range items {
		if buf, err = p.value(buf, it, hashed, depth+1); err != nil {
			return nil, err
		}
	}
	return append(buf, op), nil
}

func (p *pickler) dict(buf []byte, d *wire.Dict, depth int) ([]byte, error) {
	if state, ok := uriState(d); ok {
		buf = append(appendGlobal(buf, "Pyro4.core", "URI"), opEmptyTuple, opNewObj)
		buf, err := p.tuple(buf, state, false, depth)
		if err != nil {
			return nil, err
		}
		return append(buf, opBuild), nil
	}
	if exc, ok := wrappedException(d); ok {
		buf = append(appendGlobal(buf, "Pyro4.futures", "_ExceptionWrapper"), opEmptyTuple, opNewObj, opEmptyDict)
		buf, err := appendStr(buf, "exception")
		if err != nil {
			return nil, err
		}
		if buf, err = p.dict(buf, exc, depth+1); err != nil {
			return nil, err
		}
		return append(buf, opSetItem, opBuild), nil
	}
	if module, name, args, attrs, ok := exceptionParts(d); ok {
		if module == "builtins" && wire.IsPython2Exception(name) {
			module = "exceptions"
		}
		buf = appendGlobal(buf, module, name)
		buf, err := p.tuple(buf, args, false, depth)
		if err != nil {
			return nil, err
		}
		buf = append(buf, opReduce)
		if attrs.Len() == 0 {
			return buf, nil
		}
		if buf, err = p.plainDict(buf, attrs, depth+1); err != nil {
			return nil, err
		}
		return append(buf, opBuild), nil
	}
	return p.plainDict(buf, d, depth)
}

func (p *pickler) plainDict(buf []byte, d *wire.Dict, depth int) ([]byte, error) {
	buf = append(buf, opEmptyDict)
	if d.Len() == 0 {
		return buf, nil
	}
	buf = append(buf, opMark)
	var err error
	for _, it := range d.Items {
		if buf, err = p.value(buf, it.Key, true, depth+1); err != nil {
			return nil, err
		}
		if buf, err = p.value(buf, it.Value, false, depth+1); err != nil {
			return nil, err
		}
	}
	return append(buf, opSetItems), nil
}

// uriState recognises exactly what URI.Value produces.
func uriState(d *wire.Dict) (wire.Tuple, bool) {
	if d.Len() != 2 {
		return nil, false
	}
	if c, _ := d.GetString("__class__"); c != wire.ClassURI {
		return nil, false
	}
	st, _ := d.GetString("state")
	t, ok := st.(wire.Tuple)
	return t, ok && len(t) == 5
}

// wrappedException recognises {"__class__": "Pyro4.futures._ExceptionWrapper",
// "exception": e}, where e is what exceptionParts recognises.
func wrappedException(d *wire.Dict) (*wire.Dict, bool) {
	if d.Len() != 2 {
		return nil, false
	}
	if c, _ := d.GetString("__class__"); c != wrapperClass {
		return nil, false
	}
	e, _ := d.GetString("exception")
	exc, ok := e.(*wire.Dict)
	if !ok {
		return nil, false
	}
	_, _, _, _, ok = exceptionParts(exc)
	return exc, ok
}

// exceptionParts recognises exactly what Exception.Value produces, for a
// class the decoder would accept back.
func exceptionParts(d *wire.Dict) (module, name string, args wire.Tuple, attrs *wire.Dict, ok bool) {
	if d.Len() != 4 {
		return
	}
	if flag, _ := d.GetString("__exception__"); flag != true {
		return
	}
	class, _ := d.GetString("__class__")
	cs, isStr := class.(string)
	if !isStr {
		return
	}
	if module, name, ok = exceptionClass(cs); !ok {
		return
	}
	a, _ := d.GetString("args")
	at, _ := d.GetString("attributes")
	args, okArgs := a.(wire.Tuple)
	attrs, okAttrs := at.(*wire.Dict)
	if !okArgs || !okAttrs {
		return "", "", nil, nil, false
	}
	for _, it := range attrs.Items {
		if _, isStr := it.Key.(string); !isStr {
			return "", "", nil, nil, false
		}
	}
	return module, name, args, attrs, true
}

func appendGlobal(buf []byte, module, name string) []byte {
	buf = append(buf, opGlobal)
	buf = append(append(buf, module...), '\n')
	return append(append(buf, name...), '\n')
}

func appendInt(buf []byte, n int64) []byte {
	switch {
	case n >= 0 && n <= 0xff:
		return append(buf, opBinInt1, byte(n))
	case n >= 0 && n <= 0xffff:
		return binary.LittleEndian.AppendUint16(append(buf, opBinInt2), uint16(n))
	case n >= math.MinInt32 && n <= math.MaxInt32:
		return binary.LittleEndian.AppendUint32(append(buf, opBinInt), uint32(int32(n)))
	}
	return appendLong(buf, big.NewInt(n))
}

// appendLong writes LONG1/LONG4: little-endian two's complement in the
// fewest bytes, as Python's encode_long does.
func appendLong(buf []byte, x *big.Int) []byte {
	if x.IsInt64() && x.Int64() >= math.MinInt32 && x.Int64() <= math.MaxInt32 {
		return appendInt(buf, x.Int64())
	}
	n := x.BitLen()/8 + 1
	b := make([]byte, n)
	if x.Sign() >= 0 {
		x.FillBytes(b)
	} else {
		// two's complement: 2**(8n) + x
		t := new(big.Int).Lsh(big.NewInt(1), uint(8*n))
		t.Add(t, x)
		t.FillBytes(b)
		if n > 1 && b[0] == 0xff && b[1]&0x80 != 0 {
			b = b[1:]
		}
	}
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	if len(b) < 256 {
		buf = append(buf, opLong1, byte(len(b)))
	} else {
		buf = binary.LittleEndian.AppendUint32(append(buf, opLong4), uint32(len(b)))
	}
	return append(buf, b...)
}

func appendStr(buf []byte, s string) ([]byte, error) {
	if !wire.ValidStr(s) { // surrogates go as pickle writes them
		return nil, wire.CodecError("pickle", "str is not valid UTF-8")
	}
	if len(s) > math.MaxUint32 {
		return nil, wire.CodecError("pickle", "str too long")
	}
	buf = binary.LittleEndian.AppendUint32(append(buf, opBinUnicode), uint32(len(s)))
	return append(buf, s...), nil
}

func appendBytes(buf []byte, b []byte) []byte {
	if len(b) == 0 {
		buf = appendGlobal(buf, "__builtin__", "bytes")
		return append(buf, opEmptyTuple, opReduce)
	}
	buf = appendGlobal(buf, "_codecs", "encode")
	text := wire.Latin1ToUTF8(b)
	buf = binary.LittleEndian.AppendUint32(append(buf, opBinUnicode), uint32(len(text)))
	buf = append(buf, text...)
	buf = binary.LittleEndian.AppendUint32(append(buf, opBinUnicode), 6)
	buf = append(buf, "latin1"...)
	return append(buf, opTuple2, opReduce)
}
