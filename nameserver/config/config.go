package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/pyro4/pyro4/persist"
	"github.com/pyro4/pyro4/wire"
)

// Config is a parsed and validated configuration file. A nil pointer (or nil
// slice) is a setting the file leaves alone, so that what lies under the file
// (Pyro4's defaults) shows through and what lies over it (PYRO_* items, the
// command line) wins.
type Config struct {
	Path string // the file, as given to Parse

	Host       *string
	Port       *int
	UnixSocket *string // relative paths are resolved against the file's directory
	Storage    *string // likewise for bolt:FILE

	BroadcastEnabled *bool
	BroadcastHost    *string
	BroadcastPort    *int

	NATHost *string
	NATPort *int

	SerializersAccepted []string
	CommTimeout         *time.Duration
	AutoClean           *time.Duration
	MaxMessageSize      *int
	Compression         *bool
	ReplyBudget         *int
	ScanTimeout         *time.Duration
	MaxConnections      *int

	// HMACKey is the key read from hmac_key_file or hmac_key_env; nil when
	// the file names neither.
	HMACKey []byte

	// TLS is the [tls] table.
	TLS TLSConfig

	// Etcd is the [etcd] table.
	Etcd EtcdConfig

	// HTTPListen is [http] listen: the operations endpoint's address, ""
	// for none.
	HTTPListen *string
	// LogFormat is log_format: "text" or "json".
	LogFormat *string

	// Registrations are the static entries, in file order.
	Registrations []persist.Entry

	// lines are where the keys set are, by setting key, for Layer's sources.
	lines map[string]int
}

// TLSConfig is the [tls] table: Pyro4's SSL_* items. Passwords come from a
// file or an environment variable, never from the configuration file.
type TLSConfig struct {
	Enabled           *bool
	ServerCert        *string // relative paths are resolved against the file's directory
	ServerKey         *string
	ServerKeyPassword []byte
	RequireClientCert *bool
	ClientCert        *string
	ClientKey         *string
	ClientKeyPassword []byte
	CACerts           *string
}

// Error is a problem in a configuration file, at a line when one is known.
type Error struct {
	File string
	Line int // 0 when unknown
	Msg  string
}

func (e *Error) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// model is the file as TOML sees it. Unknown keys are found through the
// decoder's metadata; registrations are decoded by hand, so that an error
// in the third one points at the third one's line.
type model struct {
	Host                *string          `toml:"host"`
	Port                *int64           `toml:"port"`
	UnixSocket          *string          `toml:"unixsocket"`
	Storage             *string          `toml:"storage"`
	SerializersAccepted *[]string        `toml:"serializers_accepted"`
	CommTimeout         *seconds         `toml:"comm_timeout"`
	AutoClean           *seconds         `toml:"autoclean"`
	MaxMessageSize      *int64           `toml:"max_message_size"`
	Compression         *bool            `toml:"compression"`
	ReplyBudget         *int64           `toml:"reply_budget"`
	ScanTimeout         *seconds         `toml:"scan_timeout"`
	MaxConnections      *int64           `toml:"max_connections"`
	HMACKeyFile         *string          `toml:"hmac_key_file"`
	HMACKeyEnv          *string          `toml:"hmac_key_env"`
	Broadcast           *broadcastModel  `toml:"broadcast"`
	NAT                 *natModel        `toml:"nat"`
	TLS                 *tlsModel        `toml:"tls"`
	HTTP                *httpModel       `toml:"http"`
	Etcd                *etcdModel       `toml:"etcd"`
	LogFormat           *string          `toml:"log_format"`
	Registration        []map[string]any `toml:"registration"`
}

type broadcastModel struct {
	Enabled *bool   `toml:"enabled"`
	Host    *string `toml:"host"`
	Port    *int64  `toml:"port"`
}

type natModel struct {
	Host *string `toml:"host"`
	Port *int64  `toml:"port"`
}

type httpModel struct {
	Listen *string `toml:"listen"`
}

type tlsModel struct {
	SSL                   *bool   `toml:"ssl"`
	ServerCert            *string `toml:"server_cert"`
	ServerKey             *string `toml:"server_key"`
	ServerKeyPasswordFile *string `toml:"server_key_password_file"`
	ServerKeyPasswordEnv  *string `toml:"server_key_password_env"`
	RequireClientCert     *bool   `toml:"require_client_cert"`
	ClientCert            *string `toml:"client_cert"`
	ClientKey             *string `toml:"client_key"`
	ClientKeyPasswordFile *string `toml:"client_key_password_file"`
	ClientKeyPasswordEnv  *string `toml:"client_key_password_env"`
	CACerts               *string `toml:"ca_certs"`
}

