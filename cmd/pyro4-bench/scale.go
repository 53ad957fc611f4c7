package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// ConnsResult is a scale-conns run: idle connections held while active
// clients run lookups.
type ConnsResult struct {
	Kind       string           `json:"kind"`
	Idle       int              `json:"idle"`
	IdleOpen   int              `json:"idle_open"`
	IdleAlive  int              `json:"idle_alive"`
	IdleErrors map[string]int64 `json:"idle_errors,omitempty"`
	OpenS      float64          `json:"open_s"`
	RSSBaseKB  int64            `json:"rss_base_kb"`
	RSSIdleKB  int64            `json:"rss_idle_kb"`
	RSSAfterKB int64            `json:"rss_after_kb"`
	HWMKB      int64            `json:"hwm_kb"`
	FDLimit    uint64           `json:"fd_limit"`
	Active     *Result          `json:"active"`
	Time       string           `json:"time"`
}

// scaleFlags are the flags every scale run shares.
func scaleFlags(name string, cfg *loadConfig) *flag.FlagSet {
	fs := newLoadFlags("lookup", cfg)
	fs.Init(name, flag.ContinueOnError)
	return fs
}

func parseScale(name string, args []string, cfg *loadConfig, fs *flag.FlagSet) error {
	fs.SetOutput(os.Stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", name, fs.Arg(0))
	}
	if cfg.InProc {
		return fmt.Errorf("%s: the server runs as a process of its own, to measure its memory; drop -inproc", name)
	}
	if cfg.Addr == "" {
		cfg.Spawn = true
	} else if cfg.ServerPID == 0 {
		return fmt.Errorf("%s: with -addr, give -server-pid so that the server's memory can be read", name)
	}
	if err := cfg.validate(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	cfg.runID = newRunID()
	return nil
}

func scaleConnsMain(args []string) error {
	cfg := &loadConfig{}
	fs := scaleFlags("scale-conns", cfg)
	idle := fs.Int("idle", 10000, "idle connections to hold open")
	idleSrc := srcList{"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"}
	fs.Var(&idleSrc, "idle-src", "loopback source `addresses` for the idle connections")
	cfg.Clients, cfg.Duration = 64, 10*time.Second
	fs.Lookup("c").DefValue, fs.Lookup("d").DefValue = "64", "10s"
	if err := parseScale("scale-conns", args, cfg, fs); err != nil {
		return err
	}
	if *idle < 0 || *idle > maxClients {
		return fmt.Errorf("scale-conns: -idle %d: want 0..%d", *idle, maxClients)
	}
	if err := checkSources(idleSrc, cfg.AllowRemote); err != nil {
		return fmt.Errorf("scale-conns: -idle-src: %w", err)
	}
	r, err := scaleConns(cfg, *idle, idleSrc)
	if err != nil {
		return err
	}
	return emit(cfg.JSON, cfg.Out, r, func(w io.Writer) { printConns(w, r) })
}

func scaleConns(cfg *loadConfig, idle int, idleSrc []string) (r *ConnsResult, err error) {
	logf := logger(cfg.Quiet)
	limit, _ := raiseFDLimit()
	if need := uint64(idle + cfg.Clients + 64); limit > 0 && limit < need {
		return nil, fmt.Errorf("scale-conns: the open-file limit is %d, %d connections need %d (raise ulimit -n)", limit, idle, need)
	}
	t, err := startTarget(cfg)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, t.stop()) }()
	d := newDialer(t.addr, cfg.Src, cfg.Timeout)
	if _, err := setupNames(d, cfg, logf); err != nil {
		return nil, fmt.Errorf("setup: %w", err)
	}
	r = &ConnsResult{Kind: "scale-conns", Idle: idle, FDLimit: limit, Time: time.Now().UTC().Format(time.RFC3339)}
	r.RSSBaseKB, _, _ = procMemory(t.pid)
	logf("opening %d idle connections", idle)
	t0 := time.Now()
	conns, errs := openIdle(newDialer(t.addr, idleSrc, cfg.Timeout), cfg, idle)
	r.OpenS = time.Since(t0).Seconds()
	r.IdleOpen, r.IdleErrors = len(conns), errs
	defer func() {
		for _, pc := range conns {
			pc.close()
		}
	}()
	r.RSSIdleKB, _, _ = procMemory(t.pid)
	w, err := newWorkload(cfg)
	if err != nil {
		return nil, err
	}
	logf("%d active lookup clients for %v beside %d idle connections", cfg.Clients, cfg.Duration, len(conns))
	m := &cpuMeter{pid: t.pid}
	if r.Active, err = runClients(cfg, w, d, m.sample); err != nil {
		return nil, err
	}
	m.fill(r.Active)
	r.RSSAfterKB, r.HWMKB = r.Active.Server.RSSKB, r.Active.Server.HWMKB
	r.IdleAlive = pingAll(conns, cfg.Timeout)
	return r, nil
}

