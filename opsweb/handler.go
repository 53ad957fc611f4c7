package opsweb

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Options configures a Handler. Source is required; a nil Feed or Status
// makes its endpoint answer 503, a nil Ready means always ready.
type Options struct {
	// Source is the registry the API and the page read.
	Source Source
	// Feed is the registry's change feed behind /api/v1/events.
	Feed Feed
	// Status reports the server's state for /api/v1/status.
	Status func() (Status, error)
	// Ready returns nil when the server should get traffic, else why not
	// (e.g. "store: bolt: database not open"); /readyz answers 503 with it.
	Ready func() error
	// Collectors are registered, beside Go's runtime and process
	// collectors, on the registry behind /metrics (a *metrics.Metrics).
	Collectors []prometheus.Collector
	// MaxStreams bounds the event streams open at once (default 64); one
	// more is refused with 503.
	MaxStreams int
	// KeepAlive is how often an idle event stream gets a comment line, so
	// that proxies and the client notice a dead peer (default 15s).
	KeepAlive time.Duration
	// WriteTimeout bounds each write to an event stream (default 10s): a
	// client that stops reading is disconnected, not waited for.
	WriteTimeout time.Duration
}

// Handler is the operations endpoint. Create it with New.
type Handler struct {
	opts    Options
	metrics http.Handler
	page    http.Handler
	streams atomic.Int64
	done    chan struct{} // closed by Close: event streams end
	close   sync.Once
}

// Close ends every event stream and makes new ones end at once; the rest
// of the handler goes on serving. An http.Server's Shutdown waits for open
// streams, so register it: srv.RegisterOnShutdown(h.Close).
func (h *Handler) Close() {
	h.close.Do(func() { close(h.done) })
}

// New returns the handler, with a Prometheus registry of its own holding
// Go's runtime and process collectors and opts.Collectors. It fails when
// Source is nil or a collector does not register (a duplicate metric name).
func New(opts Options) (*Handler, error) {
	if opts.Source == nil {
		return nil, errors.New("opsweb: Options.Source is nil")
	}
	if opts.MaxStreams <= 0 {
		opts.MaxStreams = 64
	}
	if opts.KeepAlive <= 0 {
		opts.KeepAlive = 15 * time.Second
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 10 * time.Second
	}
	reg := prometheus.NewRegistry()
	cs := append([]prometheus.Collector{
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	}, opts.Collectors...)
	for i, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("opsweb: register collector %d: %w", i, err)
		}
	}
	page, err := pageHandler()
	if err != nil {
		return nil, err
	}
	h := &Handler{
		opts: opts,
		// InstrumentMetricHandler counts the scrapes themselves on the
		// same registry, as the Prometheus convention is.
		metrics: promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
			// a collector failing (the registrations count on a closed
			// store) still leaves every other metric scrapeable
			ErrorHandling: promhttp.ContinueOnError,
		})),
		page: page,
		done: make(chan struct{}),
	}
	return h, nil
}

const namesPrefix = "/api/v1/names/"

// ServeHTTP routes by hand instead of through http.ServeMux: the mux cleans
// paths (a name "a//b" or "x/../y" would be redirected to another name),
// while a registered name may be any string.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.EscapedPath()
	var serve func(http.ResponseWriter, *http.Request)
	switch {
	case path == "/" || path == "/index.html" || strings.HasPrefix(path, "/assets/"):
		serve = h.page.ServeHTTP
	case path == "/metrics":
		serve = h.metrics.ServeHTTP
	case path == "/healthz":
		serve = serveHealth
	case path == "/readyz":
		serve = h.serveReady
	case path == "/api/v1/names":
		serve = h.serveList
	case strings.HasPrefix(path, namesPrefix):
		serve = h.serveLookup
	case path == "/api/v1/status":
		serve = h.serveStatus
	case path == "/api/v1/events":
		serve = h.serveEvents
	default:
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.URL.Path)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" not allowed: the API is read-only")
		return
	}
	hd := w.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	serve(w, r)
}

func serveHealth(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusOK, "ok")
}

func (h *Handler) serveReady(w http.ResponseWriter, _ *http.Request) {
	if h.opts.Ready != nil {
		if err := h.opts.Ready(); err != nil {
			writeText(w, http.StatusServiceUnavailable, "not ready: "+err.Error())
			return
		}
	}
	writeText(w, http.StatusOK, "ready")
}

func (h *Handler) serveStatus(w http.ResponseWriter, _ *http.Request) {
	if h.opts.Status == nil {
		writeError(w, http.StatusServiceUnavailable, "no status source")
		return
	}
	st, err := h.opts.Status()
	if err != nil {
		writeError(w, http.StatusInternalServerError, "status: "+err.Error())
		return
	}
	if !st.Started.IsZero() {
		st.UptimeSeconds = time.Since(st.Started).Seconds()
	}
	writeJSON(w, http.StatusOK, st)
}

func writeText(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	fmt.Fprintln(w, msg)
}

type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, errorBody{msg})
}

// writeJSON encodes as nsc --json does: no HTML escaping, so that a URI's
// "<" or "&" reads the same in both.
func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	// A failed write is the client gone; there is no one left to tell.
	_ = enc.Encode(v)
}
