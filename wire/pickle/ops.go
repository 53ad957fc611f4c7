package pickle

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pyro4/pyro4/wire"
)

// step executes one opcode of the pickle machine.
func (u *unpickler) step(op byte) error {
	switch op {
	case opProto:
		b, err := u.take(1)
		if err != nil {
			return err
		}
		if b[0] > 5 {
			return u.errorf("unsupported pickle protocol: %d", b[0])
		}
	case opFrame:
		n, err := u.uint(8)
		if err != nil {
			return err
		}
		if n > uint64(len(u.data)-u.pos) {
			return u.errorf("pickle data was truncated")
		}
	case opMark:
		u.marks = append(u.marks, len(u.stack))
	case opPop:
		if len(u.marks) > 0 && len(u.stack) == u.floor() {
			_, err := u.popMark()
			return err
		}
		_, err := u.pop()
		return err
	case opPopMark:
		_, err := u.popMark()
		return err
	case opDup:
		v, err := u.top()
		if err != nil {
			return err
		}
		u.push(v)
	case opNone:
		u.push(nil)
	case opNewTrue:
		u.push(true)
	case opNewFalse:
		u.push(false)
	case opGlobal, opStackGlobal:
		return u.global(op)
	case opReduce, opNewObj, opNewObjEx:
		return u.call(op)
	case opBuild:
		return u.build()
	case opPersID, opBinPersID, opExt1, opExt2, opExt4, opInst, opObj, opNextBuffer, opReadOnlyBuffer:
		return u.errorf("opcode 0x%02x is not supported", op)
	default:
		return u.stepData(op)
	}
	return nil
}

// stepData executes the opcodes that push or collect data.
func (u *unpickler) stepData(op byte) error {
	switch op {
	case opBinInt, opBinInt1, opBinInt2, opLong1, opLong4, opInt, opLong, opBinFloat, opFloat:
		return u.number(op)
	case opBinUnicode, opShortBinUni, opBinUnicode8, opUnicode, opString, opBinString, opShortBinString:
		return u.text(op)
	case opBinBytes, opShortBinBytes, opBinBytes8, opByteArray8:
		size := 8
		switch op {
		case opBinBytes:
			size = 4
		case opShortBinBytes:
			size = 1
		}
		b, err := u.counted(size)
		if err != nil {
			return err
		}
		u.push(append([]byte{}, b...))
	case opEmptyList:
		u.push(&listObj{})
	case opEmptyTuple:
		u.push(&tupleObj{})
	case opEmptyDict:
		u.push(newDictObj())
	case opEmptySet:
		u.push(newSetObj(false))
	case opTuple1, opTuple2, opTuple3:
		n := int(op-opTuple1) + 1
		if len(u.stack)-u.floor() < n {
			return u.errorf("unpickling stack underflow")
		}
		items := append([]any(nil), u.stack[len(u.stack)-n:]...)
		u.stack = u.stack[:len(u.stack)-n]
		u.push(&tupleObj{items: items})
	case opTuple, opList, opDict, opFrozenSet:
		return u.fromMark(op)
	case opAppend, opAppends, opSetItem, opSetItems, opAddItems:
		return u.fill(op)
	case opPut, opBinPut, opLongBinPut, opMemoize:
		return u.put(op)
	case opGet, opBinGet, opLongBinGet:
		return u.get(op)
	default:
		return u.errorf("invalid load key, 0x%02x", op)
	}
	return nil
}

