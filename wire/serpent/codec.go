package serpent

import (
	"fmt"
	"sync"

	"github.com/pyro4/pyro4/wire"
)

// header is the comment line serpent 1.41 writes before every value.
const header = "# serpent utf-8 python3.2\n"

// codec is Pyro4's default serializer: Python literal syntax as
// serpent 1.41 writes it with module_in_classname=True and indent=False, read
// back with the grammar ast.literal_eval accepts.
type codec struct{}

func init() { wire.Register(codec{}) }

func (codec) ID() uint16   { return wire.SerpentID }
func (codec) Name() string { return "serpent" }

// Buffers are pooled because the name server encodes a reply per request and
// a list() result can be tens of kilobytes; the result is one exact-size copy.
var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// maxPooledBuf keeps an occasional huge message from pinning memory in the pool.
const maxPooledBuf = 1 << 20

func (codec) Marshal(v wire.Value) ([]byte, error) {
	return encodePooled(func(b []byte) ([]byte, error) { return appendValue(b, v, 0) })
}

// AppendMarshal implements AppendMarshaler.
func (codec) AppendMarshal(dst []byte, v wire.Value) ([]byte, error) {
	n := len(dst)
	b, err := appendValue(append(dst, header...), v, 0)
	if err != nil {
		return dst[:n], codecErr("%v", err)
	}
	return b, nil
}

// MarshalCallTo implements CallMarshaler: the name server's clients send
// every call in serpent, so it skips the Tuple the generic path builds.
func (codec) MarshalCallTo(c wire.Call) ([]byte, error) {
	return encodePooled(func(b []byte) ([]byte, error) {
		b = append(b, '(')
		b = appendStr(b, c.Object)
		b = append(b, ',')
		b = appendStr(b, c.Method)
		b = append(b, ',')
		b, err := appendTuple(b, c.Args, 1)
		if err != nil {
			return b, fmt.Errorf("call %s args: %w", c.Method, err)
		}
		b = append(b, ',')
		if b, err = appendDict(b, c.Kwargs, 1); err != nil {
			return b, fmt.Errorf("call %s kwargs: %w", c.Method, err)
		}
		return append(b, ')'), nil
	})
}

func encodePooled(body func([]byte) ([]byte, error)) ([]byte, error) {
	bp := bufPool.Get().(*[]byte)
	b, err := body(append((*bp)[:0], header...))
	var out []byte
	if err == nil {
		out = make([]byte, len(b))
		copy(out, b)
	}
	if cap(b) <= maxPooledBuf {
		*bp = b[:0]
		bufPool.Put(bp)
	}
	if err != nil {
		return nil, codecErr("%v", err)
	}
	return out, nil
}

// codecErr is a SerializeError, the class in which every codec reports a
// payload it cannot encode or decode.
func codecErr(format string, a ...any) error { return wire.CodecError("serpent", format, a...) }

func (codec) Unmarshal(data []byte) (wire.Value, error) { return parse(data) }
