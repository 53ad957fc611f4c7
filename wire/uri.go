package wire

import (
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// URI is a Pyro4 object URI: PYRO:obj@host:port, PYRO:obj@./u:sockname,
// PYRONAME:name[@host[:port]] or PYROMETA:a,b[@host[:port]].
type URI struct {
	Protocol string   // PYRO, PYRONAME or PYROMETA, upper-case
	Object   string   // object id or name; empty for PYROMETA
	Meta     []string // PYROMETA metadata, sorted and without duplicates
	Host     string   // empty for a Unix socket or no location
	Port     int
	Sockname string // Unix socket path, for ./u: locations

	// emptyHost records a location whose host part was present but empty
	// ("PYRO:obj@:9090"): Pyro4 keeps host '' and the port there, where a
	// URI without a location has host and port None.
	emptyHost bool
}

// pySpace is the set of characters for which Python's str.isspace() is
// true, which is what \s and \S mean in Pyro4's (Unicode) URI pattern. Go's
// own \s is ASCII only, and unicode.IsSpace lacks \x1c-\x1f.
const pySpace = `\t\n\v\f\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}`

var (
	// Pyro4's pattern, matched from the start; Python's $ also matches
	// before a final newline, hence \n?\z. Go's leftmost-first matching
	// picks the same submatches as Python's backtracking, lazy object
	// included.
	uriRegexp = regexp.MustCompile(`^([Pp][Yy][Rr][Oo][a-zA-Z]*):([^` + pySpace + `]+?)(@(.+))?\n?\z`)
	// anchored at the start only, as re.match is; \d is any Unicode decimal digit
	ipv6Regexp = regexp.MustCompile(`^\[([0-9a-fA-F:%]+)\](:(\p{Nd}+))?`)
)

func uriError(msg string) error { return &Exception{Class: ClassPyroError, Message: msg} }

// ParseURI parses s with the accept/reject decisions and error messages of
// Pyro4's core.URI, using DefaultNSPort for name server locations.
//
// One difference: Python accepts a port of any size, and this refuses a
// port that does not fit in an int, with Pyro4's invalid-port message.
func ParseURI(s string) (URI, error) { return ParseURIPort(s, DefaultNSPort) }

// ParseURIPort is ParseURI with the default name server port given.
func ParseURIPort(s string, nsPort int) (URI, error) {
	m := uriRegexp.FindStringSubmatch(s)
	if m == nil {
		return URI{}, uriError("invalid uri")
	}
	u := URI{Protocol: strings.ToUpper(m[1]), Object: m[2]}
	location := m[4]
	var err error
	switch u.Protocol {
	case "PYRONAME":
		err = u.parseLocation(location, nsPort)
	case "PYRO":
		if location == "" {
			return URI{}, uriError("invalid uri")
		}
		err = u.parseLocation(location, -1)
	case "PYROMETA":
		// Pyro4 strips each member, but the pattern has already excluded
		// every character strip() would remove.
		u.Meta = normMeta(strings.Split(u.Object, ","))
		u.Object = ""
		err = u.parseLocation(location, nsPort)
	default:
		return URI{}, uriError("invalid uri (protocol)")
	}
	if err != nil {
		return URI{}, err
	}
	return u, nil
}

// normMeta sorts and deduplicates, giving a Python set one canonical order.
func normMeta(members []string) []string {
	out := slices.Clone(members)
	sort.Strings(out)
	return slices.Compact(out)
}

// parseLocation follows URI._parseLocation; defaultPort < 0 stands for None.
func (u *URI) parseLocation(location string, defaultPort int) error {
	if location == "" {
		return nil
	}
	if sock, ok := strings.CutPrefix(location, "./u:"); ok {
		if sock == "" || strings.Contains(sock, ":") {
			return uriError("invalid uri (location)")
		}
		u.Sockname = sock
		return nil
	}
	var port string
	if strings.HasPrefix(location, "[") {
		if strings.HasPrefix(location, "[[") {
			return uriError("invalid ipv6 address: enclosed in too many brackets")
		}
		m := ipv6Regexp.FindStringSubmatch(location)
		if m == nil {
			return uriError("invalid ipv6 address: the part between brackets must be a numeric ipv6 address")
		}
		u.Host, port = m[1], m[3]
	} else {
		u.Host, port, _ = strings.Cut(location, ":")
	}
	u.emptyHost = u.Host == ""
	if port == "" {
		if defaultPort < 0 {
			return uriError("invalid port in uri, port=None")
		}
		u.Port = defaultPort
		return nil
	}
	n, ok := pyInt(port)
	if !ok {
		return uriError("invalid port in uri, port=" + port)
	}
	u.Port = n
	return nil
}

// pyInt parses like Python's int(str): any Unicode decimal digits, ASCII
// whitespace or non-ASCII str.isspace() characters around the number, a
// sign, and single underscores between digits.
func pyInt(s string) (int, bool) {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r < 0x7f:
			b = append(b, byte(r))
		case isPySpace(r):
			b = append(b, ' ')
		default:
			d, ok := decimalValue(r)
			if !ok {
				return 0, false
			}
			b = append(b, '0'+byte(d))
		}
	}
	t := strings.Trim(string(b), " \t\n\v\f\r")
	digits := strings.TrimLeft(t, "+-")
	if len(t)-len(digits) > 1 {
		return 0, false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] == '_' && (i == 0 || i == len(digits)-1 || !isASCIIDigit(digits[i-1]) || !isASCIIDigit(digits[i+1])) {
			return 0, false
		}
	}
	n, err := strconv.Atoi(t[:len(t)-len(digits)] + strings.ReplaceAll(digits, "_", ""))
	return n, err == nil
}

