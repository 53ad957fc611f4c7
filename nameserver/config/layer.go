package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pyro4/pyro4/persist"
)

// Origin is the kind of place a setting came from, lowest precedence first.
type Origin int

// The places a setting comes from, in the order they are layered.
const (
	FromDefault Origin = iota
	FromFile
	FromEnv
	FromFlag
)

// Source says where a setting's value came from: Pyro4's default, a line of
// the configuration file, a PYRO_* item, or a command-line flag.
type Source struct {
	Origin Origin
	// Where is "path:line" for the file, the variable's name for the
	// environment, the flag as written in the help ("-p") for a flag.
	Where string
}

// DefaultSource, FileSource, EnvSource and FlagSource build the Source of
// each kind of layer.
func DefaultSource() Source          { return Source{Origin: FromDefault} }
func FileSource(where string) Source { return Source{FromFile, where} }
func EnvSource(name string) Source   { return Source{FromEnv, name} }
func FlagSource(name string) Source  { return Source{FromFlag, name} }

func (s Source) String() string {
	switch s.Origin {
	case FromFile:
		return s.Where
	case FromEnv:
		return "environment " + s.Where
	case FromFlag:
		return "flag " + s.Where
	}
	return "default"
}

// Value is one setting in a Layer: its value, whether the layer sets it, and
// where the layer got it.
type Value[T any] struct {
	V   T
	Set bool
	Src Source
}

// Given is a value a layer sets.
func Given[T any](v T, src Source) Value[T] { return Value[T]{V: v, Set: true, Src: src} }

// Flag is the value of a flag that is a pointer when given and nil when not:
// the flag's layer sets the setting only when the flag was given.
func Flag[T any](p *T, name string) Value[T] {
	if p == nil {
		return Value[T]{}
	}
	return Given(*p, FlagSource(name))
}

// field is what the resolver needs of a Value whatever its type.
type field interface {
	given() bool
	source() Source
	text() string
	// take replaces the value by o's when o is set; o has the same type.
	take(o field)
}

func (v *Value[T]) given() bool    { return v.Set }
func (v *Value[T]) source() Source { return v.Src }
func (v *Value[T]) take(o field) {
	if ov := o.(*Value[T]); ov.Set {
		*v = *ov
	}
}

// text renders the value for the log and for --check. A key is never shown.
func (v *Value[T]) text() string {
	switch x := any(v.V).(type) {
	case string:
		return x
	case int:
		return strconv.Itoa(x)
	case bool:
		return strconv.FormatBool(x)
	case time.Duration:
		return x.String()
	case []string:
		return strings.Join(x, ",")
	case Secret:
		if len(x) == 0 {
			return "(none)"
		}
		return "(set, " + strconv.Itoa(len(x)) + " bytes)"
	case []persist.Entry:
		names := make([]string, len(x))
		for i, e := range x {
			names[i] = e.Name
		}
		if len(x) == 0 {
			return "0"
		}
		return strconv.Itoa(len(x)) + " (" + sampleNames(names) + ")"
	}
	return fmt.Sprint(v.V)
}

// Secret is a key or a password: compared and counted, never shown.
type Secret []byte

// Layer is the settings one source gives: Pyro4's defaults, the
// configuration file, the PYRO_* environment and the command line each
// produce one, and Resolve lays them over each other. A Value that is not
// Set leaves the setting to the layers below.
type Layer struct {
	Host       Value[string] // where a server binds
	NSHost     Value[string] // where a client looks for the name server
	Port       Value[int]    // the name server's port
	UnixSocket Value[string]
	Storage    Value[string] // a persist.ParseStorage spec

	Broadcast      Value[bool]
	BroadcastHost  Value[string]
	BroadcastPort  Value[int]
	BroadcastAddrs Value[[]string] // where a client broadcasts

	NATHost Value[string]
	NATPort Value[int]

	SerializersAccepted Value[[]string]
	Serializer          Value[string] // what a client sends with
	CommTimeout         Value[time.Duration]
	AutoClean           Value[time.Duration]
	MaxMessageSize      Value[int]
	Compression         Value[bool]
	HMACKey             Value[Secret]

	// Bounds on what clients may take of a server (no PYRO_* item).
	ReplyBudget    Value[int]           // bytes of unsent replies, 0 = unlimited
	ScanTimeout    Value[time.Duration] // one list/remove scan, 0 = unbounded
	MaxConnections Value[int]           // 0 = unlimited

	LogLevel  Value[string]
	LogFile   Value[string]
	LogFormat Value[string] // "text" or "json"

	HTTPListen Value[string] // the operations endpoint's address, "" for none

	TLS TLSLayer

	// Etcd is the [etcd] table, for an "etcd:" storage.
	Etcd EtcdLayer

	// Static are the static registrations; only the file sets them.
	Static Value[[]persist.Entry]
}