// openIdle opens n handshaken connections, 128 at a time.
func openIdle(d *dialer, cfg *loadConfig, n int) ([]*pconn, map[string]int64) {
	hs, _ := handshakeData(cfg.codec, nsObject)
	var (
		mu    sync.Mutex
		conns []*pconn
		errs  = map[string]int64{}
		wg    sync.WaitGroup
		sem   = make(chan struct{}, 128)
	)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			c, err := d.dial(i)
			var pc *pconn
			if err == nil {
				pc = newPconn(c, cfg.codec.ID())
				pc.setDeadline(time.Now().Add(cfg.Timeout))
				if err = pc.handshake(hs); err != nil {
					pc.close()
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs[classify(err)]++
				return
			}
			pc.setDeadline(time.Time{})
			conns = append(conns, pc)
		}()
	}
	wg.Wait()
	return conns, errs
}

// pingAll checks that the idle connections still work and counts those
// that answer.
func pingAll(conns []*pconn, timeout time.Duration) int {
	var (
		mu    sync.Mutex
		alive int
		wg    sync.WaitGroup
		sem   = make(chan struct{}, 64)
	)
	for _, pc := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			pc.setDeadline(time.Now().Add(timeout))
			if pc.ping() == nil {
				mu.Lock()
				alive++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return alive
}

func mb(kb int64) float64 { return float64(kb) / 1024 }

func printConns(w io.Writer, r *ConnsResult) {
	fmt.Fprintf(w, "scale-conns: %d idle connections (%d opened in %.1fs, %d alive at the end; errors %s)\n",
		r.Idle, r.IdleOpen, r.OpenS, r.IdleAlive, fmtErrors(r.IdleErrors))
	fmt.Fprintf(w, "  server rss  %.1f MB before, %.1f MB with the idle connections, %.1f MB after the load (peak %.1f MB)\n",
		mb(r.RSSBaseKB), mb(r.RSSIdleKB), mb(r.RSSAfterKB), mb(r.HWMKB))
	printResult(w, r.Active)
}

// NamesResult is a scale-names run: a million registrations.
type NamesResult struct {
	Kind          string  `json:"kind"`
	Names         int     `json:"names"`
	Match         int     `json:"match"`
	RegisterS     float64 `json:"register_s"`
	RegisterPerS  float64 `json:"register_per_s"`
	RSSBaseKB     int64   `json:"rss_base_kb"`
	RSSNamesKB    int64   `json:"rss_names_kb"`
	RSSAfterKB    int64   `json:"rss_after_kb"`
	HWMKB         int64   `json:"hwm_kb"`
	List1         *Result `json:"list_c1"`
	List8         *Result `json:"list_c8"`
	Lookup8       *Result `json:"lookup_c8"`
	Removes       int     `json:"removes"`
	RemovedEach   int     `json:"removed_each"`
	RemoveLatency Latency `json:"remove_latency"`
	Time          string  `json:"time"`
}

func scaleNamesMain(args []string) error {
	cfg := &loadConfig{}
	fs := scaleFlags("scale-names", cfg)
	removes := fs.Int("removes", 20, "remove(prefix) calls to time, each removing -match names")
	cfg.Names, cfg.Match, cfg.Duration, cfg.Batch = 1_000_000, 1000, 3*time.Second, 1000
	fs.Lookup("names").DefValue, fs.Lookup("match").DefValue = "1000000", "1000"
	fs.Lookup("d").DefValue, fs.Lookup("batch").DefValue = "3s", "1000"
	if err := parseScale("scale-names", args, cfg, fs); err != nil {
		return err
	}
	if *removes < 0 || *removes > cfg.Names/cfg.Match {
		return fmt.Errorf("scale-names: -removes %d: want 0..%d (the number of groups)", *removes, cfg.Names/cfg.Match)
	}
	r, err := scaleNames(cfg, *removes)
	if err != nil {
		return err
	}
	return emit(cfg.JSON, cfg.Out, r, func(w io.Writer) { printNames(w, r) })
}

func scaleNames(cfg *loadConfig, removes int) (r *NamesResult, err error) {
	logf := logger(cfg.Quiet)
	t, err := startTarget(cfg)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, t.stop()) }()
	d := newDialer(t.addr, cfg.Src, cfg.Timeout)
	r = &NamesResult{Kind: "scale-names", Names: cfg.Names, Match: cfg.Match, Time: time.Now().UTC().Format(time.RFC3339)}
	r.RSSBaseKB, _, _ = procMemory(t.pid)
	t0 := time.Now()
	if _, err := setupNames(d, cfg, logf); err != nil {
		return nil, fmt.Errorf("registering %d names: %w", cfg.Names, err)
	}
	r.RegisterS = time.Since(t0).Seconds()
	r.RegisterPerS = float64(cfg.Names) / r.RegisterS
	r.RSSNamesKB, _, _ = procMemory(t.pid)
	for _, step := range []struct {
		mode    string
		clients int
		dst     **Result
	}{{"list", 1, &r.List1}, {"list", 8, &r.List8}, {"lookup", 8, &r.Lookup8}} {
		c := *cfg
		c.Mode, c.Clients = step.mode, step.clients
		w, err := newWorkload(&c)
		if err != nil {
			return nil, err
		}
		logf("%s with %d clients for %v over %d names", step.mode, step.clients, c.Duration, cfg.Names)
		m := &cpuMeter{pid: t.pid}
		if *step.dst, err = runClients(&c, w, d, m.sample); err != nil {
			return nil, err
		}
		m.fill(*step.dst)
	}
	logf("timing %d remove(prefix) calls", removes)
	if r.RemoveLatency, r.RemovedEach, err = timeRemoves(d, cfg, removes); err != nil {
		return nil, err
	}
	r.Removes = removes
	r.RSSAfterKB, r.HWMKB, _ = procMemory(t.pid)
	return r, nil
}