// seconds is a duration written as a number of seconds (as the PYRO_*
// items are) or as a Go duration string such as "1m30s".
type seconds time.Duration

// maxSeconds keeps a duration within time.Duration.
const maxSeconds = float64(math.MaxInt64 / int64(time.Second))

func (s *seconds) UnmarshalTOML(v any) error {
	var d time.Duration
	switch v := v.(type) {
	case int64:
		if v < 0 || float64(v) > maxSeconds {
			return fmt.Errorf("%d seconds is out of range", v)
		}
		d = time.Duration(v) * time.Second
	case float64:
		if math.IsNaN(v) || v < 0 || v > maxSeconds {
			return fmt.Errorf("%v seconds is out of range", v)
		}
		d = time.Duration(v * float64(time.Second))
	case string:
		var err error
		if d, err = time.ParseDuration(v); err != nil || d < 0 {
			return fmt.Errorf("%q is not a duration (write seconds, like 30, or a duration, like \"1m30s\")", v)
		}
	default:
		return fmt.Errorf("want a number of seconds or a duration string, not %T", v)
	}
	*s = seconds(d)
	return nil
}

// Load reads and parses the file at path. lookup resolves hmac_key_env
// (os.LookupEnv when nil).
func Load(path string, lookup func(string) (string, bool)) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data, lookup)
}

// Parse decodes and validates a configuration file's contents. path names
// the file in errors and anchors relative paths; a key file named by
// hmac_key_file is read, and hmac_key_env is resolved through lookup
// (os.LookupEnv when nil). Every error is an *Error.
func Parse(path string, data []byte, lookup func(string) (string, bool)) (*Config, error) {
	if lookup == nil {
		lookup = os.LookupEnv
	}
	p := &parser{path: path, data: data}
	// Syntax first, so that a syntax error is never reported as a decoding
	// one at the wrong key.
	var syntax map[string]any
	if _, err := toml.Decode(string(data), &syntax); err != nil {
		return nil, p.tomlError(err, false)
	}
	var m model
	md, err := toml.Decode(string(data), &m)
	if err != nil {
		return nil, p.tomlError(err, true)
	}
	p.keys = md.Keys()
	if err := p.unknownKeys(md.Undecoded()); err != nil {
		return nil, err
	}
	c := &Config{Path: path}
	for _, step := range []func(*model, *Config, func(string) (string, bool)) error{
		p.server, p.broadcast, p.nat, p.hmacKey, p.tls, p.ops, p.etcd, p.registrations,
	} {
		if err := step(&m, c, lookup); err != nil {
			return nil, err
		}
	}
	c.lines = p.settingLines()
	return c, nil
}

// parser carries what an error message needs: the file and its keys in file
// order.
type parser struct {
	path string
	data []byte
	keys []toml.Key
	pos  []keyPos // where the keys are; scanned when an error needs it
	regs []map[string]any
}

func (p *parser) errorf(line int, format string, a ...any) error {
	return &Error{File: p.path, Line: line, Msg: fmt.Sprintf(format, a...)}
}

// at returns the line of the nth (1-based) occurrence of key, 0 if unknown.
func (p *parser) at(nth int, key ...string) int {
	if p.pos == nil {
		p.pos = scanKeys(p.data)
	}
	return keyLine(p.pos, key, nth)
}

// decodeErrorRE matches the decoder's type errors, which carry their line
// only in the text.
var decodeErrorRE = regexp.MustCompile(`^toml: line (\d+) \(last key "(.*)"\): (.*)$`)

// tomlError turns a decoder error into an *Error; in the decoding phase
// (decoding), the error is about the value of the key it names.
func (p *parser) tomlError(err error, decoding bool) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		// The lexer counts a line once it has read its line break, so an
		// error at the end of a line gets the next line's number; the
		// error's offset says where it really is.
		line := pe.Position.Line
		if st := pe.Position.Start; st >= 0 && st < len(p.data) {
			line = 1 + bytes.Count(p.data[:st], []byte("\n"))
		}
		if decoding && pe.LastKey != "" {
			return p.errorf(line, "%s: %s", pe.LastKey, pe.Message)
		}
		return p.errorf(line, "%s", pe.Message)
	}
	if m := decodeErrorRE.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return p.errorf(line, "%s: %s", m[2], m[3])
	}
	return p.errorf(0, "%s", strings.TrimPrefix(err.Error(), "toml: "))
}

