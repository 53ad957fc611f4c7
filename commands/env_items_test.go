package commands

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/pyro4/pyro4/internal/pypeer"
	"github.com/pyro4/pyro4/nameserver/config"
)

// TestEnvItemsThroughCommands sets every PYRO_* item of Pyro4 4.82, one at
// a time, for the commands themselves. An applied item that concerns the
// server shows in `ns --check` as coming from the environment; one that
// concerns only clients leaves the server's settings as they were and
// nsc still works with it; an accepted item changes nothing; a malformed
// value stops the command it concerns (ns, or nsc for a client item) with
// exit 2 and a message naming the item.
func TestEnvItemsThroughCommands(t *testing.T) {
	dir := t.TempDir()
	cert := filepath.Join(dir, "c.pem")
	if err := os.WriteFile(cert, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	// good, bad ("" when every value is taken); SSL=1 is TestNsCheck's.
	values := map[string][2]string{
		"HOST": {"127.0.0.2", ""}, "NS_HOST": {"ns.example", ""}, "NS_PORT": {"9191", "abc"},
		"NS_BCPORT": {"9192", "9091x"}, "NS_BCHOST": {"127.0.0.2", ""}, "NS_AUTOCLEAN": {"3.5", "soon"},
		"NATHOST": {"ext.example", ""}, "NATPORT": {"5555", "x"}, "COMPRESSION": {"YES", "maybe"},
		"SERVERTYPE": {"multiplex", "fork"}, "COMMTIMEOUT": {"2.5", "-1"}, "POLLTIMEOUT": {"2", "x"},
		"SOCK_REUSE": {"off", "2"}, "SOCK_NODELAY": {"On", "y"}, "ONEWAY_THREADED": {"false", "t"},
		"DETAILED_TRACEBACK": {"1", "x"}, "THREADPOOL_SIZE": {"80", "many"}, "THREADPOOL_SIZE_MIN": {"8", "1.5"},
		"AUTOPROXY": {"no", "x"}, "MAX_MESSAGE_SIZE": {"1048576", "1k"}, "BROADCAST_ADDRS": {"127.0.0.1", ""},
		"FLAME_ENABLED": {"true", "x"}, "PREFER_IP_VERSION": {"6", "5"}, "SERIALIZER": {"json", "bogus"},
		"SERIALIZERS_ACCEPTED": {"serpent, json", "serpent,dill"}, "LOGWIRE": {"0", "x"},
		"PICKLE_PROTOCOL_VERSION": {"2", "x"}, "DILL_PROTOCOL_VERSION": {"-1", "x"}, "METADATA": {"FALSE", "x"},
		"REQUIRE_EXPOSE": {"true", "x"}, "USE_MSG_WAITALL": {"no", "x"}, "JSON_MODULE": {"simplejson", ""},
		"MAX_RETRIES": {"3", "x"}, "ITER_STREAMING": {"off", "x"}, "ITER_STREAM_LIFETIME": {"10", "x"},
		"ITER_STREAM_LINGER": {"30.0", "x"}, "SSL": {"0", "x"}, "SSL_REQUIRECLIENTCERT": {"1", "x"},
		"SSL_CACERTS": {dir, ""}, "SSL_SERVERCERT": {cert, ""}, "SSL_SERVERKEY": {cert, ""},
		"SSL_SERVERKEYPASSWD": {"pw", ""}, "SSL_CLIENTCERT": {cert, ""}, "SSL_CLIENTKEY": {cert, ""},
		"SSL_CLIENTKEYPASSWD": {"pw", ""}, "LOGLEVEL": {"info", "LOUD"}, "LOGFILE": {filepath.Join(dir, "ns.log"), ""},
		"HMAC_KEY": {"k", ""},
	}
	nsCleanEnv(t)
	port := pypeer.FreePort(t)
	srv := startNsInProcess(t, "-n", "127.0.0.1", "-p", strconv.Itoa(port), "-x")
	srv.waitOut(t, "URI =")
	check := []string{"--check", "-n", "127.0.0.1", "-p", "0"}
	_, base, _ := runNsToEnd(t, check...)

	for _, it := range config.EnvItems() {
		v, ok := values[strings.TrimPrefix(it.Name, "PYRO_")]
		if !ok {
			t.Errorf("%s has no values in this test", it.Name)
			continue
		}
		t.Run(it.Name, func(t *testing.T) {
			nsCleanEnv(t, it.Name+"="+v[0])
			code, out, stderr := runNsToEnd(t, check...)
			if code != 0 {
				t.Fatalf("ns --check with %s=%q: exit %d\n%s", it.Name, v[0], code, stderr)
			}
			source := regexp.MustCompile(`(?m)^(\S+) .*\benvironment `+it.Name+`$`).FindAllStringSubmatch(out, -1)
			switch {
			case it.Handling == config.Accepted && out != base:
				t.Errorf("accepted %s changed ns --check:\n%s\nwithout it:\n%s", it.Name, out, base)
			case it.Handling == config.Applied && len(source) == 0:
				// Not a server setting: the server's are unchanged, and
				// the client tool runs with it.
				if out != base {
					t.Errorf("client item %s changed ns --check:\n%s", it.Name, out)
				}
				if it.Name == "PYRO_HMAC_KEY" {
					break // the server has no key: covered by TestNscHMACKey
				}
				if r := runOurs(t, "", append([]string{"nsc"}, append(hostFlags(port), "ping")...)...); r.code != 0 {
					t.Errorf("nsc ping with %s=%q: exit %d\n%s%s", it.Name, v[0], r.code, r.stdout, r.stderr)
				}
			}
			if v[1] == "" {
				return
			}
			nsCleanEnv(t, it.Name+"="+v[1])
			named := regexp.MustCompile(regexp.QuoteMeta(it.Name) + `="?` + regexp.QuoteMeta(v[1]) + `"?`)
			if clientOnly := it.Handling == config.Applied && len(source) == 0; clientOnly {
				r := runOurs(t, "", append([]string{"nsc"}, append(hostFlags(port), "ping")...)...)
				if r.code != 2 || !named.MatchString(r.stderr) {
					t.Errorf("nsc with %s=%q: exit %d, want 2 and a message naming it\n%s", it.Name, v[1], r.code, r.stderr)
				}
				return
			}
			code, _, stderr = runNsToEnd(t, "-n", "127.0.0.1", "-p", "0", "-x")
			if code != 2 || !named.MatchString(stderr) {
				t.Errorf("ns with %s=%q: exit %d, want 2 and a message naming it\n%s", it.Name, v[1], code, stderr)
			}
		})
	}
}
