package config

import (
	"strings"
	"time"

	"github.com/pyro4/pyro4/persist"
)

// EtcdLayer is the [etcd] table of a Layer: how a server with storage
// "etcd:ENDPOINT[,ENDPOINT...]" reaches its cluster. Only the file sets
// it (Pyro4 has no such items); it is ignored, and not checked, while the
// storage is something else.
type EtcdLayer struct {
	Prefix         Value[string] // key prefix of the name space
	DialTimeout    Value[time.Duration]
	RequestTimeout Value[time.Duration]
	CA             Value[string] // PEM CA that signed the members' certificates
	Cert           Value[string] // this server's client certificate (PEM)
	Key            Value[string] // its key
	Username       Value[string]
	PasswordFile   Value[string] // holds the password; the file never does
}

// Etcd is the resolved [etcd] table.
type Etcd struct {
	Prefix                 string
	DialTimeout            time.Duration
	RequestTimeout         time.Duration
	CA, Cert, Key          string
	Username, PasswordFile string
}

func (e *EtcdLayer) settings() Etcd {
	return Etcd{
		Prefix:         e.Prefix.V,
		DialTimeout:    e.DialTimeout.V,
		RequestTimeout: e.RequestTimeout.V,
		CA:             e.CA.V,
		Cert:           e.Cert.V,
		Key:            e.Key.V,
		Username:       e.Username.V,
		PasswordFile:   e.PasswordFile.V,
	}
}

func defaultEtcdLayer(d Source) EtcdLayer {
	return EtcdLayer{
		Prefix:         Given(persist.DefaultEtcdPrefix, d),
		DialTimeout:    Given(5*time.Second, d),
		RequestTimeout: Given(5*time.Second, d),
		CA:             Given("", d),
		Cert:           Given("", d),
		Key:            Given("", d),
		Username:       Given("", d),
		PasswordFile:   Given("", d),
	}
}

// EtcdOptions is how persist opens the store of storage, an "etcd:" spec,
// with the [etcd] table's settings; false when storage is no etcd spec.
func (s Settings) EtcdOptions() (persist.EtcdOptions, bool) {
	st, err := persist.ParseStorage(s.Storage)
	if err != nil || st.Kind != "etcd" {
		return persist.EtcdOptions{}, false
	}
	e := s.Etcd
	return persist.EtcdOptions{
		Endpoints:      st.Endpoints(),
		Prefix:         e.Prefix,
		DialTimeout:    e.DialTimeout,
		RequestTimeout: e.RequestTimeout,
		CAFile:         e.CA,
		CertFile:       e.Cert,
		KeyFile:        e.Key,
		Username:       e.Username,
		PasswordFile:   e.PasswordFile,
	}, true
}

// validateEtcd checks the [etcd] table when the storage is etcd: a prefix
// that names a directory of keys, timeouts above zero, a certificate with
// its key, a password file with a user name, and files that can be read.
// TLS and credentials going with the endpoints (https://) is persist's to
// check when it opens the store.
func (r *Resolved) validateEtcd() error {
	// A storage that does not parse is the opening's to report, as it
	// always was (exit 1, "storage: ..."), not a malformed setting.
	st, err := persist.ParseStorage(r.l.Storage.V)
	if err != nil || st.Kind != "etcd" {
		return nil
	}
	e := &r.l.Etcd
	if p := e.Prefix.V; p == "" || !strings.HasSuffix(p, "/") {
		return settingErr("etcd.prefix", &e.Prefix, "a key prefix ends in \"/\" (the default is %q)", persist.DefaultEtcdPrefix)
	}
	for _, d := range []struct {
		key string
		v   *Value[time.Duration]
	}{{"etcd.dial_timeout", &e.DialTimeout}, {"etcd.request_timeout", &e.RequestTimeout}} {
		if d.v.V <= 0 {
			return settingErr(d.key, d.v, "must be above zero")
		}
	}
	if (e.Cert.V == "") != (e.Key.V == "") {
		return settingErr("etcd.cert", &e.Cert, "a client certificate needs both etcd.cert and etcd.key")
	}
	if e.PasswordFile.V != "" && e.Username.V == "" {
		return settingErr("etcd.password_file", &e.PasswordFile, "a password needs etcd.username")
	}
	for _, f := range []struct {
		key string
		v   *Value[string]
	}{{"etcd.ca", &e.CA}, {"etcd.cert", &e.Cert}, {"etcd.key", &e.Key}, {"etcd.password_file", &e.PasswordFile}} {
		if err := readableFile(f.v.V); err != nil {
			return settingErr(f.key, f.v, "%v", err)
		}
	}
	return nil
}

// EtcdConfig is the file's [etcd] table; relative paths are resolved
// against the file's directory.
type EtcdConfig struct {
	Prefix                      *string
	DialTimeout, RequestTimeout *time.Duration
	CA, Cert, Key               *string
	Username, PasswordFile      *string
}

type etcdModel struct {
	Prefix         *string  `toml:"prefix"`
	DialTimeout    *seconds `toml:"dial_timeout"`
	RequestTimeout *seconds `toml:"request_timeout"`
	CA             *string  `toml:"ca"`
	Cert           *string  `toml:"cert"`
	Key            *string  `toml:"key"`
	Username       *string  `toml:"username"`
	PasswordFile   *string  `toml:"password_file"`
}

func (p *parser) etcd(m *model, c *Config, lookup func(string) (string, bool)) error {
	t := m.Etcd
	if t == nil {
		return nil
	}
	// The password file may be a systemd credential, as a key file may.
	if t.PasswordFile != nil {
		name, err := expandCredentials(*t.PasswordFile, lookup)
		if err != nil {
			return p.errorf(p.at(1, "etcd", "password_file"), "etcd.password_file: %v", err)
		}
		t.PasswordFile = &name
	}
	dur := func(v *seconds) *time.Duration {
		if v == nil {
			return nil
		}
		d := time.Duration(*v)
		return &d
	}
	c.Etcd = EtcdConfig{
		Prefix:         t.Prefix,
		DialTimeout:    dur(t.DialTimeout),
		RequestTimeout: dur(t.RequestTimeout),
		CA:             p.optPath(t.CA),
		Cert:           p.optPath(t.Cert),
		Key:            p.optPath(t.Key),
		Username:       t.Username,
		PasswordFile:   p.optPath(t.PasswordFile),
	}
	return nil
}