// Scope says which commands a setting concerns.
type Scope int

// The scopes of a setting.
const (
	ForServer Scope = 1 << iota
	ForClient
	ForBoth = ForServer | ForClient
)

// item is one setting as the resolver, the reload log and --check see it:
// its key (the configuration file's, or for an environment-only setting the
// name --check shows), whether a running server takes a change (live), and
// where it lives in a Layer. This table is the one list of settings.
type item struct {
	key   string
	scope Scope
	live  bool
	get   func(*Layer) field
}

var items = []item{
	{"host", ForServer, false, func(l *Layer) field { return &l.Host }},
	{"ns_host", ForClient, false, func(l *Layer) field { return &l.NSHost }},
	{"port", ForBoth, false, func(l *Layer) field { return &l.Port }},
	{"unixsocket", ForServer, false, func(l *Layer) field { return &l.UnixSocket }},
	{"storage", ForServer, false, func(l *Layer) field { return &l.Storage }},
	{"broadcast.enabled", ForServer, false, func(l *Layer) field { return &l.Broadcast }},
	{"broadcast.host", ForServer, false, func(l *Layer) field { return &l.BroadcastHost }},
	{"broadcast.port", ForBoth, false, func(l *Layer) field { return &l.BroadcastPort }},
	{"broadcast_addrs", ForClient, false, func(l *Layer) field { return &l.BroadcastAddrs }},
	{"nat.host", ForServer, true, func(l *Layer) field { return &l.NATHost }},
	{"nat.port", ForServer, true, func(l *Layer) field { return &l.NATPort }},
	{"serializers_accepted", ForServer, false, func(l *Layer) field { return &l.SerializersAccepted }},
	{"serializer", ForClient, false, func(l *Layer) field { return &l.Serializer }},
	{"comm_timeout", ForBoth, false, func(l *Layer) field { return &l.CommTimeout }},
	{"autoclean", ForServer, false, func(l *Layer) field { return &l.AutoClean }},
	{"max_message_size", ForBoth, false, func(l *Layer) field { return &l.MaxMessageSize }},
	{"compression", ForBoth, false, func(l *Layer) field { return &l.Compression }},
	{"hmac_key", ForBoth, false, func(l *Layer) field { return &l.HMACKey }},
	{"reply_budget", ForServer, false, func(l *Layer) field { return &l.ReplyBudget }},
	{"scan_timeout", ForServer, false, func(l *Layer) field { return &l.ScanTimeout }},
	{"max_connections", ForServer, false, func(l *Layer) field { return &l.MaxConnections }},
	{"loglevel", ForServer, false, func(l *Layer) field { return &l.LogLevel }},
	{"logfile", ForServer, false, func(l *Layer) field { return &l.LogFile }},
	{"log_format", ForServer, false, func(l *Layer) field { return &l.LogFormat }},
	{"http.listen", ForServer, false, func(l *Layer) field { return &l.HTTPListen }},
	{"tls.ssl", ForBoth, false, func(l *Layer) field { return &l.TLS.Enabled }},
	{"tls.server_cert", ForServer, false, func(l *Layer) field { return &l.TLS.ServerCert }},
	{"tls.server_key", ForServer, false, func(l *Layer) field { return &l.TLS.ServerKey }},
	{"tls.server_key_password", ForServer, false, func(l *Layer) field { return &l.TLS.ServerKeyPassword }},
	{"tls.require_client_cert", ForServer, false, func(l *Layer) field { return &l.TLS.RequireClientCert }},
	{"tls.client_cert", ForClient, false, func(l *Layer) field { return &l.TLS.ClientCert }},
	{"tls.client_key", ForClient, false, func(l *Layer) field { return &l.TLS.ClientKey }},
	{"tls.client_key_password", ForClient, false, func(l *Layer) field { return &l.TLS.ClientKeyPassword }},
	{"tls.ca_certs", ForBoth, false, func(l *Layer) field { return &l.TLS.CACerts }},
	{"etcd.prefix", ForServer, false, func(l *Layer) field { return &l.Etcd.Prefix }},
	{"etcd.dial_timeout", ForServer, false, func(l *Layer) field { return &l.Etcd.DialTimeout }},
	{"etcd.request_timeout", ForServer, false, func(l *Layer) field { return &l.Etcd.RequestTimeout }},
	{"etcd.ca", ForServer, false, func(l *Layer) field { return &l.Etcd.CA }},
	{"etcd.cert", ForServer, false, func(l *Layer) field { return &l.Etcd.Cert }},
	{"etcd.key", ForServer, false, func(l *Layer) field { return &l.Etcd.Key }},
	{"etcd.username", ForServer, false, func(l *Layer) field { return &l.Etcd.Username }},
	{"etcd.password_file", ForServer, false, func(l *Layer) field { return &l.Etcd.PasswordFile }},
	{"registration", ForServer, true, func(l *Layer) field { return &l.Static }},
}

