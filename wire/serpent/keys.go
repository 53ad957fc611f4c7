package serpent

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/pyro4/pyro4/wire"
)

// What decoded serpent values become, in Python's terms: which values can be
// dict keys, which keys are the same key, and the float class dict.

// recreateFloats turns serpent's nan class dicts back into floats where
// Pyro4's recreate_classes does: in values (not keys) of containers, but not
// inside another class dict, which Pyro4 hands to its class as it is.
func recreateFloats(v wire.Value) (wire.Value, error) {
	var err error
	switch x := v.(type) {
	case wire.Tuple:
		for i := range x {
			if x[i], err = recreateFloats(x[i]); err != nil {
				return nil, err
			}
		}
	case wire.List:
		for i := range x {
			if x[i], err = recreateFloats(x[i]); err != nil {
				return nil, err
			}
		}
	case *wire.Dict:
		if c, ok := x.GetString("__class__"); ok {
			if c != "float" {
				return x, nil
			}
			f, err := floatFromClass(x)
			if err != nil {
				return nil, codecErr("float class dict: %v", err)
			}
			return f, nil
		}
		for i := range x.Items {
			if x.Items[i].Value, err = recreateFloats(x.Items[i].Value); err != nil {
				return nil, err
			}
		}
	}
	return v, nil
}

// floatFromClass converts the class dict serpent writes for a float nan,
// {'__class__': 'float', 'value': 'nan'}, as float(data["value"]) does.
func floatFromClass(d *wire.Dict) (float64, error) {
	v, ok := d.GetString("value")
	if !ok {
		return 0, errors.New("float class dict without a 'value'")
	}
	switch x := v.(type) {
	case string:
		if f, ok := parseFloat(x); ok {
			return f, nil
		}
		return 0, fmt.Errorf("could not convert string to float: %s", wire.StrRepr(x))
	case bool, int64, *big.Int, float64:
		f, _ := wire.ToFloat(x)
		if math.IsInf(f, 0) {
			if _, isFloat := x.(float64); !isFloat {
				return 0, errors.New("int too large to convert to float")
			}
		}
		return f, nil
	}
	return 0, fmt.Errorf("float() argument must be a string or a real number, not '%s'", wire.TypeName(v))
}

// parseFloat parses like Python's float(str).
func parseFloat(s string) (float64, bool) {
	t := strings.TrimSpace(s)
	body := strings.TrimLeft(t, "+-")
	if len(t)-len(body) > 1 {
		return 0, false
	}
	neg := strings.HasPrefix(t, "-")
	var f float64
	switch strings.ToLower(body) {
	case "nan":
		return math.NaN(), true
	case "inf", "infinity":
		f = math.Inf(1)
	default:
		digits, ok := floatDigits(body)
		if !ok {
			return 0, false
		}
		var err error
		f, err = strconv.ParseFloat(digits, 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return 0, false
		}
	}
	if neg {
		f = -f
	}
	return f, true
}

// floatDigits checks the decimal float syntax of Python's float() (digits,
// optional single underscores between digits, point, exponent) and returns
// the text without underscores.
func floatDigits(s string) (string, bool) {
	out := make([]byte, 0, len(s))
	mantissa, seenDot, seenExp, expDigits := 0, false, false, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case digit(c):
			if seenExp {
				expDigits++
			} else {
				mantissa++
			}
		case c == '_':
			if i == 0 || i+1 >= len(s) || !digit(s[i-1]) || !digit(s[i+1]) {
				return "", false
			}
			continue
		case c == '.' && !seenDot && !seenExp:
			seenDot = true
		case (c == 'e' || c == 'E') && !seenExp && mantissa > 0:
			seenExp = true
			if i+1 < len(s) && (s[i+1] == '+' || s[i+1] == '-') {
				out = append(out, c)
				i++
				c = s[i]
			}
		default:
			return "", false
		}
		out = append(out, c)
	}
	return string(out), mantissa > 0 && (!seenExp || expDigits > 0)
}

