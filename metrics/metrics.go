package metrics

import (
	"runtime"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Options configures the metric set.
type Options struct {
	// Version and Revision label pyro4_ns_build_info.
	Version, Revision string
	// Registrations, when set, is read at every scrape for the
	// pyro4_ns_registrations gauge; it runs on the scraping goroutine, so it
	// may take the registry's read lock but should not block long.
	Registrations func() int
}

// ErrorKind is a class of failure below the method level, counted in
// pyro4_ns_errors_total{kind}.
type ErrorKind int

// The error kinds. Their label values are the fixed set.
const (
	ErrProtocol   ErrorKind = iota // malformed message, bad header, wrong version
	ErrHMAC                        // HMAC missing, unexpected or wrong
	ErrTLS                         // TLS handshake failed
	ErrSerializer                  // unknown, refused or undecodable serializer data
	ErrTooLarge                    // message over the size limit
	numErrorKinds
)

// String is the kind's label value.
func (k ErrorKind) String() string {
	switch k {
	case ErrProtocol:
		return "protocol"
	case ErrHMAC:
		return "hmac"
	case ErrTLS:
		return "tls"
	case ErrSerializer:
		return "serializer"
	case ErrTooLarge:
		return "too_large"
	}
	return "unknown"
}

// Op is a change to the registry, counted in pyro4_ns_changes_total{op}.
type Op int

// The change operations, named as the change feed names them.
const (
	OpRegister Op = iota // a name registered (new or re-registered)
	OpChange             // a name's metadata set
	OpRemove             // a name removed
	numOps
)

// String is the op's label value.
func (o Op) String() string {
	switch o {
	case OpRegister:
		return "register"
	case OpChange:
		return "change"
	case OpRemove:
		return "remove"
	}
	return "unknown"
}

// Metrics is the metric set. Create it with New; every method is safe for
// concurrent use and a no-op on a nil receiver.
type Metrics struct {
	requests  *prometheus.CounterVec
	durations *prometheus.HistogramVec
	// counters and histograms resolve their children on first use, so that
	// /metrics lists only the combinations that happened, and after that
	// the hot path is two array indexes and an atomic load.
	counters   [numMethods][numOutcomes]atomic.Pointer[counterRef]
	histograms [numMethods]atomic.Pointer[observerRef]

	connOpen  prometheus.Gauge
	connTotal prometheus.Counter

	changes    *prometheus.CounterVec
	changeRefs [numOps]prometheus.Counter
	errs       *prometheus.CounterVec
	errRefs    [numErrorKinds]prometheus.Counter

	autoclean  prometheus.Counter
	broadcast  prometheus.Counter
	commit     prometheus.Histogram
	reloads    *prometheus.CounterVec
	reloadOK   prometheus.Counter
	reloadFail prometheus.Counter

	collectors []prometheus.Collector
}

type counterRef struct{ c prometheus.Counter }
type observerRef struct{ o prometheus.Observer }

// RequestBuckets returns the bounds of pyro4_ns_request_duration_seconds: a
// name server call takes tens of microseconds in memory and milliseconds when
// a durable store commits, so the buckets start far below Prometheus'
// default.
func RequestBuckets() []float64 {
	return []float64{.00005, .0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}
}

// CommitBuckets returns the bounds of pyro4_ns_store_commit_seconds, from an
// in-memory commit to a slow disk's fsync.
func CommitBuckets() []float64 {
	return []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}
}

