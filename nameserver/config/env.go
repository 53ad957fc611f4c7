package config

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"
)

// Handling is what this binary does with a PYRO_* item.
type Handling int

// The ways a PYRO_* item is handled.
const (
	// Applied items set a setting.
	Applied Handling = iota + 1
	// Accepted items are checked as Pyro4 checks them (a malformed value
	// stops the command) but change nothing, for the reason given.
	Accepted
)

// EnvItem is one PYRO_* item: its name, what is done with it, and for an
// accepted one why it does not apply.
type EnvItem struct {
	Name     string // with the PYRO_ prefix
	Handling Handling
	Reason   string
}

// envItem is an EnvItem with the parser that puts its value in a layer.
type envItem struct {
	name     string // without the PYRO_ prefix
	handling Handling
	reason   string
	parse    func(e *envParser, v string)
}

// The reasons accepted items do not apply.
const (
	noPool      = "no thread pool: each connection is served by its own goroutine"
	noObjects   = "the name server hosts no objects but its own, with a fixed interface"
	goIO        = "socket reads are whole-message reads by Go's runtime"
	clientsOnly = "read by Pyro4's own proxies; the name server never makes calls"
)

// envItems is every item of Pyro4 4.82's configuration.py, plus the three
// Pyro4 reads elsewhere (LOGLEVEL, LOGFILE, HMAC_KEY), in that file's order.
var envItems = []envItem{
	{"HOST", Applied, "", func(e *envParser, v string) { e.l.Host = Given(v, e.src) }},
	{"NS_HOST", Applied, "", func(e *envParser, v string) { e.l.NSHost = Given(v, e.src) }},
	{"NS_PORT", Applied, "", func(e *envParser, v string) { e.integer(&e.l.Port, v) }},
	{"NS_BCPORT", Applied, "", func(e *envParser, v string) { e.integer(&e.l.BroadcastPort, v) }},
	{"NS_BCHOST", Applied, "", func(e *envParser, v string) { e.l.BroadcastHost = Given(v, e.src) }},
	{"NS_AUTOCLEAN", Applied, "", func(e *envParser, v string) { e.seconds(&e.l.AutoClean, v) }},
	{"NATHOST", Applied, "", func(e *envParser, v string) { e.l.NATHost = Given(v, e.src) }},
	{"NATPORT", Applied, "", func(e *envParser, v string) { e.integer(&e.l.NATPort, v) }},
	{"COMPRESSION", Applied, "", func(e *envParser, v string) { e.boolean(&e.l.Compression, v) }},
	{"SERVERTYPE", Accepted, noPool + "; \"thread\" and \"multiplex\" serve alike", func(e *envParser, v string) {
		if v != "thread" && v != "multiplex" {
			e.fail("PYRO_SERVERTYPE=%q: invalid server type (thread or multiplex)", v)
		}
	}},
	{"COMMTIMEOUT", Applied, "", func(e *envParser, v string) { e.seconds(&e.l.CommTimeout, v) }},
	{"POLLTIMEOUT", Accepted, "there is no polling loop to wake: shutdown is immediate", (*envParser).checkFloat},
	{"SOCK_REUSE", Accepted, "listening sockets always set SO_REUSEADDR (Go's default on Unix)", (*envParser).checkBool},
	{"SOCK_NODELAY", Accepted, "TCP connections always set TCP_NODELAY (Go's default)", (*envParser).checkBool},
	{"ONEWAY_THREADED", Accepted, noObjects + "; it has no oneway methods", (*envParser).checkBool},
	{"DETAILED_TRACEBACK", Accepted, "a Go server has no Python frames to detail; errors carry Pyro4's class and message", (*envParser).checkBool},
	{"THREADPOOL_SIZE", Accepted, noPool, (*envParser).checkInt},
	{"THREADPOOL_SIZE_MIN", Accepted, noPool, (*envParser).checkInt},
	{"AUTOPROXY", Accepted, noObjects + "; no reply holds an object to proxy", (*envParser).checkBool},
	{"MAX_MESSAGE_SIZE", Applied, "", func(e *envParser, v string) { e.integer(&e.l.MaxMessageSize, v) }},
	{"BROADCAST_ADDRS", Applied, "", func(e *envParser, v string) { e.l.BroadcastAddrs = Given(ParseAddresses(v), e.src) }},
	{"FLAME_ENABLED", Accepted, "Flame is not part of a name server (pyro4-ns never starts it)", (*envParser).checkBool},
	{"PREFER_IP_VERSION", Accepted, "host names resolve as Go's resolver orders them; bind to an address (-n 127.0.0.1, -n ::1) to choose", func(e *envParser, v string) {
		var n Value[int]
		if e.integer(&n, v) && n.V != 0 && n.V != 4 && n.V != 6 {
			e.fail("PYRO_PREFER_IP_VERSION=%q: want 4, 6 or 0", v)
		}
	}},
	{"SERIALIZER", Applied, "", func(e *envParser, v string) { e.l.Serializer = Given(v, e.src) }},
	{"SERIALIZERS_ACCEPTED", Applied, "", func(e *envParser, v string) {
		var names []string
		for _, n := range ParseAddresses(v) {
			if n != "" {
				names = append(names, n)
			}
		}
		e.l.SerializersAccepted = Given(names, e.src)
	}},
	{"LOGWIRE", Accepted, "the log has no wire-level messages (PYRO_LOGLEVEL=DEBUG logs the server's events)", (*envParser).checkBool},
	{"PICKLE_PROTOCOL_VERSION", Accepted, "replies in pickle are written in protocol 2, which every Pyro4 peer reads", (*envParser).checkInt},
	{"DILL_PROTOCOL_VERSION", Accepted, "dill is not a serializer of this name server", (*envParser).checkInt},
	{"METADATA", Accepted, "the client tools always ask for the metadata on connect, as with the default; the server answers a client either way", (*envParser).checkBool},
	{"REQUIRE_EXPOSE", Accepted, noObjects + ", all of it exposed", (*envParser).checkBool},
	{"USE_MSG_WAITALL", Accepted, goIO, (*envParser).checkBool},
	{"JSON_MODULE", Accepted, "json is Go's own encoder, writing what Python's json module writes", func(*envParser, string) {}},
	{"MAX_RETRIES", Accepted, clientsOnly + "; the client tools here make each call once", (*envParser).checkInt},
	{"ITER_STREAMING", Accepted, noObjects + "; no method returns an iterator", (*envParser).checkBool},
	{"ITER_STREAM_LIFETIME", Accepted, noObjects + "; no method returns an iterator", (*envParser).checkFloat},
	{"ITER_STREAM_LINGER", Accepted, noObjects + "; no method returns an iterator", (*envParser).checkFloat},
	{"SSL", Applied, "", func(e *envParser, v string) { e.boolean(&e.l.TLS.Enabled, v) }},
	{"SSL_REQUIRECLIENTCERT", Applied, "", func(e *envParser, v string) { e.boolean(&e.l.TLS.RequireClientCert, v) }},
	{"SSL_CACERTS", Applied, "", func(e *envParser, v string) { e.l.TLS.CACerts = Given(v, e.src) }},
	{"SSL_SERVERCERT", Applied, "", func(e *envParser, v string) { e.l.TLS.ServerCert = Given(v, e.src) }},
	{"SSL_SERVERKEY", Applied, "", func(e *envParser, v string) { e.l.TLS.ServerKey = Given(v, e.src) }},
	{"SSL_SERVERKEYPASSWD", Applied, "", func(e *envParser, v string) { e.l.TLS.ServerKeyPassword = e.Secret(v) }},
	{"SSL_CLIENTCERT", Applied, "", func(e *envParser, v string) { e.l.TLS.ClientCert = Given(v, e.src) }},
	{"SSL_CLIENTKEY", Applied, "", func(e *envParser, v string) { e.l.TLS.ClientKey = Given(v, e.src) }},
	{"SSL_CLIENTKEYPASSWD", Applied, "", func(e *envParser, v string) { e.l.TLS.ClientKeyPassword = e.Secret(v) }},
	{"LOGLEVEL", Applied, "", func(e *envParser, v string) {
		if _, err := ParseLogLevel(v); err != nil {
			e.fail("%v", err)
			return
		}
		e.l.LogLevel = Given(v, e.src)
	}},
	{"LOGFILE", Applied, "", func(e *envParser, v string) { e.l.LogFile = Given(v, e.src) }},
	{"HMAC_KEY", Applied, "", func(e *envParser, v string) { e.l.HMACKey = e.Secret(v) }},
}

