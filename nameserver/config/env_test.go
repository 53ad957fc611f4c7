package config

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestEnvItemsCoverConfiguration: every item of Pyro4 4.82's Configuration
// (its __slots__) has an entry, so none is silently dropped.
func TestEnvItemsCoverConfiguration(t *testing.T) {
	src, err := os.ReadFile("/usr/lib/python3/dist-packages/Pyro4/configuration.py")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Pyro4's configuration.py: %v", err)
		}
		t.Skipf("Pyro4 not installed: %v", err)
	}
	m := regexp.MustCompile(`(?s)__slots__ = \((.*?)\)`).FindSubmatch(src)
	if m == nil {
		t.Fatal("no __slots__ in configuration.py")
	}
	var names []string
	for _, it := range EnvItems() {
		names = append(names, it.Name)
	}
	for _, q := range regexp.MustCompile(`"([A-Z_]+)"`).FindAllSubmatch(m[1], -1) {
		if name := "PYRO_" + string(q[1]); !slices.Contains(names, name) {
			t.Errorf("%s is not handled", name)
		}
	}
	for _, it := range EnvItems() {
		if it.Handling == Accepted && it.Reason == "" {
			t.Errorf("%s is accepted without a reason", it.Name)
		}
	}
}

// TestEnvItems sets each item alone: a good value resolves (and, for an
// applied item, sets the setting with the item as its source), a malformed
// one is an error naming the item.
func TestEnvItems(t *testing.T) {
	dir := t.TempDir()
	cert := filepath.Join(dir, "c.pem")
	if err := os.WriteFile(cert, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		good, bad string
		key       string // the setting an applied item sets
		want      string // its value as --check shows it
	}{
		"HOST":                    {"0.0.0.0", "", "host", "0.0.0.0"},
		"NS_HOST":                 {"ns.example", "", "ns_host", "ns.example"},
		"NS_PORT":                 {" 9191 ", "abc", "port", "9191"},
		"NS_BCPORT":               {"9192", "9091x", "broadcast.port", "9192"},
		"NS_BCHOST":               {"127.0.0.2", "", "broadcast.host", "127.0.0.2"},
		"NS_AUTOCLEAN":            {"3.5", "soon", "autoclean", "3.5s"},
		"NATHOST":                 {"ext.example", "", "nat.host", "ext.example"},
		"NATPORT":                 {"5555", "x", "nat.port", "5555"},
		"COMPRESSION":             {"YES", "maybe", "compression", "true"},
		"SERVERTYPE":              {"multiplex", "fork", "", ""},
		"COMMTIMEOUT":             {"2.5", "-1", "comm_timeout", "2.5s"},
		"POLLTIMEOUT":             {"2", "x", "", ""},
		"SOCK_REUSE":              {"off", "2", "", ""},
		"SOCK_NODELAY":            {"On", "y", "", ""},
		"ONEWAY_THREADED":         {"false", "t", "", ""},
		"DETAILED_TRACEBACK":      {"1", "x", "", ""},
		"THREADPOOL_SIZE":         {"80", "many", "", ""},
		"THREADPOOL_SIZE_MIN":     {"8", "1.5", "", ""},
		"AUTOPROXY":               {"no", "x", "", ""},
		"MAX_MESSAGE_SIZE":        {"1024", "1k", "max_message_size", "1024"},
		"BROADCAST_ADDRS":         {"127.0.0.255, ''", "", "broadcast_addrs", "127.0.0.255,"},
		"FLAME_ENABLED":           {"true", "x", "", ""},
		"PREFER_IP_VERSION":       {"6", "5", "", ""},
		"SERIALIZER":              {"json", "bogus", "serializer", "json"},
		"SERIALIZERS_ACCEPTED":    {"serpent, json", "serpent,dill", "serializers_accepted", "serpent,json"},
		"LOGWIRE":                 {"0", "x", "", ""},
		"PICKLE_PROTOCOL_VERSION": {"2", "x", "", ""},
		"DILL_PROTOCOL_VERSION":   {"-1", "x", "", ""},
		"METADATA":                {"FALSE", "x", "", ""},
		"REQUIRE_EXPOSE":          {"true", "x", "", ""},
		"USE_MSG_WAITALL":         {"no", "x", "", ""},
		"JSON_MODULE":             {"simplejson", "", "", ""},
		"MAX_RETRIES":             {"3", "x", "", ""},
		"ITER_STREAMING":          {"off", "x", "", ""},
		"ITER_STREAM_LIFETIME":    {"10", "x", "", ""},
		"ITER_STREAM_LINGER":      {"30.0", "x", "", ""},
		// TLS items are checked even while TLS is off; PYRO_SSL=1 stops
		// the command (TestEnvSSLStops).
		"SSL":                   {"0", "x", "tls.ssl", "false"},
		"SSL_REQUIRECLIENTCERT": {"1", "x", "tls.require_client_cert", "true"},
		"SSL_CACERTS":           {dir, "", "tls.ca_certs", dir},
		"SSL_SERVERCERT":        {cert, "", "tls.server_cert", cert},
		"SSL_SERVERKEY":         {cert, "", "tls.server_key", cert},
		"SSL_SERVERKEYPASSWD":   {"pw", "", "tls.server_key_password", "(set, 2 bytes)"},
		"SSL_CLIENTCERT":        {cert, "", "tls.client_cert", cert},
		"SSL_CLIENTKEY":         {cert, "", "tls.client_key", cert},
		"SSL_CLIENTKEYPASSWD":   {"pw", "", "tls.client_key_password", "(set, 2 bytes)"},
		"LOGLEVEL":              {"info", "LOUD", "loglevel", "info"},
		"LOGFILE":               {"/tmp/ns.log", "", "logfile", "/tmp/ns.log"},
		"HMAC_KEY":              {"k", "", "hmac_key", "(set, 1 bytes)"},
	}
	for _, it := range EnvItems() {
		tc, ok := cases[strings.TrimPrefix(it.Name, "PYRO_")]
		if !ok {
			t.Errorf("%s has no test case", it.Name)
			continue
		}
		t.Run(it.Name, func(t *testing.T) {
			env := func(v string) func(string) (string, bool) {
				return func(k string) (string, bool) { return v, k == it.Name }
			}
			l, err := EnvLayer(env(tc.good))
			if err != nil {
				t.Fatalf("%s=%q: %v", it.Name, tc.good, err)
			}
			r, err := Resolve(ForBoth, l)
			if err != nil && !(it.Name == "PYRO_SERIALIZERS_ACCEPTED" || it.Name == "PYRO_SERIALIZER") {
				t.Fatalf("%s=%q does not resolve: %v", it.Name, tc.good, err)
			}
			if (it.Handling == Applied) != (tc.key != "") {
				t.Fatalf("handling %v, but the case sets %q", it.Handling, tc.key)
			}
			if tc.key != "" {
				if src := r.Source(tc.key); src != EnvSource(it.Name) {
					t.Errorf("%s comes from %v", tc.key, src)
				}
				for _, s := range r.Report(ForBoth) {
					if s.Key == tc.key && s.Value != tc.want {
						t.Errorf("%s = %q, want %q", tc.key, s.Value, tc.want)
					}
				}
			} else if r.l.Host.Src != DefaultSource() || len(r.Report(ForBoth)) == 0 {
				t.Errorf("accepted item changed a setting")
			}
			if tc.bad == "" {
				return
			}
			l, err = EnvLayer(env(tc.bad))
			if err == nil {
				_, err = Resolve(ForBoth, l)
			}
			if err == nil || !strings.Contains(err.Error(), it.Name) {
				t.Fatalf("%s=%q: error %v, want one naming it", it.Name, tc.bad, err)
			}
		})
	}
}

