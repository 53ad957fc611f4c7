package commands

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/pyro4/pyro4/internal/pypeer"
	"github.com/pyro4/pyro4/nameserver"
	"github.com/pyro4/pyro4/nameserver/config"
	"github.com/pyro4/pyro4/persist"
	"github.com/pyro4/pyro4/tlsconf/tlstest"
)

// opsRun is `pyro4 ns --http` running in-process, with its endpoint's URL
// and the name server's URI.
type opsRun struct {
	*nsRun
	base, uri string
}

func startOpsNs(t *testing.T, args ...string) *opsRun {
	t.Helper()
	r := startNsInProcess(t, append([]string{"-n", "127.0.0.1", "-p", "0", "-x", "--http", "127.0.0.1:0"}, args...)...)
	r.waitOut(t, "Operations endpoint on ")
	o := &opsRun{nsRun: r, uri: nsURIFrom(r.out.String())}
	for _, l := range nsLines(r.out.String()) {
		if u, ok := strings.CutPrefix(l, "Operations endpoint on "); ok {
			o.base = strings.TrimSuffix(u, "/")
		}
	}
	if o.base == "" || o.uri == "" {
		t.Fatalf("no endpoint or URI in\n%s", r.out.String())
	}
	return o
}

// opsPy runs testdata/ns_ops_client.py against the server.
func (o *opsRun) py(t *testing.T, args ...string) string {
	t.Helper()
	script, err := os.ReadFile(filepath.Join("testdata", "ns_ops_client.py"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := pypeer.Run(t, nsWait, pypeer.Env(), string(script), append([]string{o.uri}, args...)...)
	if err != nil {
		t.Fatalf("ns_ops_client.py %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(out)
}

func (o *opsRun) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(o.base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.StatusCode, string(b)
}

// scrape parses /metrics as Prometheus does.
func (o *opsRun) scrape(t *testing.T) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := o.get(t, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// sample finds the metric of name whose labels include want.
func sample(fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
next:
	for _, m := range fams[name].GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		return m
	}
	return nil
}

func counter(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	m := sample(fams, name, labels)
	switch {
	case m == nil:
		return -1
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	return -2
}

// TestOpsMetricsWithPyro4Traffic: real Pyro4 clients register, look up and
// fail, and the metrics move by what they did.
func TestOpsMetricsWithPyro4Traffic(t *testing.T) {
	pypeer.Require(t)
	nsCleanEnv(t)
	o := startOpsNs(t)
	before := o.scrape(t)
	if got := counter(before, "pyro4_ns_registrations", nil); got != 1 {
		t.Errorf("registrations at start %v, want 1 (the name server's own)", got)
	}
	for i := range 3 {
		o.py(t, "register", fmt.Sprintf("ops.m%d", i), "PYRO:obj@127.0.0.1:5000", "tag")
	}
	if out := o.py(t, "lookup", "ops.m1"); out != "PYRO:obj@127.0.0.1:5000" {
		t.Fatalf("lookup: %q", out)
	}
	if out := o.py(t, "lookup", "no.such"); !strings.HasPrefix(out, "ERROR NamingError: unknown name") {
		t.Fatalf("lookup of an unknown name: %q", out)
	}
	after := o.scrape(t)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"pyro4_ns_requests_total", map[string]string{"method": "register", "outcome": "ok"}, 3},
		{"pyro4_ns_requests_total", map[string]string{"method": "lookup", "outcome": "ok"}, 1},
		{"pyro4_ns_requests_total", map[string]string{"method": "lookup", "outcome": "NamingError"}, 1},
		{"pyro4_ns_changes_total", map[string]string{"op": "register"}, 4}, // the name server's own too
		{"pyro4_ns_changes_total", map[string]string{"op": "remove"}, 0},
		{"pyro4_ns_errors_total", map[string]string{"kind": "hmac"}, 0},
		{"pyro4_ns_registrations", nil, 4},
		{"pyro4_ns_connections_total", nil, 5},
		{"pyro4_ns_build_info", nil, 1},
	} {
		if got := counter(after, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// Each client closed its proxy; the gauge comes back down.
	nsPoll(t, "connections_open back to 0", func() bool { return counter(o.scrape(t), "pyro4_ns_connections_open", nil) == 0 })
	for _, h := range []struct {
		name   string
		labels map[string]string
		count  uint64
	}{
		{"pyro4_ns_request_duration_seconds", map[string]string{"method": "register"}, 3},
		{"pyro4_ns_store_commit_seconds", nil, 3},
	} {
		m := sample(after, h.name, h.labels)
		if m == nil || m.Histogram == nil {
			t.Errorf("%s%v: no histogram", h.name, h.labels)
			continue
		}
		if got := m.Histogram.GetSampleCount(); got != h.count {
			t.Errorf("%s%v count %d, want %d", h.name, h.labels, got, h.count)
		}
		if len(m.Histogram.GetBucket()) < 10 {
			t.Errorf("%s%v has %d buckets", h.name, h.labels, len(m.Histogram.GetBucket()))
		}
	}
	for _, fam := range []string{"go_goroutines", "process_open_fds"} {
		if after[fam] == nil {
			t.Errorf("%s missing: the runtime and process collectors are not registered", fam)
		}
	}
	for name, fam := range after {
		for _, m := range fam.GetMetric() {
			for _, l := range m.GetLabel() {
				if strings.Contains(l.GetValue(), "ops.m") || strings.Contains(l.GetValue(), "127.0.0.1") {
					t.Errorf("%s has label %s=%q: a name or an address", name, l.GetName(), l.GetValue())
				}
			}
		}
	}
}

// TestOpsAPIEqualsList: the JSON API gives what list() gives a Pyro4 client
// for the same filter, in the same order, and list()'s error text.
func TestOpsAPIEqualsList(t *testing.T) {
	pypeer.Require(t)
	nsCleanEnv(t)
	o := startOpsNs(t)
	for _, r := range [][]string{
		{"b.two", "PYRO:b2@127.0.0.1:5000", "colour:red", "size:big"},
		{"a.one", "PYRO:a1@127.0.0.1:5000", "colour:red"},
		{"b.one", "PYRO:b1@127.0.0.1:5001"},
		{"c.x", "PYRO:cx@127.0.0.1:5002", "size:big", "colour:blue"},
	} {
		o.py(t, append([]string{"register"}, r...)...)
	}
	for _, tc := range []struct {
		label string
		py    []string
		query url.Values
	}{
		{"all", []string{"none"}, nil},
		{"prefix", []string{"prefix", "b."}, url.Values{"prefix": {"b."}}},
		{"regex", []string{"regex", `[ab]\.one`}, url.Values{"regex": {`[ab]\.one`}}},
		{"metadata_all", []string{"metadata_all", "colour:red", "size:big"}, url.Values{"metadata_all": {"colour:red", "size:big"}}},
		{"metadata_any", []string{"metadata_any", "size:big", "colour:blue"}, url.Values{"metadata_any": {"size:big", "colour:blue"}}},
		{"no match", []string{"prefix", "zzz"}, url.Values{"prefix": {"zzz"}}},
		{"invalid regex", []string{"regex", "(["}, url.Values{"regex": {"(["}}},
	} {
		t.Run(tc.label, func(t *testing.T) {
			want := o.py(t, append([]string{"list"}, tc.py...)...)
			code, got := o.get(t, "/api/v1/names?"+tc.query.Encode())
			var wantV, gotV any
			if err := json.Unmarshal([]byte(want), &wantV); err != nil {
				t.Fatalf("python output %q: %v", want, err)
			}
			if err := json.Unmarshal([]byte(got), &gotV); err != nil {
				t.Fatalf("API output %q: %v", got, err)
			}
			if fmt.Sprint(wantV) != fmt.Sprint(gotV) {
				t.Errorf("API (%d) %s\nlist()    %s", code, got, want)
			}
			_, isErr := wantV.(map[string]any)
			if wantCode := map[bool]int{false: 200, true: 400}[isErr]; code != wantCode {
				t.Errorf("status %d, want %d", code, wantCode)
			}
		})
	}
	if code, body := o.get(t, "/api/v1/names/a.one"); code != 200 || !strings.Contains(body, `"uri":"PYRO:a1@127.0.0.1:5000"`) {
		t.Errorf("lookup: %d %s", code, body)
	}
	if code, body := o.get(t, "/api/v1/names/nope"); code != 404 || !strings.Contains(body, "unknown name: nope") {
		t.Errorf("lookup of an unknown name: %d %s", code, body)
	}
	code, body := o.get(t, "/api/v1/status")
	var st struct {
		NSURI  string `json:"ns_uri"`
		Store  string `json:"store"`
		Counts struct {
			Registrations int `json:"registrations"`
		} `json:"counts"`
	}
	if err := json.Unmarshal([]byte(body), &st); err != nil || code != 200 || st.NSURI != o.uri || st.Store != "memory" || st.Counts.Registrations != 5 {
		t.Errorf("status: %d %s (%v)", code, body, err)
	}
	if code, _ := o.get(t, "/healthz"); code != 200 {
		t.Errorf("/healthz %d", code)
	}
	if code, body := o.get(t, "/readyz"); code != 200 {
		t.Errorf("/readyz %d %s", code, body)
	}
}

// TestOpsEventWithin100ms: a Pyro4 client's registration reaches an open
// event stream within 100 ms of register() returning to the client.
func TestOpsEventWithin100ms(t *testing.T) {
	pypeer.Require(t)
	nsCleanEnv(t)
	o := startOpsNs(t)
	resp, err := http.Get(o.base + "/api/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	type arrival struct {
		event, data string
		at          time.Time
	}
	events := make(chan arrival, 16)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		var ev string
		for sc.Scan() {
			line := sc.Text()
			if v, ok := strings.CutPrefix(line, "event: "); ok {
				ev = v
			} else if v, ok := strings.CutPrefix(line, "data: "); ok {
				events <- arrival{ev, v, time.Now()}
			}
		}
	}()
	next := func() arrival {
		select {
		case a, ok := <-events:
			if !ok {
				t.Fatal("event stream ended")
			}
			return a
		case <-time.After(nsWait):
			t.Fatal("no event")
		}
		return arrival{}
	}
	if a := next(); a.event != "ready" {
		t.Fatalf("first event %q, want ready", a.event)
	}
	out := o.py(t, "register", "ops.live", "PYRO:live@127.0.0.1:5003", "x")
	secs, err := strconv.ParseFloat(out, 64)
	if err != nil {
		t.Fatalf("register printed %q", out)
	}
	returned := time.UnixMicro(int64(secs * 1e6))
	a := next()
	if a.event != "register" || !strings.Contains(a.data, `"name":"ops.live"`) || !strings.Contains(a.data, `"metadata":["x"]`) {
		t.Fatalf("event %s %s", a.event, a.data)
	}
	if lag := a.at.Sub(returned); lag > 100*time.Millisecond {
		t.Errorf("the event arrived %v after register returned, want within 100ms", lag)
	}
}

// TestOpsAuditLog: with PYRO_LOGLEVEL=INFO every register, set_metadata and
// remove is logged with the name, URI and the client's address, in both
// log formats.
func TestOpsAuditLog(t *testing.T) {
	pypeer.Require(t)
	for _, format := range []string{"text", "json"} {
		t.Run(format, func(t *testing.T) {
			nsCleanEnv(t, "PYRO_LOGLEVEL=INFO")
			o := startOpsNs(t, "--log-format", format)
			o.py(t, "register", "audit.one", "PYRO:a@127.0.0.1:5004", "m")
			if out := nsPyClient(t, o.uri, "", "setmeta", "audit.one", "n"); out != "ok" {
				t.Fatalf("setmeta: %s", out)
			}
			if out := nsPyClient(t, o.uri, "", "remove", "audit.one"); out != "1" {
				t.Fatalf("remove: %s", out)
			}
			want := []map[string]string{
				{"op": "register", "name": "audit.one", "uri": "PYRO:a@127.0.0.1:5004"},
				{"op": "set_metadata", "name": "audit.one", "uri": "PYRO:a@127.0.0.1:5004"},
				{"op": "remove", "name": "audit.one", "removed": "1"},
			}
			var got []map[string]string
			nsPoll(t, "three audit lines", func() bool {
				got = auditLines(t, format, o.err.String())
				return len(got) >= len(want)
			})
			for i, w := range want {
				for k, v := range w {
					if got[i][k] != v {
						t.Errorf("audit line %d: %s=%q, want %q (%v)", i, k, got[i][k], v, got[i])
					}
				}
				if !strings.HasPrefix(got[i]["peer"], "127.0.0.1:") || got[i]["level"] != "INFO" {
					t.Errorf("audit line %d: peer %q level %q", i, got[i]["peer"], got[i]["level"])
				}
			}
		})
	}
}

// auditLines parses the log's audit lines in either format into their
// attributes.
func auditLines(t *testing.T, format, log string) []map[string]string {
	var out []map[string]string
	for _, l := range nsLines(log) {
		attrs := map[string]string{}
		if format == "json" {
			var m map[string]any
			if !strings.HasPrefix(l, "{") {
				continue
			}
			if err := json.Unmarshal([]byte(l), &m); err != nil {
				t.Fatalf("log line %q is not JSON: %v", l, err)
			}
			for k, v := range m {
				attrs[k] = fmt.Sprint(v)
			}
		} else {
			for _, f := range splitLogfmt(l) {
				k, v, _ := strings.Cut(f, "=")
				if uq, err := strconv.Unquote(v); err == nil {
					v = uq
				}
				attrs[k] = v
			}
		}
		if attrs["msg"] == "audit" {
			out = append(out, attrs)
		}
	}
	return out
}

// splitLogfmt splits slog's text line into key=value fields, keeping
// quoted values whole.
func splitLogfmt(l string) []string {
	var out []string
	var b strings.Builder
	quoted := false
	for i := 0; i < len(l); i++ {
		c := l[i]
		switch {
		case c == '\\' && quoted && i+1 < len(l):
			b.WriteByte(c)
			i++
			b.WriteByte(l[i])
			continue
		case c == '"':
			quoted = !quoted
		case c == ' ' && !quoted:
			out = append(out, b.String())
			b.Reset()
			continue
		}
		b.WriteByte(c)
	}
	return append(out, b.String())
}

// TestOpsNotifiesSystemd: with $NOTIFY_SOCKET set, READY=1 arrives once
// the name server listens, and STOPPING=1 when it shuts down.
func TestOpsNotifiesSystemd(t *testing.T) {
	nsCleanEnv(t)
	sock := filepath.Join(t.TempDir(), "notify")
	pc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	r := startNsInProcess(t, "-n", "127.0.0.1", "-p", "0", "-x")
	read := func() string {
		pc.SetReadDeadline(time.Now().Add(nsWait))
		buf := make([]byte, 256)
		n, err := pc.Read(buf)
		if err != nil {
			t.Fatalf("no notification: %v", err)
		}
		return string(buf[:n])
	}
	if got := read(); got != "READY=1" {
		t.Fatalf("first notification %q, want READY=1", got)
	}
	r.waitOut(t, "URI = ")
	uri := nsURIFrom(r.out.String())
	host, port, _ := strings.Cut(strings.TrimPrefix(uri, "PYRO:Pyro.NameServer@"), ":")
	if c, err := net.Dial("tcp", net.JoinHostPort(host, port)); err != nil {
		t.Errorf("not listening after READY=1: %v", err)
	} else {
		c.Close()
	}
	if code := r.stop(t); code != 0 {
		t.Errorf("exit %d", code)
	}
	if got := read(); got != "STOPPING=1" {
		t.Errorf("notification at shutdown %q, want STOPPING=1", got)
	}
}

// TestOpsWarnsWithoutTLSOnNonLoopback: an endpoint any host can reach, in
// the clear, is said at start; a loopback one is not.
func TestOpsWarnsWithoutTLSOnNonLoopback(t *testing.T) {
	const warning = "without TLS on a non-loopback address"
	for _, tc := range []struct {
		listen string
		warn   bool
	}{{"127.0.0.1:0", false}, {"0.0.0.0:0", true}} {
		t.Run(tc.listen, func(t *testing.T) {
			nsCleanEnv(t)
			r := startNsInProcess(t, "-n", "127.0.0.1", "-p", "0", "-x", "--http", tc.listen)
			r.waitOut(t, "Operations endpoint on ")
			r.stop(t)
			if got := strings.Contains(r.err.String(), warning); got != tc.warn {
				t.Errorf("warned %v, want %v; stderr:\n%s", got, tc.warn, r.err.String())
			}
		})
	}
}

// TestOpsReadyzFollowsStore: /readyz is 200 while the server serves over an
// open store, 503 naming the store once the store fails, while /healthz
// stays 200.
func TestOpsReadyzFollowsStore(t *testing.T) {
	store := persist.NewMemory()
	s := config.Defaults()
	s.HTTPListen = "127.0.0.1:0"
	ops := newOpsEndpoint(s)
	opts := nameserver.Options{Host: "127.0.0.1", NoBroadcast: true, Store: store}
	ops.instrument(&opts)
	srv, err := nameserver.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := ops.start(srv, s, nil, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	defer ops.close()
	o := &opsRun{base: strings.TrimSuffix(ops.URL(), "/")}
	if code, body := o.get(t, "/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "not serving yet") {
		t.Errorf("before Serve: /readyz %d %q", code, body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Serve(ctx)
	nsPoll(t, "/readyz 200", func() bool { code, _ := o.get(t, "/readyz"); return code == http.StatusOK })
	store.Close()
	code, body := o.get(t, "/readyz")
	if code != http.StatusServiceUnavailable || strings.TrimSpace(body) != "not ready: store: "+persist.ErrClosed.Error() {
		t.Errorf("store closed: /readyz %d %q", code, body)
	}
	if code, _ := o.get(t, "/healthz"); code != http.StatusOK {
		t.Errorf("store closed: /healthz %d", code)
	}
}

// TestOpsConfigReloadsCounted: an edit that applies counts as ok, one that
// does not parse as error, and the static registration shows in the API.
func TestOpsConfigReloadsCounted(t *testing.T) {
	nsCleanEnv(t)
	cfg := filepath.Join(t.TempDir(), "nsctl.toml")
	head := "[http]\nlisten = \"127.0.0.1:0\"\n"
	writeNsFile(t, cfg, head)
	r := startNsInProcess(t, "-n", "127.0.0.1", "-p", "0", "-x", "--config", cfg)
	r.waitOut(t, "Operations endpoint on ")
	o := &opsRun{nsRun: r}
	for _, l := range nsLines(r.out.String()) {
		if u, ok := strings.CutPrefix(l, "Operations endpoint on "); ok {
			o.base = strings.TrimSuffix(u, "/")
		}
	}
	reloads := func(result string) float64 {
		return counter(o.scrape(t), "pyro4_ns_config_reloads_total", map[string]string{"result": result})
	}
	writeNsFile(t, cfg, nsStaticReg("svc.static", "PYRO:s@127.0.0.1:1")+head)
	nsPoll(t, "a reload that applied", func() bool { return reloads("ok") == 1 })
	if code, body := o.get(t, "/api/v1/names/svc.static"); code != 200 || !strings.Contains(body, "PYRO:s@127.0.0.1:1") {
		t.Errorf("static entry in the API: %d %s", code, body)
	}
	writeNsFile(t, cfg, head+"colour = \"blue\"\n")
	nsPoll(t, "a reload that failed", func() bool { return reloads("error") == 1 })
	if got := reloads("ok"); got != 1 {
		t.Errorf("reloads ok = %v after a failed one, want 1", got)
	}
}

// TestOpsHTTPSWithServerCertificate: with [tls] on, the endpoint serves
// HTTPS with the name server's certificate, and a plain HTTP request is
// refused.
func TestOpsHTTPSWithServerCertificate(t *testing.T) {
	pki := tlstest.WriteFiles(t)
	s := config.Defaults()
	s.HTTPListen = "127.0.0.1:0"
	s.TLS = config.TLS{Enabled: true, ServerCert: pki.ServerCert, ServerKey: pki.ServerKey}
	certs, err := serverCerts(s)
	if err != nil {
		t.Fatal(err)
	}
	ops := newOpsEndpoint(s)
	opts := nameserver.Options{Host: "127.0.0.1", NoBroadcast: true, TLS: certs.Config()}
	ops.instrument(&opts)
	srv, err := nameserver.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := ops.start(srv, s, opts.TLS, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatal(err)
	}
	defer ops.close()
	if !strings.HasPrefix(ops.URL(), "https://127.0.0.1:") {
		t.Fatalf("URL %s, want https", ops.URL())
	}
	pool := x509.NewCertPool()
	pool.AddCert(pki.CA.Cert)
	client := &http.Client{Timeout: nsWait, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(ops.URL() + "healthz")
	if err != nil {
		t.Fatalf("HTTPS: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil || !resp.TLS.PeerCertificates[0].Equal(pki.Server.Cert) {
		t.Errorf("HTTPS /healthz: %d, TLS %v", resp.StatusCode, resp.TLS != nil)
	}
	plain, err := http.Get("http://" + strings.TrimPrefix(ops.URL(), "https://") + "healthz")
	if err == nil {
		plain.Body.Close()
		if plain.StatusCode == http.StatusOK {
			t.Error("plain HTTP answered 200 on the HTTPS endpoint")
		}
	}
}
