package config

import (
	"fmt"
	"os"

	"github.com/pyro4/pyro4/tlsconf"
)

// TLSLayer is the TLS part of a Layer: Pyro4's SSL_* items and the file's
// [tls] table. They are parsed, traced to their source and checked here,
// and handed to package tlsconf through TLS.TLSConf, which loads the
// certificates and keys (the commands stop when that fails).
type TLSLayer struct {
	Enabled           Value[bool]   // SSL
	ServerCert        Value[string] // SSL_SERVERCERT: PEM certificate chain (may hold the key too)
	ServerKey         Value[string] // SSL_SERVERKEY: PEM private key, when not in the certificate file
	ServerKeyPassword Value[Secret] // SSL_SERVERKEYPASSWD: decrypts the server key
	RequireClientCert Value[bool]   // SSL_REQUIRECLIENTCERT: two-way TLS
	ClientCert        Value[string] // SSL_CLIENTCERT
	ClientKey         Value[string] // SSL_CLIENTKEY
	ClientKeyPassword Value[Secret] // SSL_CLIENTKEYPASSWD
	CACerts           Value[string] // SSL_CACERTS: a PEM file or a directory of them
}

// TLS is the resolved TLS settings.
type TLS struct {
	Enabled           bool
	ServerCert        string
	ServerKey         string
	ServerKeyPassword []byte
	RequireClientCert bool
	ClientCert        string
	ClientKey         string
	ClientKeyPassword []byte
	CACerts           string
}

// TLSConf is the settings as package tlsconf takes them, for the server's
// listener and the client's connections.
func (t TLS) TLSConf() tlsconf.Settings {
	return tlsconf.Settings{
		SSL:               t.Enabled,
		ServerCert:        t.ServerCert,
		ServerKey:         t.ServerKey,
		ServerKeyPassword: string(t.ServerKeyPassword),
		RequireClientCert: t.RequireClientCert,
		ClientCert:        t.ClientCert,
		ClientKey:         t.ClientKey,
		ClientKeyPassword: string(t.ClientKeyPassword),
		CACerts:           t.CACerts,
	}
}

func (t *TLSLayer) settings() TLS {
	return TLS{
		Enabled:           t.Enabled.V,
		ServerCert:        t.ServerCert.V,
		ServerKey:         t.ServerKey.V,
		ServerKeyPassword: clone([]byte(t.ServerKeyPassword.V)),
		RequireClientCert: t.RequireClientCert.V,
		ClientCert:        t.ClientCert.V,
		ClientKey:         t.ClientKey.V,
		ClientKeyPassword: clone([]byte(t.ClientKeyPassword.V)),
		CACerts:           t.CACerts.V,
	}
}

// validateTLS checks the TLS settings that concern scope: a key needs its
// certificate, a password its key, and every file named must be readable.
// As Pyro4 does, the files are ignored while TLS is off. Whether they hold
// a usable certificate and key is tlsconf's to say, when they are loaded.
func (r *Resolved) validateTLS(scope Scope) error {
	t := &r.l.TLS
	if !t.Enabled.V {
		return nil
	}
	type pair struct {
		certKey, keyKey, pwKey string
		cert, key              *Value[string]
		pw                     *Value[Secret]
	}
	var pairs []pair
	if scope&ForServer != 0 {
		pairs = append(pairs, pair{"tls.server_cert", "tls.server_key", "tls.server_key_password", &t.ServerCert, &t.ServerKey, &t.ServerKeyPassword})
	}
	if scope&ForClient != 0 {
		pairs = append(pairs, pair{"tls.client_cert", "tls.client_key", "tls.client_key_password", &t.ClientCert, &t.ClientKey, &t.ClientKeyPassword})
	}
	for _, p := range pairs {
		if p.key.V != "" && p.cert.V == "" {
			return settingErr(p.keyKey, p.key, "a key needs its certificate (%s)", p.certKey)
		}
		if len(p.pw.V) > 0 && p.key.V == "" && p.cert.V == "" {
			return settingErr(p.pwKey, p.pw, "a key password needs a key (%s or %s)", p.certKey, p.keyKey)
		}
		for _, f := range []struct {
			key string
			v   *Value[string]
		}{{p.certKey, p.cert}, {p.keyKey, p.key}} {
			if err := readableFile(f.v.V); err != nil {
				return settingErr(f.key, f.v, "%v", err)
			}
		}
	}
	if scope&ForServer != 0 && t.ServerCert.V == "" {
		return settingErr("tls.server_cert", &t.ServerCert, "TLS on the server needs a certificate (PYRO_SSL_SERVERCERT, or server_cert in the [tls] table)")
	}
	if scope&ForServer != 0 && t.RequireClientCert.V && t.CACerts.V == "" {
		// Client certificates are verified against these alone, never
		// the system roots: without them every client would be refused.
		return settingErr("tls.ca_certs", &t.CACerts, "require_client_cert needs the certificates to verify clients against")
	}
	if ca := t.CACerts.V; ca != "" {
		if _, err := os.Stat(ca); err != nil {
			return settingErr("tls.ca_certs", &t.CACerts, "%v", err)
		}
	}
	return nil
}

// readableFile checks that name, when not empty, is a regular file that can
// be opened.
func readableFile(name string) error {
	if name == "" {
		return nil
	}
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", name)
	}
	return nil
}