// Resolved is every setting with its value and where that came from.
type Resolved struct {
	l Layer
}

// Resolve lays the layers over Pyro4's defaults, each over the one before
// (pass them as file, environment, flags), and checks the settings that
// concern scope.
func Resolve(scope Scope, layers ...Layer) (Resolved, error) {
	r := layered(layers...)
	return *r, r.validate(scope)
}

// Source returns where the setting with the given key came from.
func (r Resolved) Source(key string) Source {
	for _, it := range items {
		if it.key == key {
			return it.get(&r.l).source()
		}
	}
	return Source{}
}

// Setting is one resolved setting as --check prints it.
type Setting struct {
	Key    string
	Value  string // a key or password shows only whether it is set
	Source Source
}

// Report lists the settings that concern scope, in the table's order, each
// with its value and source.
func (r Resolved) Report(scope Scope) []Setting {
	var out []Setting
	for _, it := range items {
		if it.scope&scope == 0 {
			continue
		}
		f := it.get(&r.l)
		out = append(out, Setting{it.key, f.text(), f.source()})
	}
	return out
}

// Settings returns the resolved values.
func (r Resolved) Settings() Settings {
	l := &r.l
	return Settings{
		Host:                l.Host.V,
		NSHost:              l.NSHost.V,
		Port:                l.Port.V,
		UnixSocket:          l.UnixSocket.V,
		Storage:             l.Storage.V,
		Broadcast:           l.Broadcast.V,
		BroadcastHost:       l.BroadcastHost.V,
		BroadcastPort:       l.BroadcastPort.V,
		BroadcastAddrs:      clone(l.BroadcastAddrs.V),
		NATHost:             l.NATHost.V,
		NATPort:             l.NATPort.V,
		SerializersAccepted: clone(l.SerializersAccepted.V),
		Serializer:          l.Serializer.V,
		CommTimeout:         l.CommTimeout.V,
		AutoClean:           l.AutoClean.V,
		MaxMessageSize:      l.MaxMessageSize.V,
		Compression:         l.Compression.V,
		HMACKey:             clone([]byte(l.HMACKey.V)),
		ReplyBudget:         l.ReplyBudget.V,
		ScanTimeout:         l.ScanTimeout.V,
		MaxConnections:      l.MaxConnections.V,
		LogLevel:            l.LogLevel.V,
		LogFile:             l.LogFile.V,
		LogFormat:           l.LogFormat.V,
		HTTPListen:          l.HTTPListen.V,
		TLS:                 l.TLS.settings(),
		Etcd:                l.Etcd.settings(),
		Static:              clone(l.Static.V),
	}
}

// clone copies a slice, keeping nil as nil.
func clone[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}

// maxLogNames bounds the names a log line lists: a reload of thousands of
// registrations logs their count and a sample, not a line of megabytes.
const maxLogNames = 10

// sampleNames lists at most maxLogNames names and how many more there are.
func sampleNames(names []string) string {
	if len(names) <= maxLogNames {
		return strings.Join(names, ",")
	}
	return fmt.Sprintf("%s,... (%d more)", strings.Join(names[:maxLogNames], ","), len(names)-maxLogNames)
}
