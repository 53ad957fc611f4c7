package wire

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"
)

// This file holds what the class check (classes.go) needs of the Python
// operations that Pyro4's __setstate_from_dict__ methods apply to a class
// dict's state, so that a malformed state fails with Python's exception.

// checkURIState is URI.__setstate_from_dict__: the state unpacks into
// exactly five names, whatever they hold.
func checkURIState(d *Dict) error {
	state, err := classField(d, "state")
	if err != nil {
		return err
	}
	n, iterable := pyIterLen(state)
	switch {
	case !iterable:
		return pyTypeError("cannot unpack non-iterable %s object", TypeName(state))
	case n < 5:
		return pyValueError("not enough values to unpack (expected 5, got %d)", n)
	case n > 5:
		return pyValueError("too many values to unpack (expected 5)")
	}
	return nil
}

// checkProxyState is Proxy.__setstate_from_dict__: state[0] is parsed as a
// URI, state[1..3] become sets, state[5] is an optional "b64:" HMAC key.
func checkProxyState(d *Dict) error {
	state, err := classField(d, "state")
	if err != nil {
		return err
	}
	var item [8]Value
	for i := range item {
		if item[i], err = pySubscript(state, i); err != nil {
			return err
		}
		switch {
		case i == 0:
			if err := checkProxyURI(item[0]); err != nil {
				return err
			}
		case i <= 3:
			if err := checkSetArg(item[i]); err != nil {
				return err
			}
		}
	}
	return checkProxyHMAC(item[5])
}

// checkProxyURI is URI(state[0]) on a value that was not rebuilt: only a
// str is a URI's source.
func checkProxyURI(v Value) error {
	s, ok := v.(string)
	if !ok {
		return pyTypeError("uri parameter object is of wrong type")
	}
	_, err := ParseURI(s)
	return err
}

// checkSetArg is set(v): v must be iterable and its members hashable.
func checkSetArg(v Value) error {
	members, ok := Sequence(v)
	switch v.(type) {
	case Set, string, []byte, *Dict: // members or keys: hashable already
		return nil
	}
	if !ok {
		return pyTypeError("'%s' object is not iterable", TypeName(v))
	}
	for _, m := range members {
		if t := UnhashableDecoded(m); t != "" {
			return pyTypeError("unhashable type: '%s'", t)
		}
	}
	return nil
}

// checkProxyHMAC decodes a true state[5] as Pyro4 does: "b64:" and base64.
func checkProxyHMAC(v Value) error {
	if !Truthy(v) {
		return nil
	}
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case []byte:
		return pyTypeError("startswith first arg must be bytes or a tuple of bytes, not str")
	default:
		return noMember(v, "startswith")
	}
	if !strings.HasPrefix(s, "b64:") {
		return &Exception{Class: ClassProtocolError, Message: "hmac encoding error"}
	}
	s = s[4:]
	if err := encodeASCII(s); err != nil {
		return err
	}
	_, err := pyB64Decode(s)
	return err
}

// encodeASCII is s.encode("ascii"), failing with the UnicodeEncodeError
// CPython raises for the first run of characters outside ASCII.
func encodeASCII(s string) error {
	r := CodePoints(s)
	for i := range r {
		if r[i] < 0x80 {
			continue
		}
		end := i + 1
		for end < len(r) && r[end] >= 0x80 {
			end++
		}
		return &Exception{Class: ClassUnicodeEncodeError,
			Args: Tuple{"ascii", s, int64(i), int64(end), "ordinal not in range(128)"}}
	}
	return nil
}

// pyB64Decode is base64.b64decode without validation: characters outside
// the alphabet are skipped, a complete padding ends the input, and the data
// characters must make whole bytes, else binascii.Error.
func pyB64Decode(s string) ([]byte, error) {
	data := make([]byte, 0, len(s))
	quad, pads := 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '=' {
			pads++
			if quad >= 2 && quad+pads >= 4 {
				quad = 0
				break
			}
			continue
		}
		if isBase64Char(c) {
			data, quad, pads = append(data, c), (quad+1)%4, 0
		}
	}
	switch quad {
	case 1:
		return nil, &Exception{Class: ClassBinasciiError, Message: fmt.Sprintf("Invalid base64-encoded string: "+
			"number of data characters (%d) cannot be 1 more than a multiple of 4", len(data))}
	case 2, 3:
		return nil, &Exception{Class: ClassBinasciiError, Message: "Incorrect padding"}
	}
	return base64.RawStdEncoding.DecodeString(string(data))
}

