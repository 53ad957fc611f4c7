package marshal

import (
	"github.com/pyro4/pyro4/wire"
)

// codec is Pyro4's MarshalSerializer: CPython's marshal format,
// version 4 (what Python 3.11's marshal.dumps writes).
//
// The encoder writes the type codes CPython picks for each value (TYPE_INT
// for ints that fit 32 bits, TYPE_LONG with 15-bit digits beyond, the short
// ASCII and small tuple forms, TYPE_STRING for bytes) but never sets FLAG_REF
// nor interns strings: CPython decides those from reference counts, which a
// value does not carry. marshal.loads reads the result as the same value. A
// set that is a dict key or a set member is written as a frozenset, so that
// Python can hash it.
//
// The decoder (decode.go) reads everything CPython's marshal.loads
// reads for the value model, including back-references.
//
// Pyro4's marshal peers send URIs and exceptions as class dicts and turn them
// back into objects on load; here they stay *Dict values (see URI.Value and
// Exception.Value).
type codec struct{}

func init() { wire.Register(codec{}) }

func (codec) ID() uint16   { return wire.MarshalID }
func (codec) Name() string { return "marshal" }

// Marshal type codes (CPython Python/marshal.c).
const (
	mNull           = '0'
	mNone           = 'N'
	mFalse          = 'F'
	mTrue           = 'T'
	mStopIter       = 'S'
	mEllipsis       = '.'
	mInt            = 'i'
	mInt64          = 'I'
	mFloat          = 'f'
	mBinaryFloat    = 'g'
	mComplex        = 'x'
	mBinaryComplex  = 'y'
	mLong           = 'l'
	mString         = 's'
	mInterned       = 't'
	mRef            = 'r'
	mTuple          = '('
	mList           = '['
	mDict           = '{'
	mCode           = 'c'
	mUnicode        = 'u'
	mUnknown        = '?'
	mSet            = '<'
	mFrozenSet      = '>'
	mASCII          = 'a'
	mASCIIInterned  = 'A'
	mSmallTuple     = ')'
	mShortASCII     = 'z'
	mShortASCIIIntd = 'Z'
	mFlagRef        = 0x80
)

func (codec) Marshal(v wire.Value) ([]byte, error) {
	return appendValue(make([]byte, 0, 256), v, false, 0)
}

// AppendMarshal implements AppendMarshaler.
func (codec) AppendMarshal(dst []byte, v wire.Value) ([]byte, error) {
	b, err := appendValue(dst, v, false, 0)
	if err != nil {
		return dst, err
	}
	return b, nil
}

func (codec) Unmarshal(data []byte) (v wire.Value, err error) {
	defer wire.RecoverPanic("marshal", &err)
	return decode(data)
}
