package tlsconf

import (
	"strings"
	"testing"
)

func TestParseBool(t *testing.T) {
	tests := []struct {
		in      string
		want    bool
		wantErr bool
	}{
		{"1", true, false}, {"yes", true, false}, {"on", true, false}, {"true", true, false},
		{"TRUE", true, false}, {"Yes", true, false}, {"oN", true, false},
		{"0", false, false}, {"no", false, false}, {"off", false, false}, {"false", false, false},
		{"FALSE", false, false}, {"No", false, false},
		{"", false, true}, {" 1", false, true}, {"2", false, true}, {"y", false, true}, {"enabled", false, true},
	}
	for _, tc := range tests {
		got, err := ParseBool(tc.in)
		if (err != nil) != tc.wantErr || got != tc.want {
			t.Errorf("ParseBool(%q) = %v, %v; want %v, error %v", tc.in, got, err, tc.want, tc.wantErr)
		}
	}
}

func TestFromEnv(t *testing.T) {
	env := map[string]string{
		"PYRO_SSL":                   "yes",
		"PYRO_SSL_SERVERCERT":        "s.crt",
		"PYRO_SSL_SERVERKEY":         "s.key",
		"PYRO_SSL_SERVERKEYPASSWD":   "sp",
		"PYRO_SSL_REQUIRECLIENTCERT": "On",
		"PYRO_SSL_CLIENTCERT":        "c.crt",
		"PYRO_SSL_CLIENTKEY":         "c.key",
		"PYRO_SSL_CLIENTKEYPASSWD":   "cp",
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	got, err := FromEnv(Settings{CACerts: "base-ca.pem"}, lookup)
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{SSL: true, ServerCert: "s.crt", ServerKey: "s.key", ServerKeyPassword: "sp",
		RequireClientCert: true, ClientCert: "c.crt", ClientKey: "c.key", ClientKeyPassword: "cp", CACerts: "base-ca.pem"}
	if got != want {
		t.Errorf("FromEnv = %+v\nwant %+v", got, want)
	}
	env["PYRO_SSL"] = "maybe"
	base := Settings{CACerts: "x"}
	got, err = FromEnv(base, lookup)
	if err == nil || !strings.Contains(err.Error(), `PYRO_SSL: invalid boolean value "maybe"`) {
		t.Errorf("bad boolean: err = %v", err)
	}
	if got != base {
		t.Errorf("on error FromEnv returned %+v, want the base unchanged", got)
	}
}
