package nameserver

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/pyro4/pyro4/internal/pypeer"
	"github.com/pyro4/pyro4/tlsconf/tlstest"
)

// tlsPythonConfig is the argument of ns_tls.py.
type tlsPythonConfig struct {
	OneWay     string `json:"oneway"`
	TwoWay     string `json:"twoway"`
	HMAC       string `json:"hmac"`
	WrongIP    string `json:"wrongip"`
	BCPort     int    `json:"bcport"`
	NoPort     int    `json:"noport"`
	CA         string `json:"ca"`
	OtherCA    string `json:"otherca"`
	ClientCert string `json:"clientcert"`
	ClientKey  string `json:"clientkey"`
	ServerCert string `json:"servercert"`
	ServerKey  string `json:"serverkey"`
}

// TestTLSPython: the real Pyro4 with PYRO_SSL=1 against our TLS name
// servers, once per serializer: 1-way, 2-way, the refusals (no client
// certificate, wrong CA, an address the certificate does not name), HMAC
// over TLS, a PYRONAME proxy through us to a TLS Python daemon, and
// locateNS() by broadcast then TLS. One set of servers serves every run.
func TestTLSPython(t *testing.T) {
	pypeer.Require(t)
	serializers := append([]string{"pickle"}, interopSerializers...)
	requireCodecs(t, serializers...)
	f := tlstest.WriteFiles(t)
	otherCA := tlstest.NewCA(t, "other CA").WriteCert(t, f.Dir, "other-ca.crt")
	log := &logRecorder{}
	opts := func(o Options) Options {
		o.Accepted, o.Logger = allAccepted(t), slog.New(log)
		if o.TLS == nil {
			o.TLS = tlsServerConfig(t, f, false)
		}
		if o.Host == "" {
			o.NoBroadcast = true
		}
		return o
	}
	oneway := startServer(t, opts(Options{}))
	twoway := startServer(t, opts(Options{TLS: tlsServerConfig(t, f, true)}))
	hmac := startServer(t, opts(Options{HMACKey: []byte("secret")}))
	bc := startServer(t, opts(Options{Host: "0.0.0.0", BroadcastHost: "127.0.0.1"}))
	if bc.BroadcastAddr() == nil {
		t.Fatal("no broadcast responder for a 0.0.0.0 bind")
	}
	cfg := tlsPythonConfig{
		OneWay: oneway.URI().String(), TwoWay: twoway.URI().String(), HMAC: hmac.URI().String(),
		WrongIP: fmt.Sprintf("PYRO:Pyro.NameServer@127.0.0.2:%d", bc.InternalURI().Port),
		BCPort:  bc.BroadcastAddr().(*net.UDPAddr).Port, NoPort: pypeer.FreePort(t),
		CA: f.CACert, OtherCA: otherCA, ClientCert: f.ClientCert, ClientKey: f.ClientKey,
		ServerCert: f.ServerCert, ServerKey: f.ServerKey,
	}
	arg, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	bcLoc := fmt.Sprintf("127.0.0.1:%d", bc.InternalURI().Port)

	for _, ser := range serializers {
		t.Run(ser, func(t *testing.T) {
			env := pypeer.Env("PYRO_SSL=1", "PYRO_SERIALIZER="+ser, "PYRO_BROADCAST_ADDRS=127.0.0.1",
				"PYRO_SERIALIZERS_ACCEPTED=serpent,json,marshal,msgpack,pickle")
			got, order := runChecks(t, env, "ns_tls.py", string(arg))
			session := fmt.Sprintf(`"ok", ["PYRO:thing@127.0.0.1:4711", true, ["tls.%s"]]]`, ser)
			want := []struct{ label, prefix, contains string }{
				{"1way", `["1way", ` + session, ""},
				{"1way-tls-version", `["1way-tls-version", "ok", "TLSv1.`, ""},
				{"hmac", `["hmac", ` + session, ""},
				{"hmac-wrong-key", `["hmac-wrong-key", "err", "CommunicationError"`, "hmac"},
				{"wrong-ip", `["wrong-ip", "err", "CommunicationError"`, "IP address mismatch"},
				{"plain-client", `["plain-client", "err", "CommunicationError", "connection to ('127.0.0.1', `, "rejected: " + plainPyroRefusal},
				{"plain-client-hmac", `["plain-client-hmac", "err", "CommunicationError", "connection to ('127.0.0.1', `, "rejected: " + plainPyroRefusal},
				{"pyroname", `["pyroname", "ok", ["h\u00e9llo", "TLSv1.`, ""},
				{"broadcast", `["broadcast", "ok", ["PYRO:Pyro.NameServer@` + bcLoc + `", "TLSv1.`, ""},
				{"wrong-ca", `["wrong-ca", "err", "CommunicationError"`, "CERTIFICATE_VERIFY_FAILED"},
				{"2way", `["2way", ` + session, ""},
				{"2way-no-cert", `["2way-no-cert", "err", "ConnectionClosedError"`, "CERTIFICATE_REQUIRED"},
			}
			if len(order) != len(want) {
				t.Errorf("%d checks, want %d: %v", len(order), len(want), order)
			}
			failed := false
			for _, w := range want {
				line := got[w.label]
				if !strings.HasPrefix(line, w.prefix) || !strings.Contains(line, w.contains) {
					failed = true
					t.Errorf("%s:\n got %s\nwant %s...%s", w.label, line, w.prefix, w.contains)
				}
			}
			if failed {
				t.Logf("the run:\n%s", strings.Join(lines(got, order), "\n"))
			}
		})
	}
	// The refusals are logged on our side, named; the limiter lets at
	// least the first of each kind through.
	for _, part := range []string{"the client sent no certificate", "does the client trust the CA"} {
		if len(log.matching("WARN TLS handshake failed", "remote=127.0.0.", part)) == 0 {
			t.Errorf("no log line saying %q; log:\n%s", part, strings.Join(log.matching("WARN"), "\n"))
		}
	}
}