// TestEnvSSLStops: TLS asked for without what it needs stops the command
// with a message naming the item; a key without its certificate is
// refused first.
func TestEnvSSLStops(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"PYRO_SSL": "1"}, `tls.server_cert: TLS on the server needs a certificate`},
		{map[string]string{"PYRO_SSL": "true", "PYRO_SSL_SERVERKEY": "/k.pem"}, `PYRO_SSL_SERVERKEY="/k.pem": a key needs its certificate`},
		{map[string]string{"PYRO_SSL": "on", "PYRO_SSL_SERVERCERT": "/nonexistent/c.pem"}, `PYRO_SSL_SERVERCERT="/nonexistent/c.pem": open /nonexistent/c.pem: no such file`},
		{map[string]string{"PYRO_SSL": "yes", "PYRO_SSL_SERVERCERT": "env_test.go", "PYRO_SSL_REQUIRECLIENTCERT": "1"}, `tls.ca_certs: require_client_cert needs the certificates`},
	} {
		l, err := EnvLayer(func(k string) (string, bool) { v, ok := tc.env[k]; return v, ok })
		if err != nil {
			t.Fatal(err)
		}
		_, err = Resolve(ForServer, l)
		var se *SettingError
		if !errors.As(err, &se) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.env, err, tc.want)
		}
	}
}

// TestTLSConf: the resolved TLS settings reach tlsconf item for item.
func TestTLSConf(t *testing.T) {
	env := map[string]string{
		"PYRO_SSL": "0", "PYRO_SSL_SERVERCERT": "s.crt", "PYRO_SSL_SERVERKEY": "s.key", "PYRO_SSL_SERVERKEYPASSWD": "sp",
		"PYRO_SSL_REQUIRECLIENTCERT": "TRUE", "PYRO_SSL_CLIENTCERT": "c.crt", "PYRO_SSL_CLIENTKEY": "c.key",
		"PYRO_SSL_CLIENTKEYPASSWD": "cp", "PYRO_SSL_CACERTS": "ca",
	}
	l, err := EnvLayer(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	r, err := Resolve(ForBoth, l)
	if err != nil {
		t.Fatal(err)
	}
	got := r.Settings().TLS.TLSConf()
	if got.SSL || got.ServerCert != "s.crt" || got.ServerKey != "s.key" || got.ServerKeyPassword != "sp" || !got.RequireClientCert ||
		got.ClientCert != "c.crt" || got.ClientKey != "c.key" || got.ClientKeyPassword != "cp" || got.CACerts != "ca" {
		t.Fatalf("tlsconf settings %+v", got)
	}
}