// unknownKeys reports the first key, in file order, that the model has no
// place for.
func (p *parser) unknownKeys(undecoded []toml.Key) error {
	if len(undecoded) == 0 {
		return nil
	}
	// Registration tables are decoded as maps (every key counts as
	// decoded), and no other table repeats, so this is the key's only
	// occurrence.
	k := undecoded[0]
	more := ""
	if len(undecoded) > 1 {
		more = fmt.Sprintf(" (and %d more)", len(undecoded)-1)
	}
	return p.errorf(p.at(1, k...), "unknown key %q%s", k.String(), more)
}

func (p *parser) port(v *int64, key ...string) (*int, error) {
	if v == nil {
		return nil, nil
	}
	if *v < 0 || *v > 65535 {
		return nil, p.errorf(p.at(1, key...), "%s: port %d is out of range (0-65535)", strings.Join(key, "."), *v)
	}
	n := int(*v)
	return &n, nil
}

// optPath is resolvePath for an optional key: nil stays nil.
func (p *parser) optPath(v *string) *string {
	if v == nil {
		return nil
	}
	s := p.resolvePath(*v)
	return &s
}

// resolvePath anchors a relative path at the configuration file's directory,
// so the file means the same whatever the server's working directory.
func (p *parser) resolvePath(name string) string {
	if name == "" || filepath.IsAbs(name) || p.path == "" {
		return name
	}
	return filepath.Join(filepath.Dir(p.path), name)
}

func (p *parser) server(m *model, c *Config, _ func(string) (string, bool)) error {
	c.Host = m.Host
	var err error
	if c.Port, err = p.port(m.Port, "port"); err != nil {
		return err
	}
	if m.UnixSocket != nil {
		s := p.resolvePath(*m.UnixSocket)
		c.UnixSocket = &s
	}
	if m.Storage != nil {
		st, err := persist.ParseStorage(*m.Storage)
		if err != nil {
			return p.errorf(p.at(1, "storage"), "storage: %v", err)
		}
		if st.Kind == "bolt" || st.Kind == "sql" { // files; an etcd store's Path is its endpoints
			st.Path = p.resolvePath(st.Path)
		}
		spec := st.String()
		c.Storage = &spec
	}
	if m.SerializersAccepted != nil {
		names := *m.SerializersAccepted
		if _, err := wire.ParseAccepted(strings.Join(names, ",")); err != nil {
			return p.errorf(p.at(1, "serializers_accepted"), "serializers_accepted: %v", err)
		}
		c.SerializersAccepted = append([]string{}, names...)
	}
	if m.CommTimeout != nil {
		d := time.Duration(*m.CommTimeout)
		c.CommTimeout = &d
	}
	if m.AutoClean != nil {
		d := time.Duration(*m.AutoClean)
		if d != 0 && d < wire.MinAutoClean {
			return p.errorf(p.at(1, "autoclean"), "autoclean: %v is below the minimum of %v (0 turns it off)", d, wire.MinAutoClean)
		}
		c.AutoClean = &d
	}
	if m.MaxMessageSize != nil {
		if *m.MaxMessageSize < 0 || *m.MaxMessageSize > math.MaxInt32 {
			return p.errorf(p.at(1, "max_message_size"), "max_message_size: %d is out of range (0 means unlimited)", *m.MaxMessageSize)
		}
		n := int(*m.MaxMessageSize)
		c.MaxMessageSize = &n
	}
	c.Compression = m.Compression
	return p.bounds(m, c)
}

// bounds reads the limits on what clients may take of the server.
func (p *parser) bounds(m *model, c *Config) error {
	for _, n := range []struct {
		key string
		v   *int64
		dst **int
	}{{"reply_budget", m.ReplyBudget, &c.ReplyBudget}, {"max_connections", m.MaxConnections, &c.MaxConnections}} {
		if n.v == nil {
			continue
		}
		if *n.v < 0 || *n.v > math.MaxInt {
			return p.errorf(p.at(1, n.key), "%s: %d is out of range (0 means unlimited)", n.key, *n.v)
		}
		v := int(*n.v)
		*n.dst = &v
	}
	if m.ScanTimeout != nil {
		d := time.Duration(*m.ScanTimeout)
		c.ScanTimeout = &d
	}
	return nil
}

func (p *parser) broadcast(m *model, c *Config, _ func(string) (string, bool)) error {
	if m.Broadcast == nil {
		return nil
	}
	c.BroadcastEnabled = m.Broadcast.Enabled
	c.BroadcastHost = m.Broadcast.Host
	var err error
	c.BroadcastPort, err = p.port(m.Broadcast.Port, "broadcast", "port")
	return err
}

