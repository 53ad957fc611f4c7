package tlsconf

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
)

// hashedName is how OpenSSL's c_rehash (and `openssl rehash`) names a CA
// certificate in a hashed directory: subject hash, dot, sequence number.
// CRLs (.r0) and every other file are not certificates to OpenSSL.
var hashedName = regexp.MustCompile(`^[0-9a-f]{8}\.[0-9]+$`)

// caFiles lists the files SSL_CACERTS stands for: the file itself, or a
// hashed directory's certificate entries, sorted so that errors repeat.
func caFiles(path string) ([]string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("SSL_CACERTS: %w", err)
	}
	if !fi.IsDir() {
		return []string{path}, nil
	}
	entries, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("SSL_CACERTS: %w", err)
	}
	var files []string
	for _, e := range entries {
		if hashedName.MatchString(e.Name()) {
			files = append(files, filepath.Join(path, e.Name()))
		}
	}
	sort.Strings(files)
	if len(files) == 0 {
		return nil, fmt.Errorf("SSL_CACERTS: directory %s has no hashed certificate files (NNNNNNNN.0); run `openssl rehash %s`", path, path)
	}
	return files, nil
}

// loadCAs reads the certificates of SSL_CACERTS into pool. Python's
// load_verify_locations refuses a file without certificates; so do we,
// naming it, rather than trusting nothing without a word.
func loadCAs(pool *x509.CertPool, path string) error {
	files, err := caFiles(path)
	if err != nil {
		return err
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("SSL_CACERTS: %w", err)
		}
		n := 0
		for rest := data; ; {
			var b *pem.Block
			if b, rest = pem.Decode(rest); b == nil {
				break
			}
			if b.Type != "CERTIFICATE" {
				continue
			}
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return fmt.Errorf("SSL_CACERTS: certificate %d in %s: %w", n+1, f, err)
			}
			pool.AddCert(c)
			n++
		}
		if n == 0 {
			return fmt.Errorf("SSL_CACERTS: no CERTIFICATE block in %s", f)
		}
	}
	return nil
}
