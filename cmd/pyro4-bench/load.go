package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"github.com/pyro4/pyro4/persist"
)

// logger prints progress on stderr unless quiet.
func logger(quiet bool) func(string, ...any) {
	if quiet {
		return func(string, ...any) {}
	}
	return func(format string, a ...any) { fmt.Fprintf(os.Stderr, "pyro4-bench: "+format+"\n", a...) }
}

// loadMain runs one load mode and prints its result.
func loadMain(mode string, args []string) (err error) {
	cfg, err := parseLoad(mode, args)
	if err != nil {
		return err
	}
	r, err := runLoad(cfg)
	if err != nil {
		return err
	}
	return emit(cfg.JSON, cfg.Out, r, func(w io.Writer) { printResult(w, r) })
}

// runLoad runs cfg against its target, setting up and tearing down.
func runLoad(cfg *loadConfig) (r *Result, err error) {
	logf := logger(cfg.Quiet)
	if cfg.CPUProfile != "" {
		stop, err := startCPUProfile(cfg.CPUProfile)
		if err != nil {
			return nil, err
		}
		defer stop()
	}
	raiseFDLimit()
	cfg.runID = newRunID()
	t, err := startTarget(cfg)
	if err != nil {
		return nil, err
	}
	defer func() {
		if serr := t.stop(); serr != nil && err == nil {
			err = fmt.Errorf("stopping the server: %w", serr)
		}
	}()
	d := newDialer(t.addr, cfg.Src, cfg.Timeout)
	var setup time.Duration
	skipped := false
	if needsNames(cfg.Mode) {
		t0 := time.Now()
		if skipped, err = setupNames(d, cfg, logf); err != nil {
			return nil, fmt.Errorf("setup: %w", err)
		}
		setup = time.Since(t0)
	}
	w, err := newWorkload(cfg)
	if err != nil {
		return nil, err
	}
	logf("%s: %d clients for %v (+%v warm-up) against %s", cfg.Mode, cfg.Clients, cfg.Duration, cfg.Warmup, t.addr)
	m := &cpuMeter{pid: t.pid, commits: t.commits}
	if r, err = runClients(cfg, w, d, m.sample); err != nil {
		return nil, err
	}
	m.fill(r)
	r.Setup, r.SetupSkipped = setup.Seconds(), skipped
	if cfg.Mode == "register" && !cfg.Keep {
		n, err := cleanupRegister(d, cfg)
		if err != nil {
			return nil, fmt.Errorf("removing the registered names: %w", err)
		}
		logf("removed the %d registered names", n)
	}
	return r, nil
}

// cpuMeter samples the CPU time of the server, of this process and of the
// whole machine at the start and the end of a measured window.
type cpuMeter struct {
	pid            int // the server's
	srv, self, all cpuWindow
	// commits, when set, reads the store's write grouping, sampled with
	// the CPU times.
	commits          func() persist.CommitStats
	commit0, commit1 persist.CommitStats
}

func (m *cpuMeter) sample(start bool) {
	m.srv.sample(m.pid, start)
	m.self.sample(os.Getpid(), start)
	m.all.sampleMachine(start)
	if m.commits != nil {
		if start {
			m.commit0 = m.commits()
		} else {
			m.commit1 = m.commits()
		}
	}
}

// fill sets the CPU figures of a result measured over the window.
func (m *cpuMeter) fill(r *Result) {
	r.ClientCPU = m.self.seconds()
	r.OtherCPU = otherCPU(m.all, m.srv, m.self, m.pid)
	if m.pid > 0 {
		r.Server = serverStats(m.pid, m.srv, r.Ops)
	}
	if m.commits != nil {
		d := persist.CommitStats{Writes: m.commit1.Writes - m.commit0.Writes, Commits: m.commit1.Commits - m.commit0.Commits}
		r.Store = &StoreStats{Writes: d.Writes, Commits: d.Commits, PerCommit: math.Round(d.PerCommit()*100) / 100}
	}
}