// EnvItems lists every PYRO_* item and what is done with it.
func EnvItems() []EnvItem {
	out := make([]EnvItem, len(envItems))
	for i, it := range envItems {
		out[i] = EnvItem{"PYRO_" + it.name, it.handling, it.reason}
	}
	return out
}

// EnvError is one or more malformed PYRO_* items.
type EnvError struct {
	Problems []string
}

func (e *EnvError) Error() string { return "configuration: " + strings.Join(e.Problems, "; ") }

// EnvLayer reads the PYRO_* items found by lookup (os.LookupEnv when nil)
// into a layer. A malformed value is an *EnvError naming the item, as
// Pyro4's own configuration raises ValueError for it.
func EnvLayer(lookup func(string) (string, bool)) (Layer, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	var e envParser
	for _, it := range envItems {
		v, ok := lookup("PYRO_" + it.name)
		if !ok {
			continue
		}
		e.name, e.src = "PYRO_"+it.name, EnvSource("PYRO_"+it.name)
		it.parse(&e, v)
	}
	if len(e.errs) > 0 {
		return e.l, &EnvError{Problems: e.errs}
	}
	return e.l, nil
}

// envParser collects one environment's layer and its problems.
type envParser struct {
	l    Layer
	name string // the item being parsed
	src  Source
	errs []string
}