func isBase64Char(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/'
}

// pySubscript is v[i] for a small int index.
func pySubscript(v Value, i int) (Value, error) {
	if items, ok := Sequence(v); ok {
		if i >= len(items) {
			return nil, &Exception{Class: ClassIndexError, Message: TypeName(v) + " index out of range"}
		}
		return items[i], nil
	}
	switch x := v.(type) {
	case string:
		r := CodePoints(x)
		if i >= len(r) {
			return nil, &Exception{Class: ClassIndexError, Message: "string index out of range"}
		}
		return CodePointStr(r[i]), nil
	case []byte:
		if i >= len(x) {
			return nil, &Exception{Class: ClassIndexError, Message: "index out of range"}
		}
		return int64(x[i]), nil
	case *Dict:
		if it, ok := x.Get(int64(i)); ok {
			return it, nil
		}
		return nil, &Exception{Class: ClassKeyError, Args: Tuple{int64(i)}}
	}
	return nil, pyTypeError("'%s' object is not subscriptable", TypeName(v))
}

// pyIterLen is the number of items iterating v yields; iterable is false
// for the scalars.
func pyIterLen(v Value) (n int, iterable bool) {
	switch x := v.(type) {
	case Tuple:
		return len(x), true
	case List:
		return len(x), true
	case Set:
		return len(x), true
	case *Dict:
		return x.Len(), true
	case string:
		return StrLen(x), true
	case []byte:
		return len(x), true
	}
	return 0, false
}

// decodeUTF8 is bytes.decode("utf-8"), failing with the UnicodeDecodeError
// CPython's decoder raises at the first bad sequence.
func decodeUTF8(b []byte) (string, error) {
	if utf8.Valid(b) {
		return string(b), nil
	}
	i := 0
	for {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			break
		}
		i += n
	}
	n, reason := badUTF8(b[i:])
	return "", &Exception{Class: ClassUnicodeDecodeError,
		Args: Tuple{"utf-8", b, int64(i), int64(i + n), reason}}
}

// badUTF8 measures the invalid sequence at the start of b as CPython does:
// a start byte that begins nothing, or a start byte and the continuation
// bytes that were valid before a bad one or the end of the data.
func badUTF8(b []byte) (n int, reason string) {
	size, lo, hi := utf8Lead(b[0])
	if size == 1 {
		return 1, "invalid start byte"
	}
	for n = 1; n < size; n++ {
		if n >= len(b) {
			return n, "unexpected end of data"
		}
		if c := b[n]; c < lo || c > hi {
			return n, "invalid continuation byte"
		}
		lo, hi = 0x80, 0xbf
	}
	return n, "invalid continuation byte" // not reached for invalid input
}

// utf8Lead is the length of the sequence a start byte begins (1 for a byte
// that begins none) and the range its second byte must be in, which rules
// out overlong forms and surrogates.
func utf8Lead(c byte) (size int, lo, hi byte) {
	switch {
	case c >= 0xc2 && c <= 0xdf:
		return 2, 0x80, 0xbf
	case c == 0xe0:
		return 3, 0xa0, 0xbf
	case c == 0xed:
		return 3, 0x80, 0x9f
	case c >= 0xe1 && c <= 0xef:
		return 3, 0x80, 0xbf
	case c == 0xf0:
		return 4, 0x90, 0xbf
	case c >= 0xf1 && c <= 0xf3:
		return 4, 0x80, 0xbf
	case c == 0xf4:
		return 4, 0x80, 0x8f
	}
	return 1, 0, 0
}

func pyTypeError(format string, a ...any) error {
	return &Exception{Class: ClassTypeError, Message: fmt.Sprintf(format, a...)}
}

func pyValueError(format string, a ...any) error {
	return &Exception{Class: ClassValueError, Message: fmt.Sprintf(format, a...)}
}

// noAttribute is getattr(module, name) failing.
func noAttribute(module, name string) error {
	return &Exception{Class: ClassAttributeError, Message: fmt.Sprintf("module '%s' has no attribute '%s'", module, name)}
}

// noMember is obj.name failing on a value of the Value model.
func noMember(v Value, name string) error {
	return &Exception{Class: ClassAttributeError, Message: fmt.Sprintf("'%s' object has no attribute '%s'", TypeName(v), name)}
}