func serverStats(pid int, cpu cpuWindow, ops int64) *ServerStats {
	st := &ServerStats{PID: pid, CPUSeconds: cpu.seconds()}
	st.RSSKB, st.HWMKB, _ = procMemory(pid)
	if ops > 0 {
		st.CPUPerOpUS = math.Round(cpu.seconds()/float64(ops)*1e8) / 100
	}
	return st
}

// cpuWindow measures a process's CPU time between two samples.
type cpuWindow struct{ start, end float64 }

func (c *cpuWindow) sample(pid int, start bool) {
	if pid <= 0 {
		return
	}
	v, err := procCPU(pid)
	if err != nil {
		return
	}
	if start {
		c.start = v
	} else {
		c.end = v
	}
}

func (c *cpuWindow) sampleMachine(start bool) {
	v, err := machineBusy()
	if err != nil {
		return
	}
	if start {
		c.start = v
	} else {
		c.end = v
	}
}

// otherCPU is the CPU time the rest of the machine used during the
// window: a run that shared the machine with other work says so.
func otherCPU(all, srv, self cpuWindow, srvPID int) float64 {
	other := all.seconds() - self.seconds()
	if srvPID != os.Getpid() {
		other -= srv.seconds()
	}
	return math.Round(max(other, 0)*100) / 100
}

func (c *cpuWindow) seconds() float64 { return math.Round(max(c.end-c.start, 0)*100) / 100 }

func startCPUProfile(path string) (func(), error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// emit prints v as JSON or as text, and appends it to the results file.
func emit(asJSON bool, outFile string, v any, text func(io.Writer)) error {
	line, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if asJSON {
		fmt.Println(string(line))
	} else {
		text(os.Stdout)
	}
	if outFile == "" {
		return nil
	}
	f, err := os.OpenFile(outFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	_, err = f.Write(append(line, '\n'))
	return errors.Join(err, f.Close())
}

func fmtUS(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.2fs", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.2fms", v/1e3)
	}
	return fmt.Sprintf("%.1fµs", v)
}

func fmtErrors(m map[string]int64) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%d", k, m[k])
	}
	return strings.Join(parts, " ")
}

func printResult(w io.Writer, r *Result) {
	label := r.Label
	if label == "" {
		label = "-"
	}
	fmt.Fprintf(w, "%s  %s  clients=%d  %gs  serializer=%s", r.Mode, label, r.Clients, r.Duration, r.Serializer)
	if r.Names > 0 {
		fmt.Fprintf(w, "  names=%d match=%d", r.Names, r.Match)
	}
	fmt.Fprintf(w, "  target=%s\n", r.Target)
	fmt.Fprintf(w, "  throughput  %.0f ops/s (%d ops)\n", r.OpsPerSec, r.Ops)
	l := r.Latency
	fmt.Fprintf(w, "  latency     mean %s  p50 %s  p90 %s  p99 %s  p99.9 %s  max %s\n",
		fmtUS(l.Mean), fmtUS(l.P50), fmtUS(l.P90), fmtUS(l.P99), fmtUS(l.P999), fmtUS(l.Max))
	fmt.Fprintf(w, "  errors      %s\n", fmtErrors(r.Errors))
	if r.ErrorSample != "" {
		fmt.Fprintf(w, "  first error %s\n", r.ErrorSample)
	}
	if s := r.Server; s != nil {
		fmt.Fprintf(w, "  server      pid %d  rss %.1f MB (peak %.1f MB)  cpu %.2fs (%.1fµs/op)\n",
			s.PID, float64(s.RSSKB)/1024, float64(s.HWMKB)/1024, s.CPUSeconds, s.CPUPerOpUS)
	}
	if s := r.Store; s != nil {
		fmt.Fprintf(w, "  store       %d writes in %d commits (%.2f per commit)\n", s.Writes, s.Commits, s.PerCommit)
	}
	fmt.Fprintf(w, "  client cpu  %.2fs  other processes %.2fs", r.ClientCPU, r.OtherCPU)
	if r.SetupSkipped {
		fmt.Fprintf(w, "  setup: names already registered")
	} else if r.Setup > 0 {
		fmt.Fprintf(w, "  setup %.2fs", r.Setup)
	}
	fmt.Fprintln(w)
}