func isASCIIDigit(c byte) bool { return '0' <= c && c <= '9' }

// isPySpace is Python's str.isspace() for one character.
func isPySpace(r rune) bool {
	return r >= 0x1c && r <= 0x1f || unicode.IsSpace(r)
}

// decimalValue is Python's unicodedata.decimal: decimal digits are encoded
// in runs of ten, 0 to 9, so the value is the offset in the run.
func decimalValue(r rune) (int, bool) {
	if !unicode.IsDigit(r) {
		return 0, false
	}
	start := r
	for unicode.IsDigit(start - 1) {
		start--
	}
	return int(r-start) % 10, true
}

// Location is host:port, [v6]:port, ./u:sockname, or "" when there is none.
func (u URI) Location() string {
	switch {
	case u.Host != "":
		if strings.Contains(u.Host, ":") {
			return "[" + u.Host + "]:" + strconv.Itoa(u.Port)
		}
		return u.Host + ":" + strconv.Itoa(u.Port)
	case u.Sockname != "":
		return "./u:" + u.Sockname
	}
	return ""
}

// String formats the URI as Pyro4's URI.asString does, with PYROMETA
// members sorted (Python writes them in set order).
func (u URI) String() string {
	var b strings.Builder
	b.WriteString(u.Protocol)
	b.WriteByte(':')
	if u.Protocol == "PYROMETA" {
		b.WriteString(strings.Join(u.Meta, ","))
	} else {
		b.WriteString(u.Object)
	}
	if loc := u.Location(); loc != "" {
		b.WriteByte('@')
		b.WriteString(loc)
	}
	return b.String()
}

// hasHost says whether Pyro4 would hold a host (and so a port) rather than None.
func (u URI) hasHost() bool { return u.Host != "" || u.emptyHost }

// Equal is Pyro4's URI.__eq__: protocol, object (a set for PYROMETA),
// sockname, host and port all equal.
func (u URI) Equal(o URI) bool {
	if u.Protocol != o.Protocol || u.Object != o.Object || u.Sockname != o.Sockname ||
		u.Host != o.Host || u.hasHost() != o.hasHost() || (u.hasHost() && u.Port != o.Port) {
		return false
	}
	return slices.Equal(normMeta(u.Meta), normMeta(o.Meta))
}

// Value is the class-dict form Pyro4 sends for a URI object:
// {'__class__': 'Pyro4.core.URI', 'state': (protocol, object, sockname, host, port)},
// with None where Pyro4 has None and a set of members for PYROMETA.
func (u URI) Value() Value {
	var obj Value = u.Object
	if u.Protocol == "PYROMETA" {
		obj = Set(StrList(u.Meta))
	}
	var sock, host, port Value
	if u.Sockname != "" {
		sock = u.Sockname
	}
	if u.hasHost() {
		host, port = u.Host, int64(u.Port)
	}
	d := NewDict(2)
	d.Append("__class__", ClassURI)
	d.Append("state", Tuple{u.Protocol, obj, sock, host, port})
	return d
}

// URIFromValue accepts what a Pyro4 peer may send where a URI is expected:
// a str, or a URI class dict whose state may arrive as a tuple or (json,
// msgpack) a list, and whose PYROMETA members may be a set, tuple or list.
// Like Pyro4's __setstate__ it does not validate the state's contents.
func URIFromValue(v Value) (URI, error) {
	switch x := v.(type) {
	case string:
		return ParseURI(x)
	case *Dict:
		if c, _ := x.GetString("__class__"); c != ClassURI {
			break
		}
		st, _ := x.GetString("state")
		items, _ := Sequence(st)
		if len(items) != 5 {
			return URI{}, uriError("invalid uri state")
		}
		u := URI{}
		u.Protocol, _ = items[0].(string)
		switch o := items[1].(type) {
		case string:
			u.Object = o
		default:
			if meta, ok := Strings(o); ok {
				u.Meta = normMeta(meta)
			}
		}
		u.Sockname, _ = items[2].(string)
		if h, ok := items[3].(string); ok {
			u.Host, u.emptyHost = h, h == ""
		}
		if p, ok := items[4].(int64); ok && int64(int(p)) == p {
			u.Port = int(p)
		}
		return u, nil
	}
	return URI{}, &Exception{Class: ClassTypeError, Message: "uri parameter object is of wrong type"}
}
