package metrics

import (
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
)

// gather registers m on a registry of its own and returns the families by name.
func gather(t *testing.T, m *Metrics) map[string]*dto.MetricFamily {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(m); err != nil {
		t.Fatalf("register: %v", err)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

func TestRequestLabels(t *testing.T) {
	tests := []struct {
		method, outcome         string
		wantMethod, wantOutcome string
	}{
		{"lookup", "", "lookup", "ok"},
		{"lookup", "ok", "lookup", "ok"},
		{"lookup", "Pyro4.errors.NamingError", "lookup", "NamingError"},
		{"register", "NamingError", "register", "NamingError"},
		{"remove", "builtins.TypeError", "remove", "TypeError"},
		{"get_metadata", "Pyro4.errors.DaemonError", "get_metadata", "DaemonError"},
		{"Department.ArchiveServer", "ok", "other", "ok"}, // a client's arbitrary method name
		{"list", "mymodule.CustomError", "list", "other"}, // an unknown class
		{"list", "192.0.2.5:51851", "list", "other"},      // never a peer address
		{"", "", "other", "ok"},
	}
	for _, tc := range tests {
		t.Run(tc.method+"/"+tc.outcome, func(t *testing.T) {
			m := New(Options{})
			m.ObserveRequest(tc.method, tc.outcome, 3*time.Millisecond)
			c := m.requests.WithLabelValues(tc.wantMethod, tc.wantOutcome)
			if got := testutil.ToFloat64(c); got != 1 {
				t.Errorf("requests_total{method=%q,outcome=%q} = %v, want 1", tc.wantMethod, tc.wantOutcome, got)
			}
			if n := testutil.CollectAndCount(m.requests); n != 1 {
				t.Errorf("requests_total has %d series, want 1", n)
			}
		})
	}
}

func TestSeriesOnlyForObserved(t *testing.T) {
	m := New(Options{})
	if n := testutil.CollectAndCount(m.requests); n != 0 {
		t.Fatalf("fresh metrics have %d request series, want 0", n)
	}
	for i := 0; i < 5; i++ {
		m.ObserveRequest("lookup", "", time.Microsecond)
	}
	m.ObserveRequest("lookup", "Pyro4.errors.NamingError", time.Microsecond)
	m.ObserveRequest("ping", "", time.Microsecond)
	if n := testutil.CollectAndCount(m.requests); n != 3 {
		t.Errorf("request series = %d, want 3", n)
	}
	if got := testutil.ToFloat64(m.requests.WithLabelValues("lookup", "ok")); got != 5 {
		t.Errorf("lookup ok = %v, want 5", got)
	}
}

func TestHistogramBuckets(t *testing.T) {
	m := New(Options{})
	m.ObserveRequest("lookup", "", 30*time.Microsecond)
	m.ObserveRequest("lookup", "", 2*time.Millisecond)
	m.ObserveRequest("lookup", "", 2*time.Second)
	m.ObserveCommit(3 * time.Millisecond)
	fams := gather(t, m)
	h := fams["pyro4_ns_request_duration_seconds"].GetMetric()[0].GetHistogram()
	if got, want := len(h.GetBucket()), len(RequestBuckets()); got != want {
		t.Fatalf("request histogram has %d buckets, want %d", got, want)
	}
	if h.GetSampleCount() != 3 {
		t.Errorf("sample count = %d, want 3", h.GetSampleCount())
	}
	// cumulative: 30µs is in the first bucket (50µs), 2ms below 2.5ms
	for _, b := range h.GetBucket() {
		switch b.GetUpperBound() {
		case .00005:
			if b.GetCumulativeCount() != 1 {
				t.Errorf("le=%v count %d, want 1", b.GetUpperBound(), b.GetCumulativeCount())
			}
		case .0025:
			if b.GetCumulativeCount() != 2 {
				t.Errorf("le=%v count %d, want 2", b.GetUpperBound(), b.GetCumulativeCount())
			}
		}
	}
	c := fams["pyro4_ns_store_commit_seconds"].GetMetric()[0].GetHistogram()
	if len(c.GetBucket()) != len(CommitBuckets()) || c.GetSampleCount() != 1 {
		t.Errorf("commit histogram: %d buckets, %d samples", len(c.GetBucket()), c.GetSampleCount())
	}
}

func TestFixedLabelSetsStartAtZero(t *testing.T) {
	fams := gather(t, New(Options{}))
	want := map[string][]string{
		"pyro4_ns_errors_total":         {"hmac", "protocol", "serializer", "tls", "too_large"},
		"pyro4_ns_changes_total":        {"change", "register", "remove"},
		"pyro4_ns_config_reloads_total": {"error", "ok"},
	}
	for name, values := range want {
		mf := fams[name]
		if mf == nil {
			t.Errorf("%s missing", name)
			continue
		}
		var got []string
		for _, m := range mf.GetMetric() {
			for _, v := range labels(m) {
				got = append(got, v)
			}
			if m.GetCounter().GetValue() != 0 {
				t.Errorf("%s %v = %v, want 0", name, labels(m), m.GetCounter().GetValue())
			}
		}
		if strings.Join(got, ",") != strings.Join(values, ",") {
			t.Errorf("%s labels %v, want %v", name, got, values)
		}
	}
}

func TestCountersMove(t *testing.T) {
	n := 7
	m := New(Options{Version: "1.2.3", Revision: "abc", Registrations: func() int { return n }})
	m.ConnOpened()
	m.ConnOpened()
	m.ConnClosed()
	m.Changed(OpRegister, 1)
	m.Changed(OpRemove, 4)
	m.Changed(OpRemove, 0) // nothing removed: no change
	m.Error(ErrHMAC)
	m.Error(ErrTooLarge)
	m.Error(ErrTooLarge)
	m.Error(ErrorKind(99)) // out of range: ignored, no new label
	m.AutocleanRemoved(2)
	m.BroadcastRequest()
	m.ConfigReloaded(true)
	m.ConfigReloaded(false)
	m.ConfigReloaded(false)
	tests := []struct {
		c    prometheus.Collector
		want float64
	}{
		{m.connOpen, 1},
		{m.connTotal, 2},
		{m.changes.WithLabelValues("register"), 1},
		{m.changes.WithLabelValues("remove"), 4},
		{m.changes.WithLabelValues("change"), 0},
		{m.errs.WithLabelValues("hmac"), 1},
		{m.errs.WithLabelValues("too_large"), 2},
		{m.errs.WithLabelValues("protocol"), 0},
		{m.autoclean, 2},
		{m.broadcast, 1},
		{m.reloadOK, 1},
		{m.reloadFail, 2},
	}
	for i, tc := range tests {
		if got := testutil.ToFloat64(tc.c); got != tc.want {
			t.Errorf("case %d: %v, want %v", i, got, tc.want)
		}
	}
	if got := testutil.CollectAndCount(m.errs); got != 5 {
		t.Errorf("errors_total series = %d, want 5", got)
	}
	fams := gather(t, m)
	if v := fams["pyro4_ns_registrations"].GetMetric()[0].GetGauge().GetValue(); v != 7 {
		t.Errorf("registrations = %v, want 7", v)
	}
	n = 9
	if v := gather(t, m)["pyro4_ns_registrations"].GetMetric()[0].GetGauge().GetValue(); v != 9 {
		t.Errorf("registrations after change = %v, want 9 (read at scrape)", v)
	}
	bi := fams["pyro4_ns_build_info"].GetMetric()[0]
	l := labels(bi)
	if bi.GetGauge().GetValue() != 1 || l["version"] != "1.2.3" || l["revision"] != "abc" || l["goversion"] != runtime.Version() {
		t.Errorf("build_info %v = %v", l, bi.GetGauge().GetValue())
	}
}

func TestNoRegistrationsFunc(t *testing.T) {
	if _, ok := gather(t, New(Options{}))["pyro4_ns_registrations"]; ok {
		t.Error("pyro4_ns_registrations exported without a Registrations func")
	}
}

func TestLint(t *testing.T) {
	m := New(Options{Registrations: func() int { return 1 }})
	m.ObserveRequest("lookup", "", time.Millisecond)
	problems, err := testutil.CollectAndLint(m)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		// The issue fixes the pyro4_ns_ prefix; the linter reads its "ns"
		// as nanoseconds.
		if strings.Contains(p.Text, "abbreviated units") {
			continue
		}
		t.Errorf("lint %s: %s", p.Metric, p.Text)
	}
}

func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.ObserveRequest("lookup", "", time.Millisecond)
	m.ConnOpened()
	m.ConnClosed()
	m.Changed(OpRegister, 1)
	m.Error(ErrProtocol)
	m.AutocleanRemoved(1)
	m.BroadcastRequest()
	m.ObserveCommit(time.Millisecond)
	m.ConfigReloaded(true)
}

// TestHotPathAllocBudget holds every recording method to zero allocations
// once its label combination has been seen.
func TestHotPathAllocBudget(t *testing.T) {
	m := New(Options{})
	calls := map[string]func(){
		"ObserveRequest ok":    func() { m.ObserveRequest("lookup", "", time.Microsecond) },
		"ObserveRequest error": func() { m.ObserveRequest("lookup", "Pyro4.errors.NamingError", time.Microsecond) },
		"ObserveRequest other": func() { m.ObserveRequest("no_such_method", "x.Y", time.Microsecond) },
		"ConnOpened":           m.ConnOpened,
		"ConnClosed":           m.ConnClosed,
		"Changed":              func() { m.Changed(OpRemove, 3) },
		"Error":                func() { m.Error(ErrSerializer) },
		"ObserveCommit":        func() { m.ObserveCommit(time.Millisecond) },
		"BroadcastRequest":     m.BroadcastRequest,
	}
	for name, f := range calls {
		f() // first use resolves the label child
		if a := testing.AllocsPerRun(100, f); a != 0 {
			t.Errorf("%s: %v allocs per call, want 0", name, a)
		}
	}
}