func (u *unpickler) number(op byte) error {
	switch op {
	case opBinInt1:
		n, err := u.uint(1)
		u.push(int64(n))
		return err
	case opBinInt2:
		n, err := u.uint(2)
		u.push(int64(n))
		return err
	case opBinInt:
		n, err := u.uint(4)
		u.push(int64(int32(uint32(n))))
		return err
	case opLong1, opLong4:
		size := 1
		if op == opLong4 {
			size = 4
		}
		n, err := u.uint(size)
		if err != nil {
			return err
		}
		if op == opLong4 && n > math.MaxInt32 {
			return u.errorf("LONG pickle has negative byte count")
		}
		b, err := u.take(n)
		if err != nil {
			return err
		}
		u.push(decodeLong(b))
		return u.charge(len(b) / 8)
	case opBinFloat:
		b, err := u.take(8)
		if err != nil {
			return err
		}
		u.push(math.Float64frombits(binary.BigEndian.Uint64(b)))
		return nil
	case opFloat:
		s, err := u.line()
		if err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		f, perr := strconv.ParseFloat(s, 64)
		if (perr != nil && !wire.IsRangeError(perr)) || strings.ContainsAny(s, "xX_pP") {
			return u.errorf("could not convert string to float: %q", wire.Truncate(s, 40))
		}
		u.push(f)
		return nil
	}
	// INT and LONG: text that CPython reads with base 0 (see parseINT)
	s, err := u.line()
	if err != nil {
		return err
	}
	if op == opInt {
		v, ok := parseINT(s)
		if !ok {
			return u.errorf("could not convert string to int")
		}
		u.push(v)
		return nil
	}
	// CPython cuts the text at a trailing L, else keeps the newline
	text, cut := strings.CutSuffix(s, "L")
	v, base, ok := pyIntBase0(text)
	if !ok {
		if !cut {
			text += "\n"
		}
		return u.errorf("invalid literal for int() with base %d: %s", base, wire.Repr(wire.Truncate(text, 200)))
	}
	u.push(v)
	return nil
}

func (u *unpickler) text(op byte) error {
	var b []byte
	var err error
	switch op {
	case opBinUnicode:
		b, err = u.counted(4)
	case opShortBinUni:
		b, err = u.counted(1)
	case opBinUnicode8:
		b, err = u.counted(8)
	case opShortBinString:
		b, err = u.counted(1)
	case opBinString:
		var n uint64
		if n, err = u.uint(4); err == nil {
			if int32(uint32(n)) < 0 {
				return u.errorf("BINSTRING pickle has negative byte count")
			}
			b, err = u.take(n)
		}
	case opUnicode:
		var s string
		if s, err = u.line(); err == nil {
			b, err = rawUnicodeEscape(s)
		}
	case opString:
		var s string
		if s, err = u.line(); err == nil {
			b, err = escapeDecode(s)
		}
	}
	if err != nil {
		return err
	}
	switch op {
	case opString, opBinString, opShortBinString:
		// Python 2 str: Python 3 decodes it as ASCII (pickle's default).
		for _, c := range b {
			if c >= 0x80 {
				return u.errorf("'ascii' codec can't decode byte 0x%02x", c)
			}
		}
	}
	s, err := validStr(b)
	if err != nil {
		return err
	}
	u.push(s)
	return nil
}

func (u *unpickler) fromMark(op byte) error {
	items, err := u.popMark()
	if err != nil {
		return err
	}
	switch op {
	case opTuple:
		u.push(&tupleObj{items: items})
	case opList:
		u.push(&listObj{items: items})
	case opDict:
		if len(items)%2 != 0 {
			return u.errorf("odd number of items for DICT")
		}
		d := newDictObj()
		for i := 0; i < len(items); i += 2 {
			if err := u.setItem(d, items[i], items[i+1]); err != nil {
				return err
			}
		}
		u.push(d)
	case opFrozenSet:
		s := newSetObj(true)
		for _, it := range items {
			if err := u.addItem(s, it); err != nil {
				return err
			}
		}
		u.push(s)
	}
	return nil
}