func (e *envParser) fail(format string, a ...any) { e.errs = append(e.errs, fmt.Sprintf(format, a...)) }

// integer parses as Python's int() does, surrounding spaces allowed.
func (e *envParser) integer(dst *Value[int], v string) bool {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		e.fail("%s=%q: not an integer", e.name, v)
		return false
	}
	*dst = Given(n, e.src)
	return true
}

// seconds parses a float number of seconds, as Pyro4's float items are.
func (e *envParser) seconds(dst *Value[time.Duration], v string) {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil || f < 0 || math.IsNaN(f) || f > maxSeconds {
		e.fail("%s=%q: not a number of seconds", e.name, v)
		return
	}
	*dst = Given(time.Duration(f*float64(time.Second)), e.src)
}

// boolean parses as Pyro4's configuration does: 0/1, no/yes, off/on,
// false/true in any case, nothing else.
func (e *envParser) boolean(dst *Value[bool], v string) {
	switch strings.ToLower(v) {
	case "0", "off", "no", "false":
		*dst = Given(false, e.src)
	case "1", "yes", "on", "true":
		*dst = Given(true, e.src)
	default:
		e.fail("invalid boolean value: %s=%s", e.name, v)
	}
}

// secret keeps a key or password; set but empty means none, as in Pyro4.
func (e *envParser) Secret(v string) Value[Secret] {
	if v == "" {
		return Given[Secret](nil, e.src)
	}
	return Given(Secret(v), e.src)
}

func (e *envParser) checkBool(v string) {
	var b Value[bool]
	e.boolean(&b, v)
}

func (e *envParser) checkInt(v string) {
	var n Value[int]
	e.integer(&n, v)
}

func (e *envParser) checkFloat(v string) {
	if _, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
		e.fail("%s=%q: not a number", e.name, v)
	}
}

// ParseAddresses splits a comma-separated address list as Pyro4 does: items
// are trimmed and the literal ” stands for the empty string.
func ParseAddresses(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		a = strings.TrimSpace(a)
		if a == "''" {
			a = ""
		}
		out = append(out, a)
	}
	return out
}
