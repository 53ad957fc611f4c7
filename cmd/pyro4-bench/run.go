package main

import (
	"errors"
	"sync"
	"time"
)

// Result is one load run, as printed and as one JSON line of a results file.
type Result struct {
	Kind         string           `json:"kind"`
	Label        string           `json:"label,omitempty"`
	Mode         string           `json:"mode"`
	Target       string           `json:"target"`
	Clients      int              `json:"clients"`
	Names        int              `json:"names,omitempty"`
	Match        int              `json:"match,omitempty"`
	Serializer   string           `json:"serializer"`
	Duration     float64          `json:"duration_s"`
	Ops          int64            `json:"ops"`
	OpsPerSec    float64          `json:"ops_per_s"`
	Latency      Latency          `json:"latency"`
	Errors       map[string]int64 `json:"errors,omitempty"`
	ErrorSample  string           `json:"error_sample,omitempty"`
	Setup        float64          `json:"setup_s"`
	SetupSkipped bool             `json:"setup_skipped,omitempty"`
	Server       *ServerStats     `json:"server,omitempty"`
	Store        *StoreStats      `json:"store,omitempty"`
	ClientCPU    float64          `json:"client_cpu_s"`
	OtherCPU     float64          `json:"other_cpu_s"`
	Time         string           `json:"time"`
}

// StoreStats describe how a bolt store grouped the run's writes into
// commits over the measured window (only known for -inproc runs).
type StoreStats struct {
	Writes    int64   `json:"writes"`
	Commits   int64   `json:"commits"`
	PerCommit float64 `json:"writes_per_commit"`
}

// ServerStats describe the server process over the measured window.
type ServerStats struct {
	PID        int     `json:"pid"`
	RSSKB      int64   `json:"rss_kb"`
	HWMKB      int64   `json:"hwm_kb"`
	CPUSeconds float64 `json:"cpu_s"`
	CPUPerOpUS float64 `json:"cpu_per_op_us"`
}

func (r *Result) errorCount() int64 {
	var n int64
	for _, c := range r.Errors {
		n += c
	}
	return n
}

// wrongError is a reply that decoded but was not the right answer.
type wrongError struct{ err error }

func (e *wrongError) Error() string { return "wrong answer: " + e.err.Error() }

// loadClient is one simulated client.
type loadClient struct {
	id      int
	cfg     *loadConfig
	w       *workload
	d       *dialer
	hs      []byte
	pc      *pconn
	checked bool // a reply of the current connection was checked
	n       uint64
	hist    *histogram
	errs    map[string]int64
	sample  error
}

func (c *loadClient) fail(err error) {
	c.errs[classify(err)]++
	if c.sample == nil {
		c.sample = err
	}
}

func (c *loadClient) connect(deadline time.Time) error {
	conn, err := c.d.dial(c.id)
	if err != nil {
		return err
	}
	pc := newPconn(conn, c.cfg.codec.ID())
	pc.setDeadline(deadline)
	if err := pc.handshake(c.hs); err != nil {
		pc.close()
		return err
	}
	c.pc = pc
	if c.w.persistent {
		c.checked = false
	}
	return nil
}

func (c *loadClient) drop() {
	if c.pc != nil {
		c.pc.close()
		c.pc = nil
	}
}

// op runs one operation: for a churn client the whole connect, handshake,
// call and close; for a persistent one a call, reconnecting if needed.
func (c *loadClient) op(deadline time.Time) error {
	if c.pc == nil {
		if err := c.connect(deadline); err != nil {
			return err
		}
	}
	data, key, err := c.w.next(c.id, c.n)
	c.n++
	if err != nil {
		return err
	}
	c.pc.setDeadline(deadline)
	res, err := c.pc.invoke(data, 0, c.cfg.codec)
	if err != nil {
		if !errors.As(err, new(*remoteError)) {
			c.drop()
		}
		return err
	}
	if !c.checked || c.cfg.Verify {
		c.checked = true
		v, err := c.cfg.codec.Unmarshal(res)
		if err == nil {
			err = c.w.check(key, v)
		}
		if err != nil {
			return &wrongError{err}
		}
	}
	if !c.w.persistent {
		c.drop()
	}
	return nil
}

