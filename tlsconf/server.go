package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"sync"
	"sync/atomic"
)

// material is one consistent reading of the server's files: a handshake
// sees either all old or all new.
type material struct {
	config *tls.Config // Certificates and ClientCAs filled in
	leaf   *x509.Certificate
	stamp  fingerprint
}

// Reloader holds the server's certificate, key and client CAs and re-reads
// them on Reload. Config's handshakes always use the last material that
// loaded completely; a connection keeps what it negotiated, so reloading
// never touches established connections.
type Reloader struct {
	settings Settings
	current  atomic.Pointer[material]
	mu       sync.Mutex // one reload at a time, so stamps and material agree
	// failedStamp is the reading whose reload failed, guarded by mu.
	failedStamp fingerprint
}

// NewReloader checks settings and loads the server material once; an error
// names the missing item or the file at fault, and means the server must
// not start (never plaintext by surprise).
func NewReloader(s Settings) (*Reloader, error) {
	if err := s.checkServer(); err != nil {
		return nil, err
	}
	r := &Reloader{settings: s}
	m, err := r.read(stampFiles(s.serverFiles()))
	if err != nil {
		return nil, err
	}
	r.current.Store(m)
	return r, nil
}

// ServerConfig is the server side for a caller that does not rotate
// certificates: NewReloader(s).Config().
func ServerConfig(s Settings) (*tls.Config, error) {
	r, err := NewReloader(s)
	if err != nil {
		return nil, err
	}
	return r.Config(), nil
}

func (s Settings) checkServer() error {
	var missing []string
	if s.ServerCert == "" {
		missing = append(missing, "SSL_SERVERCERT (the server certificate)")
	}
	if s.RequireClientCert && s.CACerts == "" {
		// Python would start and then refuse every client: it trusts no
		// system roots for client certificates.
		missing = append(missing, "SSL_CACERTS (needed by SSL_REQUIRECLIENTCERT to verify client certificates)")
	}
	if len(missing) == 1 {
		return fmt.Errorf("SSL is on but %s is not set", missing[0])
	} else if len(missing) > 1 {
		return fmt.Errorf("SSL is on but %s and %s are not set", missing[0], missing[1])
	}
	return nil
}

// Config returns a server tls.Config whose every handshake picks the
// current material through GetConfigForClient, so a listener built once
// follows every reload. Each call returns a new value; the material's
// config replaces it in the handshake, so fields a caller sets on it have
// no effect.
func (r *Reloader) Config() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return r.current.Load().config, nil
		},
	}
}

// Leaf is the certificate handshakes currently present.
func (r *Reloader) Leaf() *x509.Certificate { return r.current.Load().leaf }

// Reload re-reads every file now (for SIGHUP). On error the old material
// stays in use and the error says which file is at fault.
func (r *Reloader) Reload() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	stamp := stampFiles(r.settings.serverFiles())
	m, err := r.read(stamp)
	if err != nil {
		r.failedStamp = stamp
		return err
	}
	r.failedStamp = ""
	r.current.Store(m)
	return nil
}

// read loads all files; the caller stamps them first, so that a file
// replaced while we read it changes the stamp and the next check reads it
// again.
func (r *Reloader) read(stamp fingerprint) (*material, error) {
	s := r.settings
	pair, err := s.serverKeyFile().load()
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{pair},
		// Pyro4 sets CERT_NONE unless SSL_REQUIRECLIENTCERT: the server
		// does not even ask, so a client whose certificate this server
		// would not trust still connects, as it does to pyro4-ns.
		ClientAuth: tls.NoClientCert,
	}
	if s.CACerts != "" {
		pool := x509.NewCertPool() // client certificates: SSL_CACERTS only, never system roots
		if err := loadCAs(pool, s.CACerts); err != nil {
			return nil, err
		}
		cfg.ClientCAs = pool
	}
	if s.RequireClientCert {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return &material{config: cfg, leaf: pair.Leaf, stamp: stamp}, nil
}

// serverFiles are the paths whose change means a reload.
func (s Settings) serverFiles() []string {
	files := []string{s.ServerCert}
	if s.ServerKey != "" {
		files = append(files, s.ServerKey)
	}
	if s.CACerts != "" {
		files = append(files, s.CACerts)
	}
	return files
}