func (p *parser) nat(m *model, c *Config, _ func(string) (string, bool)) error {
	if m.NAT == nil {
		return nil
	}
	var err error
	if c.NATPort, err = p.port(m.NAT.Port, "nat", "port"); err != nil {
		return err
	}
	if m.NAT.Host != nil && *m.NAT.Host != "" {
		c.NATHost = m.NAT.Host
	}
	if c.NATPort != nil && *c.NATPort != 0 && c.NATHost == nil {
		return p.errorf(p.at(1, "nat", "port"), "nat.port: a NAT port needs nat.host")
	}
	if c.NATHost != nil && c.UnixSocket != nil && *c.UnixSocket != "" {
		return p.errorf(p.at(1, "nat", "host"), "nat.host: cannot use NAT together with unixsocket")
	}
	return nil
}

// ops reads the operations settings: [http] listen and log_format.
func (p *parser) ops(m *model, c *Config, _ func(string) (string, bool)) error {
	if m.LogFormat != nil {
		if err := CheckLogFormat(*m.LogFormat); err != nil {
			return p.errorf(p.at(1, "log_format"), "log_format: %v", err)
		}
		c.LogFormat = m.LogFormat
	}
	if m.HTTP != nil && m.HTTP.Listen != nil {
		if err := CheckHTTPListen(*m.HTTP.Listen); err != nil {
			return p.errorf(p.at(1, "http", "listen"), "http.listen: %v", err)
		}
		c.HTTPListen = m.HTTP.Listen
	}
	return nil
}

func (p *parser) hmacKey(m *model, c *Config, lookup func(string) (string, bool)) error {
	var err error
	c.HMACKey, err = p.Secret(m.HMACKeyFile, m.HMACKeyEnv, lookup, []string{"hmac_key_file"}, []string{"hmac_key_env"})
	return err
}

// secret reads a key or password from the file named by the fileKey key
// (which may start with $CREDENTIALS_DIRECTORY, see expandCredentials) or
// the environment variable named by the envKey key (at most one of the two
// is set); nil when neither is.
func (p *parser) Secret(file, env *string, lookup func(string) (string, bool), fileKey, envKey []string) ([]byte, error) {
	fk, ek := strings.Join(fileKey, "."), strings.Join(envKey, ".")
	switch {
	case file != nil && env != nil:
		return nil, p.errorf(p.at(1, envKey...), "%s: set either %s or %s, not both", ek, fk, ek)
	case file != nil:
		name, err := expandCredentials(*file, lookup)
		if err != nil {
			return nil, p.errorf(p.at(1, fileKey...), "%s: %v", fk, err)
		}
		name = p.resolvePath(name)
		b, err := readKeyFile(name)
		if err != nil {
			return nil, p.errorf(p.at(1, fileKey...), "%s: %v", fk, err)
		}
		// One final line break is the editor's, not the key's.
		b = bytes.TrimSuffix(b, []byte("\n"))
		b = bytes.TrimSuffix(b, []byte("\r"))
		if len(b) == 0 {
			return nil, p.errorf(p.at(1, fileKey...), "%s: %s is empty", fk, name)
		}
		return b, nil
	case env != nil:
		v, ok := lookup(*env)
		if !ok || v == "" {
			return nil, p.errorf(p.at(1, envKey...), "%s: environment variable %s is not set or empty", ek, *env)
		}
		return []byte(v), nil
	}
	return nil, nil
}

func (p *parser) tls(m *model, c *Config, lookup func(string) (string, bool)) error {
	t := m.TLS
	if t == nil {
		return nil
	}
	c.TLS = TLSConfig{
		Enabled:           t.SSL,
		ServerCert:        p.optPath(t.ServerCert),
		ServerKey:         p.optPath(t.ServerKey),
		RequireClientCert: t.RequireClientCert,
		ClientCert:        p.optPath(t.ClientCert),
		ClientKey:         p.optPath(t.ClientKey),
		CACerts:           p.optPath(t.CACerts),
	}
	var err error
	if c.TLS.ServerKeyPassword, err = p.Secret(t.ServerKeyPasswordFile, t.ServerKeyPasswordEnv, lookup,
		[]string{"tls", "server_key_password_file"}, []string{"tls", "server_key_password_env"}); err != nil {
		return err
	}
	c.TLS.ClientKeyPassword, err = p.Secret(t.ClientKeyPasswordFile, t.ClientKeyPasswordEnv, lookup,
		[]string{"tls", "client_key_password_file"}, []string{"tls", "client_key_password_env"})
	return err
}

// maxKeyFile bounds what is read as an HMAC key: a key is short, and a
// mistake such as /dev/zero must not hang the server.
const maxKeyFile = 64 << 10

// readKeyFile reads a key from a regular file of at most maxKeyFile bytes.
func readKeyFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxKeyFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxKeyFile {
		return nil, fmt.Errorf("%s is larger than %d bytes; is it a key?", name, maxKeyFile)
	}
	return b, nil
}