// loop runs operations until end, recording those that started after from
// and finished by end.
func (c *loadClient) loop(from, end time.Time, grace time.Duration) {
	deadline := end.Add(grace)
	var backoff time.Duration
	for {
		t0 := time.Now()
		if !t0.Before(end) {
			break
		}
		err := c.op(deadline)
		t1 := time.Now()
		if err == nil {
			backoff = 0
			if !t0.Before(from) && !t1.After(end) {
				c.hist.record(t1.Sub(t0))
			}
			continue
		}
		if t1.After(end) && classify(err) == "timeout" {
			break // cut off by the end of the run, not a server fault
		}
		c.fail(err)
		if c.pc == nil {
			// A connection-level failure: back off rather than spin on a
			// server that refuses, bounded by the end of the run.
			backoff = min(max(2*backoff, time.Millisecond), 100*time.Millisecond)
			time.Sleep(min(backoff, time.Until(end)))
		}
	}
	c.drop()
}

// runClients drives the workload with cfg.Clients clients and returns the
// merged result. sample, when set, is called at the start and the end of
// the measured window.
func runClients(cfg *loadConfig, w *workload, d *dialer, sample func(start bool)) (*Result, error) {
	hs, err := handshakeData(cfg.codec, nsObject)
	if err != nil {
		return nil, err
	}
	clients := make([]*loadClient, cfg.Clients)
	for i := range clients {
		clients[i] = &loadClient{id: i, cfg: cfg, w: w, d: d, hs: hs, hist: newHistogram(), errs: map[string]int64{}}
	}
	if w.persistent {
		connectAll(clients, cfg.Timeout)
	}
	start := time.Now()
	from := start.Add(cfg.Warmup)
	end := from.Add(cfg.Duration)
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.loop(from, end, cfg.Timeout)
		}()
	}
	if sample != nil {
		time.Sleep(time.Until(from))
		sample(true)
		time.Sleep(time.Until(end))
		sample(false)
	}
	wg.Wait()
	r := &Result{
		Kind: "load", Label: cfg.Label, Mode: cfg.Mode, Target: d.addr, Clients: cfg.Clients,
		Serializer: cfg.Serializer, Duration: cfg.Duration.Seconds(), Errors: map[string]int64{},
		Time: start.UTC().Format(time.RFC3339),
	}
	if needsNames(cfg.Mode) {
		r.Names, r.Match = cfg.Names, cfg.Match
	}
	h := newHistogram()
	for _, c := range clients {
		h.merge(c.hist)
		for k, n := range c.errs {
			r.Errors[k] += n
		}
		if c.sample != nil && r.ErrorSample == "" {
			r.ErrorSample = c.sample.Error()
		}
	}
	r.Ops = int64(h.n)
	r.OpsPerSec = float64(h.n) / cfg.Duration.Seconds()
	r.Latency = h.summary()
	return r, nil
}

// connectAll connects the persistent clients before the clock starts, a
// bounded number at a time; failures are counted and retried in the run.
func connectAll(clients []*loadClient, timeout time.Duration) {
	sem := make(chan struct{}, 256)
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if err := c.connect(time.Now().Add(timeout)); err != nil {
				c.fail(err)
			}
		}()
	}
	wg.Wait()
}

// needsNames reports whether a mode needs the registered name set.
func needsNames(mode string) bool {
	return mode == "lookup" || mode == "churn" || mode == "list"
}

// cleanupRegister removes what a register run registered.
func cleanupRegister(d *dialer, cfg *loadConfig) (int, error) {
	s, err := openSession(d, 0, cfg.codec, max(cfg.Timeout, 5*time.Minute))
	if err != nil {
		return 0, err
	}
	defer s.close()
	return removePrefix(s, registerPrefix(cfg.runID))
}
