package opsweb

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/pyro4/pyro4/metrics"
)

// scrape fetches /metrics and parses the text format as Prometheus does.
func scrape(t *testing.T, h *Handler) map[string]*dto.MetricFamily {
	t.Helper()
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 200 {
		t.Fatalf("/metrics: %d %s", rec.Code, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("/metrics Content-Type %q", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value finds the sample of fam whose labels include want.
func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) (*dto.Metric, bool) {
	t.Helper()
	fam := fams[name]
	if fam == nil {
		return nil, false
	}
next:
	for _, m := range fam.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if got[k] != v {
				continue next
			}
		}
		return m, true
	}
	return nil, false
}

func counter(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	m, ok := value(t, fams, name, labels)
	if !ok {
		t.Fatalf("no %s%v in /metrics", name, labels)
	}
	if m.GetCounter() != nil {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}

func TestMetricsEndpoint(t *testing.T) {
	regs := 3
	m := metrics.New(metrics.Options{Version: "v1.0.0", Revision: "abc123", Registrations: func() int { return regs }})
	h := newTestHandler(t, Options{Collectors: []prometheus.Collector{m}})

	m.ObserveRequest("lookup", "", 40*time.Microsecond)
	m.ConnOpened()
	first := scrape(t, h)
	for _, name := range []string{"go_goroutines", "go_memstats_alloc_bytes", "process_cpu_seconds_total",
		"process_resident_memory_bytes", "pyro4_ns_build_info", "pyro4_ns_errors_total"} {
		if first[name] == nil {
			t.Errorf("/metrics has no %s", name)
		}
	}
	if v := counter(t, first, "pyro4_ns_requests_total", map[string]string{"method": "lookup", "outcome": "ok"}); v != 1 {
		t.Errorf("lookup ok = %v, want 1", v)
	}
	if v := counter(t, first, "pyro4_ns_registrations", nil); v != 3 {
		t.Errorf("registrations = %v, want 3", v)
	}

	m.ObserveRequest("lookup", "", 2*time.Millisecond)
	m.ObserveRequest("lookup", "Pyro4.errors.NamingError", 30*time.Microsecond)
	m.ObserveRequest("register", "", 5*time.Millisecond)
	m.ConnOpened()
	m.ConnClosed()
	m.Error(metrics.ErrHMAC)
	m.Changed(metrics.OpRegister, 1)
	m.ObserveCommit(4 * time.Millisecond)
	regs = 4
	second := scrape(t, h)
	moves := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"pyro4_ns_requests_total", map[string]string{"method": "lookup", "outcome": "ok"}, 2},
		{"pyro4_ns_requests_total", map[string]string{"method": "lookup", "outcome": "NamingError"}, 1},
		{"pyro4_ns_requests_total", map[string]string{"method": "register", "outcome": "ok"}, 1},
		{"pyro4_ns_connections_total", nil, 2},
		{"pyro4_ns_connections_open", nil, 1},
		{"pyro4_ns_errors_total", map[string]string{"kind": "hmac"}, 1},
		{"pyro4_ns_errors_total", map[string]string{"kind": "tls"}, 0},
		{"pyro4_ns_changes_total", map[string]string{"op": "register"}, 1},
		{"pyro4_ns_registrations", nil, 4},
		{"pyro4_ns_build_info", map[string]string{"version": "v1.0.0", "revision": "abc123"}, 1},
	}
	for _, mv := range moves {
		if got := counter(t, second, mv.name, mv.labels); got != mv.want {
			t.Errorf("%s%v = %v, want %v", mv.name, mv.labels, got, mv.want)
		}
	}
	hm, ok := value(t, second, "pyro4_ns_request_duration_seconds", map[string]string{"method": "lookup"})
	if !ok || hm.GetHistogram() == nil {
		t.Fatal("no lookup duration histogram")
	}
	hg := hm.GetHistogram()
	// the text format lists +Inf as a bucket of its own
	if hg.GetSampleCount() != 3 || len(hg.GetBucket()) != len(metrics.RequestBuckets())+1 {
		t.Errorf("lookup histogram: %d samples, %d buckets", hg.GetSampleCount(), len(hg.GetBucket()))
	}
	if cm, ok := value(t, second, "pyro4_ns_store_commit_seconds", nil); !ok || cm.GetHistogram().GetSampleCount() != 1 ||
		len(cm.GetHistogram().GetBucket()) == 0 {
		t.Error("store commit histogram has no buckets or sample")
	}
	// the handler counts its own scrapes, on its own registry
	if v := counter(t, second, "promhttp_metric_handler_requests_total", map[string]string{"code": "200"}); v != 1 {
		t.Errorf("scrapes counted %v before the second, want 1", v)
	}
}

// TestRegistryPerHandler: two handlers never share series (no global
// default registry), and a duplicate collector is an error, not a panic.
func TestRegistryPerHandler(t *testing.T) {
	m1 := metrics.New(metrics.Options{})
	m2 := metrics.New(metrics.Options{})
	h1 := newTestHandler(t, Options{Collectors: []prometheus.Collector{m1}})
	h2 := newTestHandler(t, Options{Collectors: []prometheus.Collector{m2}})
	m1.BroadcastRequest()
	if v := counter(t, scrape(t, h1), "pyro4_ns_broadcast_requests_total", nil); v != 1 {
		t.Errorf("h1 broadcasts %v, want 1", v)
	}
	if v := counter(t, scrape(t, h2), "pyro4_ns_broadcast_requests_total", nil); v != 0 {
		t.Errorf("h2 broadcasts %v, want 0", v)
	}
	if _, err := New(Options{Source: newFakeSource(), Collectors: []prometheus.Collector{m1, m1}}); err == nil {
		t.Error("New with a collector registered twice succeeded")
	}
}