// fill executes APPEND(S), SETITEM(S) and ADDITEMS on the object below.
func (u *unpickler) fill(op byte) error {
	var items []any
	var err error
	switch op {
	case opAppend:
		items = make([]any, 1)
		items[0], err = u.pop()
	case opSetItem:
		items = make([]any, 2)
		items[0], items[1], err = u.pop2()
	default:
		items, err = u.popMark()
	}
	if err != nil {
		return err
	}
	target, err := u.top()
	if err != nil {
		return err
	}
	switch t := target.(type) {
	case *listObj:
		if op == opAppend || op == opAppends {
			t.items = append(t.items, items...)
			return nil
		}
	case *dictObj:
		if op == opSetItem || op == opSetItems {
			if len(items)%2 != 0 {
				return u.errorf("odd number of items for SETITEMS")
			}
			for i := 0; i < len(items); i += 2 {
				if err := u.setItem(t, items[i], items[i+1]); err != nil {
					return err
				}
			}
			return nil
		}
	case *setObj:
		if op == opAddItems && !t.frozen {
			for _, it := range items {
				if err := u.addItem(t, it); err != nil {
					return err
				}
			}
			return nil
		}
	}
	return u.errorf("opcode 0x%02x cannot apply to %s", op, typeName(target))
}

func (u *unpickler) put(op byte) error {
	var idx uint64
	var err error
	switch op {
	case opMemoize:
		idx = uint64(len(u.memo))
	case opBinPut:
		idx, err = u.uint(1)
	case opLongBinPut:
		idx, err = u.uint(4)
	case opPut:
		idx, err = u.memoIndexText("PUT")
	}
	if err != nil {
		return err
	}
	return u.memoPut(idx)
}

func (u *unpickler) get(op byte) error {
	var idx uint64
	var err error
	switch op {
	case opBinGet:
		idx, err = u.uint(1)
	case opLongBinGet:
		idx, err = u.uint(4)
	case opGet:
		idx, err = u.memoIndexText("GET")
	}
	if err != nil {
		return err
	}
	return u.memoGet(idx)
}

// memoIndexText reads the decimal memo index of the text PUT and GET
// opcodes.
func (u *unpickler) memoIndexText(opName string) (uint64, error) {
	s, err := u.line()
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 {
		return 0, u.errorf("invalid %s argument %q", opName, wire.Truncate(s, 20))
	}
	return uint64(n), nil
}

// rawUnicodeEscape decodes the UNICODE opcode's argument: Latin-1 text with
// \uXXXX and \UXXXXXXXX escapes.
func rawUnicodeEscape(s string) ([]byte, error) {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\\' && i+1 < len(s) && (s[i+1] == 'u' || s[i+1] == 'U') {
			n := 4
			if s[i+1] == 'U' {
				n = 8
			}
			if i+2+n > len(s) {
				return nil, wire.CodecError("pickle", "truncated \\uXXXX escape")
			}
			r, err := strconv.ParseUint(s[i+2:i+2+n], 16, 32)
			if err != nil || r > 0x10ffff {
				return nil, wire.CodecError("pickle", "invalid \\u escape in UNICODE")
			}
			out = wire.AppendCodePoint(out, rune(r)) // a surrogate stays one
			i += 1 + n
			continue
		}
		out = utf8.AppendRune(out, rune(c))
	}
	return out, nil
}

// escapeDecode decodes the STRING opcode's argument: a quoted Python 2 str
// literal, as codecs.escape_decode reads it.
func escapeDecode(s string) ([]byte, error) {
	if len(s) < 2 || s[0] != s[len(s)-1] || (s[0] != '\'' && s[0] != '"') {
		return nil, wire.CodecError("pickle", "the STRING opcode argument must be quoted")
	}
	s = s[1 : len(s)-1]
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			out = append(out, c)
			continue
		}
		i++
		e := s[i]
		if r := wire.PyEscape(e); r != 0 {
			out = append(out, r)
			continue
		}
		switch e {
		case '\n':
		case 'x':
			if i+3 > len(s) {
				return nil, wire.CodecError("pickle", "invalid \\x escape in STRING")
			}
			v, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
			if err != nil {
				return nil, wire.CodecError("pickle", "invalid \\x escape in STRING")
			}
			out = append(out, byte(v))
			i += 2
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v, end := wire.OctalEscape(s, i)
			out = append(out, byte(v))
			i = end - 1
		default:
			out = append(out, '\\', e)
		}
	}
	return out, nil
}