// hashable refuses dict keys and set elements Python cannot hash.
func hashable(v wire.Value) error {
	if t := wire.UnhashableDecoded(v); t != "" {
		return fmt.Errorf("unhashable type: '%s'", t)
	}
	return nil
}

// keyIndex finds an equal earlier key while a dict or set is read. Small
// containers are scanned; from indexMin keys on they are indexed, so that
// hostile input with many keys costs linear time, not quadratic.
type keyIndex struct {
	strs  map[string]int
	other map[string]int
}

const indexMin = 16

func (x *keyIndex) findInDict(items []wire.DictItem, k wire.Value) int {
	if x.strs == nil {
		if len(items) < indexMin {
			for i := range items {
				if wire.Equal(items[i].Key, k) {
					return i
				}
			}
			return -1
		}
		x.init(len(items))
		for i := range items {
			x.add(items[i].Key, i)
		}
	}
	return x.lookup(k)
}

func (x *keyIndex) findInSet(items wire.Set, k wire.Value) int {
	if x.strs == nil {
		if len(items) < indexMin {
			for i := range items {
				if wire.Equal(items[i], k) {
					return i
				}
			}
			return -1
		}
		x.init(len(items))
		for i := range items {
			x.add(items[i], i)
		}
	}
	return x.lookup(k)
}

func (x *keyIndex) init(n int) {
	x.strs = make(map[string]int, 2*n)
	x.other = map[string]int{}
}

func (x *keyIndex) lookup(k wire.Value) int {
	if s, ok := k.(string); ok {
		if i, ok := x.strs[s]; ok {
			return i
		}
		return -1
	}
	if i, ok := x.other[string(appendKeyHash(nil, k))]; ok {
		return i
	}
	return -1
}

func (x *keyIndex) add(k wire.Value, i int) {
	if x.strs == nil {
		return
	}
	if s, ok := k.(string); ok {
		x.strs[s] = i
		return
	}
	x.other[string(appendKeyHash(nil, k))] = i
}

// appendKeyHash writes a text that is equal for two hashable values exactly
// when Python sees them as the same key: 1, 1.0, True and (1+0j) share one.
func appendKeyHash(b []byte, v wire.Value) []byte {
	switch x := v.(type) {
	case nil:
		return append(b, 'N')
	case bool:
		if x {
			return append(b, 'i', '1')
		}
		return append(b, 'i', '0')
	case int64:
		return strconv.AppendInt(append(b, 'i'), x, 10)
	case *big.Int: // never in int64 range, so base 16 cannot collide with an int64
		return x.Append(append(b, 'i'), 16)
	case float64:
		if x == math.Trunc(x) && !math.IsInf(x, 0) {
			if math.Abs(x) < 1<<63 {
				return strconv.AppendInt(append(b, 'i'), int64(x), 10)
			}
			n, _ := big.NewFloat(x).Int(nil)
			return n.Append(append(b, 'i'), 16) // as *big.Int keys: never an int64
		}
		return strconv.AppendUint(append(b, 'f'), math.Float64bits(x), 16)
	case complex128:
		if imag(x) == 0 {
			return appendKeyHash(b, real(x))
		}
		b = strconv.AppendUint(append(b, 'c'), math.Float64bits(real(x)+0), 16)
		return strconv.AppendUint(append(b, ','), math.Float64bits(imag(x)), 16)
	case string:
		b = strconv.AppendInt(append(b, 's'), int64(len(x)), 10)
		return append(append(b, ':'), x...)
	case []byte:
		b = strconv.AppendInt(append(b, 'b'), int64(len(x)), 10)
		return append(append(b, ':'), x...)
	case wire.Tuple:
		b = append(b, '(')
		for _, it := range x {
			b = append(appendKeyHash(b, it), ';')
		}
		return append(b, ')')
	}
	return append(b, '?')
}
