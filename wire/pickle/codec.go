package pickle

import (
	"github.com/pyro4/pyro4/wire"
)

// codec is Pyro4's PickleSerializer. A Pyro4 peer only uses it when the
// server accepts pickle (not the default).
//
// The decoder (decode.go) is a restricted unpickler for protocols 0-5
// as Python 3.11 writes them: it builds only values of the value model, and
// the only classes it will "call" are Pyro4.core.URI (decoded to the class
// dict URI.Value gives), the Pyro4.errors and builtin exception classes
// (decoded to the class dict Exception.Value gives), the
// Pyro4.futures._ExceptionWrapper that carries an exception among batch
// results (decoded to {"__class__": ..., "exception": <exception class
// dict>}, as Pyro4's other serializers send it), and the builtins and
// copyreg helpers that older protocols use for sets, bytes, bytearray and
// complex. Any other global is refused: nothing is ever constructed or
// executed from a name in the payload.
//
// The unpickler is our own, not github.com/kisielk/og-rek (the maintained Go
// pickle library, and no dependency of this module): og-rek v1.3.0, its
// latest release, has no case for EMPTY_SET, ADDITEMS, FROZENSET or NEWOBJ
// and answers BUILD with "unimplemented opcode", yet Python 3.11 writes
// those for every set, URI and exception; its encoder writes neither NEWOBJ
// nor BUILD. And og-rek decodes any GLOBAL into a class value, where this
// decoder must refuse all but the classes above before building anything.
//
// The encoder writes protocol 2, which both Python 3 and Python 2 Pyro4 peers
// read (Python 2's pickle stops at protocol 2). It writes the forms Python 3's
// own protocol 2 pickler uses: bytes as _codecs.encode(latin-1 text), sets via
// set([...]), complex via complex(re, im). A URI class dict becomes a real
// Pyro4.core.URI (NEWOBJ + BUILD with the state tuple) and an exception class
// dict a real exception (REDUCE with args, BUILD with the attributes), which
// is what a Pyro4 client expects to receive and raise. An _ExceptionWrapper
// class dict becomes a real wrapper (NEWOBJ + BUILD with its __dict__, as
// object.__reduce_ex__(2) gives): a batch client only raises the exception
// that ends a batch when it finds that class among the results. Only the
// exact forms URI.Value, Exception.Value and such a wrapper of one produce,
// for classes the decoder accepts, are turned into objects; any other dict,
// "__class__" key or not, stays a dict.
type codec struct{}

func init() { wire.Register(codec{}) }

func (codec) ID() uint16   { return wire.PickleID }
func (codec) Name() string { return "pickle" }

func (codec) Marshal(v wire.Value) ([]byte, error) {
	return appendValue(make([]byte, 0, 256), v)
}

func (codec) Unmarshal(data []byte) (v wire.Value, err error) {
	defer wire.RecoverPanic("pickle", &err)
	return decode(data)
}
