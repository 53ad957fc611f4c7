package persist

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/etcdtest"
)

// TestEtcdTLSAuth runs a store against a member that serves clients over
// TLS only, asks for a client certificate, and has authentication on.
func TestEtcdTLSAuth(t *testing.T) {
	c := etcdtest.StartWith(t, etcdtest.Options{Members: 1, TLS: true})
	admin := c.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, step := range []func() error{
		func() error { _, err := admin.UserAdd(ctx, "root", "s3cret"); return err },
		func() error { _, err := admin.UserGrantRole(ctx, "root", "root"); return err },
		func() error { _, err := admin.AuthEnable(ctx); return err },
	} {
		if err := step(); err != nil {
			t.Fatalf("enable etcd auth: %v", err)
		}
	}
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good"), filepath.Join(dir, "bad")
	os.WriteFile(good, []byte("s3cret\n"), 0o600)
	os.WriteFile(bad, []byte("wrong\n"), 0o600)
	base := EtcdOptions{
		Endpoints:      c.Endpoints(),
		CAFile:         c.TLS.CA,
		CertFile:       c.TLS.ClientCert,
		KeyFile:        c.TLS.ClientKey,
		Username:       "root",
		PasswordFile:   good,
		DialTimeout:    time.Second,
		RequestTimeout: time.Second,
	}
	open := func(o EtcdOptions) (*Etcd, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		return OpenEtcd(ctx, o)
	}

	s, err := open(base)
	if err != nil {
		t.Fatalf("OpenEtcd with TLS and a password: %v", err)
	}
	defer s.Close()
	if err := s.Put(Entry{Name: "secure", URI: "PYRO:s@h:1"}); err != nil {
		t.Fatal(err)
	}
	// The first store sees a second one's write through its TLS watch.
	s2, err := open(base)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if err := s2.Put(Entry{Name: "secure2", URI: "PYRO:s@h:2"}); err != nil {
		t.Fatal(err)
	}
	wantEntry(t, s, Entry{Name: "secure", URI: "PYRO:s@h:1"})
	eventually(t, 10*time.Second, "s sees s2's write", func() bool { _, ok, _ := s.Get("secure2"); return ok })

	tests := []struct {
		name   string
		change func(*EtcdOptions)
		err    string // in the error
		avail  bool   // the error wraps ErrUnavailable (etcd refused), not a setting error
	}{
		{"wrong password", func(o *EtcdOptions) { o.PasswordFile = bad }, "authentication failed", true},
		{"no client certificate", func(o *EtcdOptions) { o.CertFile, o.KeyFile = "", "" }, "", true},
		{"plain http", func(o *EtcdOptions) { o.Endpoints = []string{strings.Replace(c.Endpoints()[0], "https", "http", 1)} }, "use https://", false},
		{"certificate without key", func(o *EtcdOptions) { o.KeyFile = "" }, "both the certificate and the key", false},
		{"missing password file", func(o *EtcdOptions) { o.PasswordFile = filepath.Join(dir, "none") }, "etcd password", false},
		{"password without user", func(o *EtcdOptions) { o.Username = "" }, "without a username", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base
			tt.change(&o)
			s, err := open(o)
			if err == nil {
				s.Close()
				t.Fatal("OpenEtcd succeeded")
			}
			if !strings.Contains(err.Error(), tt.err) || errors.Is(err, ErrUnavailable) != tt.avail {
				t.Fatalf("OpenEtcd: %v; want an error with %q, ErrUnavailable %v", err, tt.err, tt.avail)
			}
		})
	}
}
