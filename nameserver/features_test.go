package nameserver

import (
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
	"github.com/pyro4/pyro4/wire"
)

// featureConfig is the argument of ns_features.py.
type featureConfig struct {
	Plain    string   `json:"plain"`
	HMAC     string   `json:"hmac"`
	Pickle   string   `json:"pickle"`
	Compress string   `json:"compress"`
	NAT      string   `json:"nat"`
	Unix     string   `json:"unix"`
	BCPort   int      `json:"bcport"`
	BCLoc    string   `json:"bcloc"`
	BCBind   string   `json:"bcbind"`
	NoPort   int      `json:"noport"`
	Sections []string `json:"sections,omitempty"`
}

// deliberateFeatures are the ns_features.py checks where this server
// answers differently from pyro4-ns on purpose, with the line it prints.
var deliberateFeatures = map[string]string{}

// TestFeaturesMatchPyro4 runs ns_features.py against reference pyro4-ns
// processes (default with NAT, HMAC, pickle with compression, Unix socket,
// broadcast) and against the same configurations of this server, once per
// serializer: every section, the broadcast one located through
// PYRO_BROADCAST_ADDRS, and the pickle one read back with the run's
// serializer too.
func TestFeaturesMatchPyro4(t *testing.T) {
	pypeer.Require(t)
	requireCodecs(t, append([]string{"pickle"}, interopSerializers...)...)
	dir := t.TempDir()
	const accepted = "PYRO_SERIALIZERS_ACCEPTED=serpent,json,marshal,msgpack"

	// Start the reference servers together, then wait for each.
	ref := featureConfig{NoPort: pypeer.FreePort(t), Unix: filepath.Join(dir, "py.sock")}
	type started struct {
		p    *pypeer.Process
		port int
	}
	startNS := func(env []string, args ...string) started {
		port := pypeer.FreePort(t)
		args = append([]string{"-n", "127.0.0.1", "-p", fmt.Sprint(port), "-x"}, args...)
		return started{pypeer.Start(t, env, pypeer.NS(t), args...), port}
	}
	// To start fewer processes, one server plays two roles where they do
	// not interfere: default+NAT, and pickle+compression.
	plain := startNS(pypeer.Env(accepted), "--nathost", "nat.example", "--natport", "4711")
	hmac := startNS(pypeer.Env(accepted, "PYRO_HMAC_KEY=secret"))
	pickle := startNS(pypeer.Env(accepted+",pickle", "PYRO_COMPRESSION=true"))
	unix := startNS(pypeer.Env(accepted), "-u", ref.Unix)
	bcNSPort, bcPort := pypeer.FreePort(t), pypeer.FreeUDPPort(t)
	bc := pypeer.Start(t, pypeer.Env(accepted), pypeer.NS(t), "-n", "0.0.0.0", "-p", fmt.Sprint(bcNSPort),
		"--bchost", "127.0.0.1", "--bcport", fmt.Sprint(bcPort))
	for _, p := range []*pypeer.Process{plain.p, hmac.p, pickle.p, unix.p, bc} {
		p.WaitLine(t, "URI =", 30*time.Second)
	}
	nsURI := func(port int) string { return fmt.Sprintf("PYRO:Pyro.NameServer@127.0.0.1:%d", port) }
	ref.Plain, ref.HMAC, ref.Pickle = nsURI(plain.port), nsURI(hmac.port), nsURI(pickle.port)
	ref.NAT, ref.Compress = ref.Plain, ref.Pickle
	ref.BCPort, ref.BCLoc, ref.BCBind = bcPort, fmt.Sprintf("127.0.0.1:%d", bcNSPort), fmt.Sprintf("0.0.0.0:%d", bcNSPort)

	acc := allAccepted(t)
	delete(acc, wire.PickleID)
	pickleAcc := allAccepted(t)
	ours := featureConfig{NoPort: ref.NoPort, Unix: filepath.Join(dir, "go.sock")}
	ours.Plain = startServer(t, Options{NoBroadcast: true, Accepted: acc, NATHost: "nat.example", NATPort: 4711}).InternalURI().String()
	ours.HMAC = startServer(t, Options{NoBroadcast: true, Accepted: acc, HMACKey: []byte("secret")}).URI().String()
	ours.Pickle = startServer(t, Options{NoBroadcast: true, Accepted: pickleAcc, Compression: true}).URI().String()
	ours.NAT, ours.Compress = ours.Plain, ours.Pickle
	startServer(t, Options{UnixSocket: ours.Unix, Accepted: acc})
	bcs := startServer(t, Options{Host: "0.0.0.0", BroadcastHost: "127.0.0.1", Accepted: acc})
	if bcs.BroadcastAddr() == nil {
		t.Fatal("no broadcast responder for a 0.0.0.0 bind")
	}
	ours.BCPort = bcs.BroadcastAddr().(*net.UDPAddr).Port
	ours.BCLoc = fmt.Sprintf("127.0.0.1:%d", bcs.InternalURI().Port)
	ours.BCBind = fmt.Sprintf("0.0.0.0:%d", bcs.InternalURI().Port)

	run := func(cfg featureConfig, ser string) (map[string]string, []string) {
		arg, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return runChecks(t, pypeer.Env("PYRO_SERIALIZER="+ser, "PYRO_BROADCAST_ADDRS=127.0.0.1"), "ns_features.py", string(arg))
	}
	for _, ser := range interopSerializers {
		want, order := run(ref, ser)
		for label, w := range map[string]string{
			"pyroname":         `["pyroname", "ok", "héllo"]`,
			"broadcast-addrs":  `["broadcast-addrs", "ok", "127.0.0.1"]`,
			"broadcast-locate": `["broadcast-locate", "ok", "PYRO:Pyro.NameServer@<bcns>"]`,
			"pickle-cross":     `["pickle-cross", "ok", ["dict", ["pk.one", ["PYRO:x@h:1", ["pm"]]]]]`,
		} {
			if want[label] != w {
				t.Errorf("%s: the reference run did not work: %s, want %s", ser, want[label], w)
			}
		}
		got, _ := run(ours, ser)
		compareChecks(t, ser, want, got, order)
	}
}

func compareChecks(t *testing.T, ser string, want, got map[string]string, order []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d checks against this server, %d against pyro4-ns", ser, len(got), len(want))
	}
	failed := false
	for _, label := range order {
		w := want[label]
		if d, ok := deliberateFeatures[label]; ok {
			w = d
		}
		if got[label] != w {
			failed = true
			t.Errorf("%s: check %s:\n got %s\nwant %s", ser, label, got[label], w)
		}
	}
	if failed {
		t.Logf("%s: pyro4-ns run:\n%s", ser, strings.Join(lines(want, order), "\n"))
	}
}

func lines(m map[string]string, order []string) []string {
	out := make([]string, len(order))
	for i, l := range order {
		out[i] = m[l]
	}
	return out
}
