package commands

import (
	"context"
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
	"github.com/pyro4/pyro4/locator"
	"github.com/pyro4/pyro4/tlsconf"
	"github.com/pyro4/pyro4/tlsconf/tlstest"
)

// The encrypted key fixture of package tlsconf (made by openssl, see its
// testdata/gen.sh) and the same key unencrypted, to issue a certificate for.
const (
	encryptedKey      = "../tlsconf/testdata/ec-pbes2-aes256.pem"
	encryptedKeyPlain = "../tlsconf/testdata/ec-pkcs8.pem"
	encryptedKeyPass  = "fixture-pass"
)

// encryptedKeyCert issues a server certificate for the encrypted fixture's
// key and returns the certificate's path and the key's absolute path.
func encryptedKeyCert(t *testing.T, f *tlstest.Files) (certFile, keyFile string) {
	t.Helper()
	b, err := os.ReadFile(encryptedKeyPlain)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	key, err := x509.ParsePKCS8PrivateKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pair := f.CA.Issue(t, tlstest.Leaf{CommonName: "localhost", Names: tlstest.ServerNames(), Key: key.(crypto.Signer)})
	certFile, _ = pair.Write(t, t.TempDir(), "enc")
	keyFile, err = filepath.Abs(encryptedKey)
	if err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

// serverTLSEnv is the PYRO_SSL environment of a 1-way (or 2-way) server.
func serverTLSEnv(f *tlstest.Files, twoWay bool) []string {
	env := []string{"PYRO_SSL=1", "PYRO_SSL_SERVERCERT=" + f.ServerCert, "PYRO_SSL_SERVERKEY=" + f.ServerKey}
	if twoWay {
		env = append(env, "PYRO_SSL_REQUIRECLIENTCERT=1", "PYRO_SSL_CACERTS="+f.CACert)
	}
	return env
}

// clientTLSEnv is the PYRO_SSL environment of a client trusting f's CA,
// with f's client certificate when withCert.
func clientTLSEnv(f *tlstest.Files, withCert bool) []string {
	env := []string{"PYRO_SSL=1", "PYRO_SSL_CACERTS=" + f.CACert}
	if withCert {
		env = append(env, "PYRO_SSL_CLIENTCERT="+f.ClientCert, "PYRO_SSL_CLIENTKEY="+f.ClientKey)
	}
	return env
}

// TestNsTLSStart: PYRO_SSL without a usable certificate and key stops ns
// at start with one line naming what is missing or wrong (exit 2); with
// them, from PYRO_* or the [tls] table, it serves TLS only.
func TestNsTLSStart(t *testing.T) {
	f := tlstest.WriteFiles(t)
	encCert, encKey := encryptedKeyCert(t, f)
	port := strconv.Itoa(pypeer.FreePort(t))
	for _, tt := range []struct {
		name string
		env  []string
		want string
	}{
		{"no certificate", []string{"PYRO_SSL=1"}, "TLS on the server needs a certificate"},
		{"key without password", []string{"PYRO_SSL=1", "PYRO_SSL_SERVERCERT=" + encCert, "PYRO_SSL_SERVERKEY=" + encKey},
			"is encrypted and SSL_SERVERKEYPASSWD is not set"},
		{"wrong password", []string{"PYRO_SSL=1", "PYRO_SSL_SERVERCERT=" + encCert, "PYRO_SSL_SERVERKEY=" + encKey, "PYRO_SSL_SERVERKEYPASSWD=nope"},
			"TLS: decrypt key " + encKey + ": wrong password"},
		{"key of another certificate", []string{"PYRO_SSL=1", "PYRO_SSL_SERVERCERT=" + f.ServerCert, "PYRO_SSL_SERVERKEY=" + f.ClientKey},
			"private key does not match public key"},
		{"not a certificate", []string{"PYRO_SSL=1", "PYRO_SSL_SERVERCERT=" + f.ServerKey, "PYRO_SSL_SERVERKEY=" + f.ServerKey},
			"no CERTIFICATE block"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			nsCleanEnv(t, tt.env...)
			code, stdout, stderr := runNsToEnd(t, "-n", "127.0.0.1", "-p", port)
			lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
			if code != 2 || stdout != "" || len(lines) != 1 || !strings.Contains(lines[0], tt.want) || !strings.HasPrefix(lines[0], "pyro4 ns: ") {
				t.Fatalf("exit %d, stdout %q, stderr %q; want exit 2 and one line containing %q", code, stdout, stderr, tt.want)
			}
		})
	}

	t.Run("--check loads the key", func(t *testing.T) {
		nsCleanEnv(t, "PYRO_SSL=1", "PYRO_SSL_SERVERCERT="+encCert, "PYRO_SSL_SERVERKEY="+encKey, "PYRO_SSL_SERVERKEYPASSWD=nope")
		if code, _, stderr := runNsToEnd(t, "--check"); code != 1 || !strings.Contains(stderr, "wrong password") {
			t.Errorf("--check with a wrong password: exit %d, stderr %q", code, stderr)
		}
		nsCleanEnv(t, "PYRO_SSL=1", "PYRO_SSL_SERVERCERT="+encCert, "PYRO_SSL_SERVERKEY="+encKey, "PYRO_SSL_SERVERKEYPASSWD="+encryptedKeyPass)
		if code, stdout, stderr := runNsToEnd(t, "--check"); code != 0 || !strings.Contains(stdout, "tls.ssl") {
			t.Errorf("--check with the right password: exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	})

	pwFile := filepath.Join(t.TempDir(), "key.password")
	writeNsFile(t, pwFile, encryptedKeyPass+"\n")
	cfgFile := filepath.Join(t.TempDir(), "nsctl.toml")
	writeNsFile(t, cfgFile, fmt.Sprintf("[tls]\nssl = true\nserver_cert = %q\nserver_key = %q\nserver_key_password_file = %q\n", encCert, encKey, pwFile))
	for _, tt := range []struct {
		name string
		env  []string
		args []string
	}{
		{"encrypted key from PYRO_SSL_*", []string{"PYRO_SSL=1", "PYRO_SSL_SERVERCERT=" + encCert, "PYRO_SSL_SERVERKEY=" + encKey,
			"PYRO_SSL_SERVERKEYPASSWD=" + encryptedKeyPass}, nil},
		{"the [tls] table", nil, []string{"--config", cfgFile}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			nsCleanEnv(t, tt.env...)
			ns := startNsInProcess(t, append([]string{"-n", "127.0.0.1", "-p", port}, tt.args...)...)
			ns.waitOut(t, "URI = ")
			clientEnv(t, clientTLSEnv(f, false)...)
			if r := runOurs(t, "", "nsc", "-n", "127.0.0.1", "-p", port, "ping"); r.code != 0 || r.stdout != "Name server ping ok.\n" {
				t.Errorf("nsc ping over TLS: %+v", r)
			}
			clientEnv(t)
			r := runOurs(t, "", "nsc", "-n", "127.0.0.1", "-p", port, "ping")
			if r.code != 1 || !strings.Contains(r.stderr, "this name server speaks TLS only: set PYRO_SSL=1") {
				t.Errorf("plain nsc ping of a TLS server: %+v", r)
			}
			if code := ns.stop(t); code != 0 {
				t.Errorf("ns exit %d; stderr:\n%s", code, ns.err.String())
			}
		})
	}
}

// tlsScenario is a short nsc session: every kind of command once.
var tlsScenario = []nscStep{
	step("ping"),
	step("register", "a.one", "PYRO:a@h:1"),
	step("setmeta", "a.one", "red"),
	step("lookup", "a.one"),
	step("list"),
	step("listmeta_all", "red"),
	step("-v", "lookup", "nope"),
	step("remove", "a.one"),
	step("list"),
}

// TestNscTLSMatchesPyro4Nsc: our nsc, resolve and locate with PYRO_SSL
// against pyro4-ns with PYRO_SSL, 1-way and 2-way; nsc's output is
// pyro4-nsc's.
func TestNscTLSMatchesPyro4Nsc(t *testing.T) {
	pypeer.Require(t)
	f := tlstest.WriteFiles(t)
	for _, mode := range []struct {
		name   string
		twoWay bool
	}{{"1-way", false}, {"2-way", true}} {
		t.Run(mode.name, func(t *testing.T) {
			_, portA := pypeer.StartPythonNS(t, pypeer.Env(serverTLSEnv(f, mode.twoWay)...))
			_, portB := pypeer.StartPythonNS(t, pypeer.Env(serverTLSEnv(f, mode.twoWay)...))
			env := clientTLSEnv(f, mode.twoWay)
			compareNsc(t, hostFlags(portA), hostFlags(portB), env, tlsScenario, portNormalizer(portA, portB))

			clientEnv(t, env...)
			at := "@127.0.0.1:" + strconv.Itoa(portA)
			if r := runOurs(t, "", append([]string{"nsc"}, append(hostFlags(portA), "register", "b.two", "PYRO:b@h:2")...)...); r.code != 0 {
				t.Fatalf("register: %+v", r)
			}
			if r := runOurs(t, "", "resolve", "PYRONAME:b.two"+at); r.code != 0 || r.stdout != "PYRO:b@h:2\n" {
				t.Errorf("resolve: %+v", r)
			}
			if r := runOurs(t, "", append([]string{"locate"}, hostFlags(portA)...)...); r.code != 0 || r.stdout != nsURI(portA)+"\n" {
				t.Errorf("locate: %+v", r)
			}
			if mode.twoWay {
				clientEnv(t, clientTLSEnv(f, false)...)
				r := runOurs(t, "", "resolve", "PYRONAME:b.two"+at)
				if r.code != 1 || !strings.Contains(r.stderr, "client certificate") {
					t.Errorf("resolve without a client certificate: %+v", r)
				}
			}
		})
	}
}

// TestLocateTLSByBroadcast: our TLS name server found by broadcast (plain
// UDP), then reached over TLS, by our tools and by pyro4-nsc alike.
func TestLocateTLSByBroadcast(t *testing.T) {
	pypeer.Require(t)
	f := tlstest.WriteFiles(t)
	port, bcPort := pypeer.FreePort(t), pypeer.FreeUDPPort(t)
	nsCleanEnv(t, serverTLSEnv(f, false)...)
	ns := startNsInProcess(t, "-n", "0.0.0.0", "-p", strconv.Itoa(port), "--bchost", "127.0.0.1", "--bcport", strconv.Itoa(bcPort))
	ns.waitOut(t, "NS running on")
	env := append(clientTLSEnv(f, false), "PYRO_NS_BCPORT="+strconv.Itoa(bcPort),
		"PYRO_NS_HOST=./u:"+filepath.Join(t.TempDir(), "none.sock"))
	clientEnv(t, env...)
	r := runOurs(t, "", "locate", "--json")
	var got locateJSON
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil || r.code != 0 {
		t.Fatalf("locate: %+v: %v", r, err)
	}
	if want := (locateJSON{URI: nsURI(port), Step: "broadcast", Location: fmt.Sprintf("127.0.0.1:%d", port)}); got != want {
		t.Fatalf("locate found %+v, want %+v", got, want)
	}
	compareNsc(t, nil, nil, env, []nscStep{step("-v", "ping"), step("-v", "lookup", "Pyro.NameServer")}, portNormalizer())
}

// TestNsTLSRotation runs the binary with TLS and replaces its certificate
// while a client holds a connection: new connections get the new
// certificate (from the file watch, and again on SIGHUP), the held one
// keeps working, and a broken file keeps the last good certificate.
func TestNsTLSRotation(t *testing.T) {
	bin := buildPyro4(t)
	f := tlstest.WriteFiles(t)
	port := pypeer.FreePort(t)
	p := startNsProc(t, pypeer.Env(serverTLSEnv(f, false)...), bin, "ns", "-n", "127.0.0.1", "-p", strconv.Itoa(port))
	p.waitOut(t, "URI =")

	client, err := tlsconf.ClientConfig(tlsconf.Settings{SSL: true, CACerts: f.CACert})
	if err != nil {
		t.Fatal(err)
	}
	uri := locator.NameServerURI("127.0.0.1", port, "")
	held, err := locator.DialNameServer(context.Background(), uri, locator.Options{Timeout: 10 * time.Second, TLS: client})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	serial := func() string {
		t.Helper()
		c, err := tls.Dial("tcp", uri.Location(), tlsconf.ForHost(client, "127.0.0.1"))
		if err != nil {
			t.Fatalf("TLS dial: %v", err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	logged := func(substr string) int { return strings.Count(p.err.String(), substr) }
	if got := serial(); got != f.Server.Cert.SerialNumber.String() {
		t.Fatalf("serving %s, want %s", got, f.Server.Cert.SerialNumber)
	}

	next := f.CA.Server(t)
	replaceFile(t, f.ServerKey, next.KeyPEM)
	replaceFile(t, f.ServerCert, next.CertPEM)
	nsPoll(t, "the new certificate", func() bool { return serial() == next.Cert.SerialNumber.String() })
	nsPoll(t, "the reload's log line", func() bool {
		return logged("TLS certificate reloaded") >= 1 && logged("serial="+next.Cert.SerialNumber.String()) >= 1
	})
	if err := held.Ping(); err != nil {
		t.Fatalf("the held connection after rotation: %v", err)
	}

	const failed = "TLS certificate not reloaded; still serving the previous one"
	failedBefore := logged(failed)
	replaceFile(t, f.ServerCert, []byte("-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n"))
	nsPoll(t, "the failed reload's log line", func() bool { return logged(failed) > failedBefore })
	if got := serial(); got != next.Cert.SerialNumber.String() {
		t.Fatalf("after a broken file: serving %s, want the last good %s", got, next.Cert.SerialNumber)
	}

	// SIGHUP re-reads whether or not anything changed, and says so.
	before := logged("TLS certificate reloaded")
	replaceFile(t, f.ServerCert, next.CertPEM)
	nsPoll(t, "the repaired file's reload", func() bool { return logged("TLS certificate reloaded") > before })
	before = logged("TLS certificate reloaded")
	if err := syscall.Kill(p.cmd.Process.Pid, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	nsPoll(t, "the SIGHUP reload", func() bool { return logged("TLS certificate reloaded") > before })
	if err := held.Ping(); err != nil {
		t.Fatalf("the held connection after SIGHUP: %v", err)
	}
	if code := p.signal(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, p.err.String())
	}
}

// replaceFile replaces path by rename, as certificate tools do.
func replaceFile(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}
