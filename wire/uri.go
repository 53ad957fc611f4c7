package wire

import (
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// DefaultNSPort is the name server port a PYRONAME or PYROMETA URI gets when
// it names a host without a port (Pyro4's NS_PORT default).
const DefaultNSPort = 9090

// URI is a Pyro4 object URI: PYRO:obj@host:port, PYRO:obj@./u:sockname,
// PYRONAME:name[@host[:port]] or PYROMETA:a,b[@host[:port]].
type URI struct {
	Protocol string   // PYRO, PYRONAME or PYROMETA, upper-case
	Object   string   // object id or name; empty for PYROMETA
	Meta     []string // PYROMETA metadata, sorted and without duplicates
	Host     string   // empty for a Unix socket or no location
	Port     int
	Sockname string // Unix socket path, for ./u: locations
}

var (
	uriRegexp  = regexp.MustCompile(`^([Pp][Yy][Rr][Oo][a-zA-Z]*):(\S+?)(@(.+))?$`)
	ipv6Regexp = regexp.MustCompile(`^\[([0-9a-fA-F:%]+)](:(\d+))?`)
)

func uriError(msg string) error { return &Exception{Class: ClassPyroError, Message: msg} }

// ParseURI parses s with the accept/reject decisions and error messages of
// Pyro4's core.URI, using DefaultNSPort for name server locations.
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
		u.Meta = splitMeta(u.Object)
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

func splitMeta(s string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

func (u *URI) parseLocation(location string, defaultPort int) error {
	if location == "" {
		return nil
	}
	if strings.HasPrefix(location, "./u:") {
		u.Sockname = location[4:]
		if u.Sockname == "" || strings.Contains(u.Sockname, ":") {
			return uriError("invalid uri (location)")
		}
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
	if port == "" {
		if defaultPort < 0 {
			return uriError("invalid port in uri, port=None")
		}
		u.Port = defaultPort
		return nil
	}
	n, err := pyInt(port)
	if err != nil {
		return uriError("invalid port in uri, port=" + port)
	}
	u.Port = n
	return nil
}

// pyInt parses like Python's int(str): surrounding whitespace, a sign and
// underscores between digits are allowed.
func pyInt(s string) (int, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "_") {
		if strings.HasPrefix(s, "_") || strings.HasSuffix(s, "_") || strings.Contains(s, "__") {
			return 0, strconv.ErrSyntax
		}
		s = strings.ReplaceAll(s, "_", "")
	}
	return strconv.Atoi(s)
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

// String formats the URI as Pyro4's URI.asString does.
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

// Value is the class-dict form Pyro4 sends for a URI object:
// {'__class__': 'Pyro4.core.URI', 'state': (protocol, object, sockname, host, port)}.
func (u URI) Value() Value {
	var obj Value = u.Object
	if u.Protocol == "PYROMETA" {
		s := make(Set, len(u.Meta))
		for i, m := range u.Meta {
			s[i] = m
		}
		obj = s
	}
	var sock, host, port Value
	if u.Sockname != "" {
		sock = u.Sockname
	}
	if u.Host != "" {
		host = u.Host
	}
	if u.Host != "" || u.Port != 0 {
		port = int64(u.Port)
	}
	d := NewDict(2)
	d.Append("__class__", "Pyro4.core.URI")
	d.Append("state", Tuple{u.Protocol, obj, sock, host, port})
	return d
}

// URIFromValue accepts what a Pyro4 peer may send where a URI is expected:
// a str, or a URI class dict whose state may arrive as a tuple or (json) a list.
func URIFromValue(v Value) (URI, error) {
	switch x := v.(type) {
	case string:
		return ParseURI(x)
	case *Dict:
		if c, _ := x.GetString("__class__"); c != "Pyro4.core.URI" {
			break
		}
		st, _ := x.GetString("state")
		var items []Value
		switch s := st.(type) {
		case Tuple:
			items = s
		case List:
			items = s
		}
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
				sort.Strings(meta)
				u.Meta = meta
			}
		}
		u.Sockname, _ = items[2].(string)
		u.Host, _ = items[3].(string)
		if p, ok := items[4].(int64); ok {
			u.Port = int(p)
		}
		return u, nil
	}
	return URI{}, &Exception{Class: ClassTypeError, Message: "uri parameter object is of wrong type"}
}
