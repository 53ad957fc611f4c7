package nameserver

import (
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
	"github.com/pyro4/pyro4/wire"
)

// featureConfig is the argument of ns_features.py.
type featureConfig struct {
	Plain    string `json:"plain"`
	HMAC     string `json:"hmac"`
	Pickle   string `json:"pickle"`
	Compress string `json:"compress"`
	NAT      string `json:"nat"`
	Unix     string `json:"unix"`
	BCPort   int    `json:"bcport"`
	BCLoc    string `json:"bcloc"`
	BCBind   string `json:"bcbind"`
	NoPort   int    `json:"noport"`
}

// deliberateFeatures are the ns_features.py checks where this server
// answers differently from pyro4-ns on purpose, with the line it prints.
var deliberateFeatures = map[string]string{}

// codecGaps are checks that depend on a codec feature not there yet; they
// are reported, not compared.
var codecGaps = map[string]string{
	"pickle-batch": "the pickle codec does not yet encode Pyro4.futures._ExceptionWrapper as that class",
}

// TestFeaturesMatchPyro4 runs ns_features.py against reference pyro4-ns
// processes (default with NAT, HMAC, pickle with compression, Unix socket,
// broadcast) and against the same configurations of this server.
func TestFeaturesMatchPyro4(t *testing.T) {
	pypeer.Require(t)
	requireCodecs(t, "serpent", "pickle")
	dir := t.TempDir()
	env := pypeer.Env()

	ref := featureConfig{NoPort: pypeer.FreePort(t), Unix: filepath.Join(dir, "py.sock")}
	var wg sync.WaitGroup
	start := func(dst *string, env []string, args ...string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, port := pypeer.StartPythonNS(t, env, args...)
			*dst = fmt.Sprintf("PYRO:Pyro.NameServer@127.0.0.1:%d", port)
		}()
	}
	// To start fewer processes, one server plays two roles where they do
	// not interfere: default+NAT, and pickle+compression.
	start(&ref.Plain, env, "--nathost", "nat.example", "--natport", "4711")
	start(&ref.HMAC, pypeer.Env("PYRO_HMAC_KEY=secret"))
	start(&ref.Pickle, pypeer.Env("PYRO_SERIALIZERS_ACCEPTED=serpent,json,marshal,pickle", "PYRO_COMPRESSION=true"))
	var unixURI string
	start(&unixURI, env, "-u", ref.Unix)
	bcNSPort, bcPort := pypeer.FreePort(t), pypeer.FreeUDPPort(t)
	bc := pypeer.Start(t, env, "/usr/bin/pyro4-ns", "-n", "0.0.0.0", "-p", fmt.Sprint(bcNSPort),
		"--bchost", "127.0.0.1", "--bcport", fmt.Sprint(bcPort))
	bc.WaitLine(t, "URI =", 20*time.Second)
	ref.BCPort, ref.BCLoc, ref.BCBind = bcPort, fmt.Sprintf("127.0.0.1:%d", bcNSPort), fmt.Sprintf("0.0.0.0:%d", bcNSPort)
	wg.Wait()
	ref.NAT, ref.Compress = ref.Plain, ref.Pickle
	if t.Failed() {
		t.FailNow()
	}

	pickleAcc := wire.Accepted{wire.SerpentID: true, wire.JSONID: true, wire.MarshalID: true, wire.PickleID: true}
	ours := featureConfig{NoPort: ref.NoPort, Unix: filepath.Join(dir, "go.sock")}
	ours.Plain = startServer(t, Options{NoBroadcast: true, NATHost: "nat.example", NATPort: 4711}).InternalURI().String()
	ours.HMAC = startServer(t, Options{NoBroadcast: true, HMACKey: []byte("secret")}).URI().String()
	ours.Pickle = startServer(t, Options{NoBroadcast: true, Accepted: pickleAcc, Compression: true}).URI().String()
	ours.NAT, ours.Compress = ours.Plain, ours.Pickle
	startServer(t, Options{UnixSocket: ours.Unix})
	bcs := startServer(t, Options{Host: "0.0.0.0", BroadcastHost: "127.0.0.1"})
	if bcs.BroadcastAddr() == nil {
		t.Fatal("no broadcast responder for a 0.0.0.0 bind")
	}
	ours.BCPort = bcs.BroadcastAddr().(*net.UDPAddr).Port
	ours.BCLoc = fmt.Sprintf("127.0.0.1:%d", bcs.InternalURI().Port)
	ours.BCBind = fmt.Sprintf("0.0.0.0:%d", bcs.InternalURI().Port)

	run := func(cfg featureConfig) (map[string]string, []string) {
		arg, err := json.Marshal(cfg)
		if err != nil {
			t.Fatal(err)
		}
		return runChecks(t, env, "ns_features.py", string(arg))
	}
	want, order := run(ref)
	got, _ := run(ours)
	if len(got) != len(want) {
		t.Errorf("%d checks against this server, %d against pyro4-ns", len(got), len(want))
	}
	for _, label := range order {
		w := want[label]
		if d, ok := deliberateFeatures[label]; ok {
			w = d
		}
		if why, ok := codecGaps[label]; ok && got[label] != w {
			t.Logf("known gap, check %s: %s\n got %s\nwant %s", label, why, got[label], w)
			continue
		}
		if got[label] != w {
			t.Errorf("check %s:\n got %s\nwant %s", label, got[label], w)
		}
	}
	if t.Failed() {
		t.Logf("pyro4-ns run:\n%s", strings.Join(lines(want, order), "\n"))
	}
}

func lines(m map[string]string, order []string) []string {
	out := make([]string, len(order))
	for i, l := range order {
		out[i] = m[l]
	}
	return out
}
