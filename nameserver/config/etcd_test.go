package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pyro4/pyro4/persist"
)

func TestEtcdTable(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"ca.pem", "node.pem", "node.key", "etcd.password"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "ns.toml")
	c, err := Parse(path, []byte(`
storage = "etcd:https://10.0.0.1:2379, https://10.0.0.2:2379"
[etcd]
prefix = "/ns-a/"
dial_timeout = 2
request_timeout = "1500ms"
ca = "ca.pem"
cert = "node.pem"
key = "node.key"
username = "pyro4"
password_file = "etcd.password"
`), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	r, err := Resolve(ForServer, c.Layer())
	if err != nil {
		t.Fatal(err)
	}
	s := r.Settings()
	o, ok := s.EtcdOptions()
	want := persist.EtcdOptions{
		Endpoints: []string{"https://10.0.0.1:2379", "https://10.0.0.2:2379"},
		Prefix:    "/ns-a/", DialTimeout: 2 * time.Second, RequestTimeout: 1500 * time.Millisecond,
		CAFile: filepath.Join(dir, "ca.pem"), CertFile: filepath.Join(dir, "node.pem"), KeyFile: filepath.Join(dir, "node.key"),
		Username: "pyro4", PasswordFile: filepath.Join(dir, "etcd.password"),
	}
	if !ok || !reflect.DeepEqual(o, want) {
		t.Errorf("EtcdOptions\n%+v, want\n%+v", o, want)
	}
	if src := r.Source("etcd.request_timeout"); src.String() != path+":6" {
		t.Errorf("etcd.request_timeout from %v", src)
	}
	creds := func(k string) (string, bool) { return dir, k == "CREDENTIALS_DIRECTORY" }
	c, err = Parse(path, []byte("[etcd]\npassword_file = \"$CREDENTIALS_DIRECTORY/etcd.password\"\n"), creds)
	if err != nil || *c.Etcd.PasswordFile != filepath.Join(dir, "etcd.password") {
		t.Errorf("password_file in the credentials directory: %v", err)
	}
	if _, ok := Defaults().EtcdOptions(); ok {
		t.Error("the memory store has etcd options")
	}
	d, _ := Resolve(ForServer, Layer{Storage: Given("etcd:http://127.0.0.1:2379", FlagSource("-s"))})
	if o, _ := d.Settings().EtcdOptions(); o.Prefix != "/pyro4/" || o.DialTimeout != 5*time.Second || o.RequestTimeout != 5*time.Second {
		t.Errorf("defaults: %+v", o)
	}
}

// The [etcd] table is checked when the storage is etcd, and only then.
func TestEtcdTableRefused(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "k.pem")
	if err := os.WriteFile(key, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		table, want string
	}{
		{`prefix = "/pyro4"`, `etcd.prefix: a key prefix ends in "/"`},
		{`prefix = ""`, `etcd.prefix: a key prefix ends in "/"`},
		{`dial_timeout = 0`, "etcd.dial_timeout: must be above zero"},
		{`request_timeout = 0`, "etcd.request_timeout: must be above zero"},
		{`key = "k.pem"`, "etcd.cert: a client certificate needs both etcd.cert and etcd.key"},
		{`password_file = "k.pem"`, "etcd.password_file: a password needs etcd.username"},
		{`ca = "missing.pem"`, "etcd.ca: open " + filepath.Join(dir, "missing.pem")},
		{`username = "u"` + "\n" + `password_file = "."`, "etcd.password_file: " + dir + " is not a regular file"},
		{`timeout = 3`, `unknown key "etcd.timeout"`},
		{`password_file = "$CREDENTIALS_DIRECTORY/etcd-password"`, "etcd.password_file: $CREDENTIALS_DIRECTORY is not set"},
	} {
		text := "storage = \"etcd:http://127.0.0.1:2379\"\n[etcd]\n" + tc.table + "\n"
		c, err := Parse(filepath.Join(dir, "ns.toml"), []byte(text), noEnv)
		if err == nil {
			_, err = Resolve(ForServer, c.Layer())
		}
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.table, err, tc.want)
		}
		// The same table beside another storage is left alone.
		if strings.Contains(tc.want, "unknown key") || strings.Contains(tc.want, "CREDENTIALS") {
			continue
		}
		c, err = Parse(filepath.Join(dir, "ns.toml"), []byte("storage = \"memory\"\n[etcd]\n"+tc.table+"\n"), noEnv)
		if err == nil {
			_, err = Resolve(ForServer, c.Layer())
		}
		if err != nil {
			t.Errorf("%s with storage memory: %v", tc.table, err)
		}
	}
}
