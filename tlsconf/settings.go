package tlsconf

import (
	"fmt"
	"strings"
)

// Settings are Pyro4's SSL configuration items. The zero value is TLS off.
// Paths are used as given; relative ones are relative to the working
// directory, as in Pyro4.
type Settings struct {
	SSL               bool   // SSL: every connection is TLS
	ServerCert        string // SSL_SERVERCERT: PEM certificate chain, leaf first; may hold the key too
	ServerKey         string // SSL_SERVERKEY: PEM private key; empty means it is in ServerCert
	ServerKeyPassword string // SSL_SERVERKEYPASSWD
	RequireClientCert bool   // SSL_REQUIRECLIENTCERT: 2-way TLS
	ClientCert        string // SSL_CLIENTCERT
	ClientKey         string // SSL_CLIENTKEY: empty means it is in ClientCert
	ClientKeyPassword string // SSL_CLIENTKEYPASSWD
	CACerts           string // SSL_CACERTS: a PEM file or an OpenSSL hashed directory
}

// ParseBool reads a boolean as Pyro4's configuration does: 0/1, no/yes,
// off/on, false/true in any case, nothing else (not even surrounding
// spaces).
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "1", "yes", "on", "true":
		return true, nil
	case "0", "no", "off", "false":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean value %q (want 0/1, yes/no, on/off or true/false)", s)
}

// FromEnv reads the PYRO_SSL* variables through lookup (os.LookupEnv in a
// program, a map in a test). Unset variables keep base's values, so
// defaults or a config file can be layered underneath.
func FromEnv(base Settings, lookup func(string) (string, bool)) (Settings, error) {
	s := base
	bools := []struct {
		name string
		dst  *bool
	}{{"PYRO_SSL", &s.SSL}, {"PYRO_SSL_REQUIRECLIENTCERT", &s.RequireClientCert}}
	for _, b := range bools {
		if v, ok := lookup(b.name); ok {
			x, err := ParseBool(v)
			if err != nil {
				return base, fmt.Errorf("%s: %w", b.name, err)
			}
			*b.dst = x
		}
	}
	strs := []struct {
		name string
		dst  *string
	}{
		{"PYRO_SSL_SERVERCERT", &s.ServerCert},
		{"PYRO_SSL_SERVERKEY", &s.ServerKey},
		{"PYRO_SSL_SERVERKEYPASSWD", &s.ServerKeyPassword},
		{"PYRO_SSL_CLIENTCERT", &s.ClientCert},
		{"PYRO_SSL_CLIENTKEY", &s.ClientKey},
		{"PYRO_SSL_CLIENTKEYPASSWD", &s.ClientKeyPassword},
		{"PYRO_SSL_CACERTS", &s.CACerts},
	}
	for _, v := range strs {
		if x, ok := lookup(v.name); ok {
			*v.dst = x
		}
	}
	return s, nil
}

func (s Settings) serverKeyFile() keyFile {
	return keyFile{cert: s.ServerCert, key: s.ServerKey, password: s.ServerKeyPassword,
		certItem: "SSL_SERVERCERT", keyItem: "SSL_SERVERKEY", passItem: "SSL_SERVERKEYPASSWD"}
}

func (s Settings) clientKeyFile() keyFile {
	return keyFile{cert: s.ClientCert, key: s.ClientKey, password: s.ClientKeyPassword,
		certItem: "SSL_CLIENTCERT", keyItem: "SSL_CLIENTKEY", passItem: "SSL_CLIENTKEYPASSWD"}
}