// New returns the metric set, with no series observed yet except the fixed
// label sets (errors by kind, changes by op, reloads by result), which start
// at zero so that rate() sees their first increment.
func New(o Options) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pyro4_ns_requests_total",
			Help: "Calls to NameServer and Daemon methods, by method and outcome (ok or the Pyro4 error class).",
		}, []string{"method", "outcome"}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pyro4_ns_request_duration_seconds",
			Help:    "Time from a call's decoded request to its reply, by method.",
			Buckets: RequestBuckets(),
		}, []string{"method"}),
		connOpen: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pyro4_ns_connections_open",
			Help: "Client connections open now.",
		}),
		connTotal: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pyro4_ns_connections_total",
			Help: "Client connections accepted.",
		}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pyro4_ns_changes_total",
			Help: "Registry changes, one per name changed, by op (register, change, remove).",
		}, []string{"op"}),
		errs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pyro4_ns_errors_total",
			Help: "Failures below the method level, by kind (protocol, hmac, tls, serializer, too_large).",
		}, []string{"kind"}),
		autoclean: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pyro4_ns_autoclean_removed_total",
			Help: "Registrations removed by autoclean because their object did not answer.",
		}),
		broadcast: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pyro4_ns_broadcast_requests_total",
			Help: "GET_NSURI broadcast requests answered.",
		}),
		commit: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "pyro4_ns_store_commit_seconds",
			Help:    "Time a store write took to become durable.",
			Buckets: CommitBuckets(),
		}),
		reloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pyro4_ns_config_reloads_total",
			Help: "Config file reloads, by result (ok, error).",
		}, []string{"result"}),
	}
	for i := range m.changeRefs {
		m.changeRefs[i] = m.changes.WithLabelValues(Op(i).String())
	}
	for i := range m.errRefs {
		m.errRefs[i] = m.errs.WithLabelValues(ErrorKind(i).String())
	}
	m.reloadOK = m.reloads.WithLabelValues("ok")
	m.reloadFail = m.reloads.WithLabelValues("error")

	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "pyro4_ns_build_info",
		Help: "Always 1; the labels say which build is running.",
		ConstLabels: prometheus.Labels{
			"version":   o.Version,
			"revision":  o.Revision,
			"goversion": runtime.Version(),
		},
	})
	build.Set(1)

	m.collectors = []prometheus.Collector{
		m.requests, m.durations, m.connOpen, m.connTotal, m.changes, m.errs,
		m.autoclean, m.broadcast, m.commit, m.reloads, build,
	}
	if o.Registrations != nil {
		count := o.Registrations
		m.collectors = append(m.collectors, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "pyro4_ns_registrations",
			Help: "Names registered now, the name server's own included.",
		}, func() float64 { return float64(count()) }))
	}
	return m
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, c := range m.collectors {
		c.Describe(ch)
	}
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	for _, c := range m.collectors {
		c.Collect(ch)
	}
}

// ObserveRequest records one call: method is the called method's name and
// outcome "" or "ok" for a normal reply, else the class of the exception the
// reply carries, with or without its module ("Pyro4.errors.NamingError" and
// "NamingError" count the same).
func (m *Metrics) ObserveRequest(method, outcome string, d time.Duration) {
	if m == nil {
		return
	}
	mi := methodIndex(method)
	oi := outcomeIndex(outcome)
	ref := m.counters[mi][oi].Load()
	if ref == nil {
		ref = &counterRef{m.requests.WithLabelValues(methodLabel(mi), outcomeLabel(oi))}
		// A concurrent first use resolves the same child; either store wins.
		m.counters[mi][oi].Store(ref)
	}
	ref.c.Inc()
	h := m.histograms[mi].Load()
	if h == nil {
		h = &observerRef{m.durations.WithLabelValues(methodLabel(mi))}
		m.histograms[mi].Store(h)
	}
	h.o.Observe(d.Seconds())
}

// ConnOpened records an accepted client connection.
func (m *Metrics) ConnOpened() {
	if m == nil {
		return
	}
	m.connTotal.Inc()
	m.connOpen.Inc()
}

// ConnClosed records the end of a connection ConnOpened recorded.
func (m *Metrics) ConnClosed() {
	if m == nil {
		return
	}
	m.connOpen.Dec()
}

// Changed records n names changed by op (a remove by prefix or regex is
// one call with its count).
func (m *Metrics) Changed(op Op, n int) {
	if m == nil || op < 0 || op >= numOps || n <= 0 {
		return
	}
	m.changeRefs[op].Add(float64(n))
}

// Error records a failure of kind k.
func (m *Metrics) Error(k ErrorKind) {
	if m == nil || k < 0 || k >= numErrorKinds {
		return
	}
	m.errRefs[k].Inc()
}

// AutocleanRemoved records n registrations removed by one autoclean pass.
func (m *Metrics) AutocleanRemoved(n int) {
	if m == nil || n <= 0 {
		return
	}
	m.autoclean.Add(float64(n))
}

// BroadcastRequest records one answered GET_NSURI datagram.
func (m *Metrics) BroadcastRequest() {
	if m == nil {
		return
	}
	m.broadcast.Inc()
}

// ObserveCommit records the time one store write took to be durable.
func (m *Metrics) ObserveCommit(d time.Duration) {
	if m == nil {
		return
	}
	m.commit.Observe(d.Seconds())
}

// ConfigReloaded records one config reload and whether it applied.
func (m *Metrics) ConfigReloaded(ok bool) {
	if m == nil {
		return
	}
	if ok {
		m.reloadOK.Inc()
	} else {
		m.reloadFail.Inc()
	}
}