// timeRemoves removes whole groups from the end of the name set, one call
// each, and checks that each removed a group.
func timeRemoves(d *dialer, cfg *loadConfig, n int) (Latency, int, error) {
	s, err := openSession(d, 0, cfg.codec, cfg.Timeout)
	if err != nil {
		return Latency{}, 0, err
	}
	defer s.close()
	h := newHistogram()
	groups := cfg.Names / cfg.Match
	for k := range n {
		p := benchPrefix(cfg.Match, groups-1-k)
		t0 := time.Now()
		got, err := removePrefix(s, p)
		h.record(time.Since(t0))
		if err != nil {
			return Latency{}, 0, err
		}
		if got != cfg.Match {
			return Latency{}, 0, fmt.Errorf("remove(prefix=%q) removed %d names, want %d", p, got, cfg.Match)
		}
	}
	return h.summary(), cfg.Match, nil
}

func printNames(w io.Writer, r *NamesResult) {
	fmt.Fprintf(w, "scale-names: %d names registered in %.1fs (%.0f/s, batch calls)\n", r.Names, r.RegisterS, r.RegisterPerS)
	fmt.Fprintf(w, "  server rss  %.1f MB empty, %.1f MB with the names, %.1f MB at the end (peak %.1f MB)\n",
		mb(r.RSSBaseKB), mb(r.RSSNamesKB), mb(r.RSSAfterKB), mb(r.HWMKB))
	for _, x := range []*Result{r.List1, r.List8, r.Lookup8} {
		printResult(w, x)
	}
	l := r.RemoveLatency
	fmt.Fprintf(w, "remove(prefix) of %d names, %d calls: mean %s p50 %s max %s\n",
		r.RemovedEach, r.Removes, fmtUS(l.Mean), fmtUS(l.P50), fmtUS(l.Max))
}
