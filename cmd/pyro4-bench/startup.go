package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/pyro4/pyro4/persist"
	"github.com/pyro4/pyro4/wire"
)

// StartupResult is a scale-startup run: how long our server takes from
// exec to its first answered lookup, on a bolt store of many names.
type StartupResult struct {
	Kind      string    `json:"kind"`
	Server    string    `json:"server"`
	Store     string    `json:"store"`
	Names     int       `json:"names"`
	FileBytes int64     `json:"file_bytes"`
	BuildS    float64   `json:"build_s,omitempty"`
	ListenMS  []float64 `json:"listen_ms"`
	ReadyMS   []float64 `json:"ready_ms"`
	RSSKB     []int64   `json:"rss_kb"`
	List      Latency   `json:"list_latency"`
	Match     int       `json:"match"`
	Time      string    `json:"time"`
}

func scaleStartupMain(args []string) error {
	fs := flag.NewFlagSet("scale-startup", flag.ContinueOnError)
	spec := fs.String("s", "bolt:cmd/pyro4-bench/out/ns-1m.bolt", "bolt store `bolt:FILE`, built with -names names when absent")
	names := fs.Int("names", 1_000_000, "names in the store")
	match := fs.Int("match", 1000, "names per group (list(prefix) size)")
	runs := fs.Int("runs", 3, "server starts to time")
	pyro4 := fs.String("pyro4", "", "start `binary` ns (the pyro4 command) instead of pyro4-bench serve")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	out := fs.String("o", "", "append the JSON result as a line to `file`")
	quiet := fs.Bool("q", false, "no progress messages")
	if err := fs.Parse(args); err != nil {
		return err
	}
	st, err := persistSpec(*spec)
	switch {
	case err != nil:
		return err
	case st.Kind != "bolt":
		return fmt.Errorf("scale-startup: -s %q: want bolt:FILE", *spec)
	case *names < 1 || *names > maxNames || *match < 1 || *match > *names:
		return fmt.Errorf("scale-startup: want 1 <= -match <= -names <= %d", maxNames)
	case *runs < 1 || *runs > 100:
		return fmt.Errorf("scale-startup: -runs %d: want 1..100", *runs)
	}
	r, err := scaleStartup(st.Path, *names, *match, *runs, *pyro4, logger(*quiet))
	if err != nil {
		return err
	}
	return emit(*asJSON, *out, r, func(w io.Writer) { printStartup(w, r) })
}

func scaleStartup(path string, names, match, runs int, pyro4 string, logf func(string, ...any)) (*StartupResult, error) {
	r := &StartupResult{Kind: "scale-startup", Store: "bolt:" + path, Names: names, Match: match, Time: time.Now().UTC().Format(time.RFC3339)}
	r.Server = "pyro4-bench serve"
	if pyro4 != "" {
		r.Server = "pyro4 ns"
	}
	built, err := ensureBoltStore(path, names, match, logf)
	if err != nil {
		return nil, err
	}
	r.BuildS = built.Seconds()
	if fi, err := os.Stat(path); err == nil {
		r.FileBytes = fi.Size()
	}
	codec, _ := wire.CodecByName("serpent")
	cfg := &loadConfig{codec: codec, Timeout: 10 * time.Second, Names: names, Match: match}
	lists := newHistogram()
	for i := range runs {
		listen, ready, rss, err := timeStartup(path, pyro4, cfg, lists)
		if err != nil {
			return nil, fmt.Errorf("start %d: %w", i+1, err)
		}
		logf("start %d: listening after %.1fms, first lookup answered after %.1fms", i+1, ms(listen), ms(ready))
		r.ListenMS = append(r.ListenMS, ms(listen))
		r.ReadyMS = append(r.ReadyMS, ms(ready))
		r.RSSKB = append(r.RSSKB, rss)
	}
	r.List = lists.summary()
	return r, nil
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/1e4) / 100 }

// timeStartup starts the server on the store, polls until a lookup of the
// last name succeeds, times a few list(prefix) calls, and stops it. listen
// is when pyro4-bench serve reported its address, or when pyro4 ns first
// completed a handshake.
func timeStartup(path, pyro4 string, cfg *loadConfig, lists *histogram) (listen, ready time.Duration, rssKB int64, err error) {
	t0 := time.Now()
	var ch *child
	if pyro4 != "" {
		ch, err = spawnPyro4(pyro4, "bolt:"+path, time.Minute)
	} else {
		ch, err = spawnServer([]string{"-s", "bolt:" + path}, time.Minute)
	}
	if err != nil {
		return 0, 0, 0, err
	}
	defer func() { err = errors.Join(err, ch.stop()) }()
	listen = time.Since(t0)
	d := newDialer(ch.addr, nil, time.Second)
	last := []wire.Value{benchName(cfg.Match, cfg.Names-1)}
	for {
		s, err := openSession(d, 0, cfg.codec, cfg.Timeout)
		if err == nil {
			v, cerr := s.call("lookup", last, nil)
			if cerr == nil {
				ready = time.Since(t0)
				if u, err := checkURI(v); err != nil || u != benchURI(cfg.Names-1) {
					s.close()
					return 0, 0, 0, fmt.Errorf("lookup after start-up gave %s", wire.Repr(v))
				}
				rssKB, _, _ = procMemory(ch.cmd.Process.Pid)
				err = timeLists(s, cfg, lists)
				s.close()
				return listen, ready, rssKB, err
			}
			s.close()
			err = cerr
		}
		if time.Since(t0) > time.Minute {
			return 0, 0, 0, fmt.Errorf("no lookup answered within a minute: %w", err)
		}
		time.Sleep(time.Millisecond)
	}
}

// timeLists times list(prefix) of one group on the bolt store, ten groups.
func timeLists(s *session, cfg *loadConfig, h *histogram) error {
	groups := cfg.Names / cfg.Match
	for k := range 10 {
		p := benchPrefix(cfg.Match, k*groups/10)
		t0 := time.Now()
		v, err := s.call("list", []wire.Value{p}, nil)
		h.record(time.Since(t0))
		if err != nil {
			return err
		}
		if d, ok := v.(*wire.Dict); !ok || d.Len() != cfg.Match {
			return fmt.Errorf("list(%q) on the bolt store did not return %d names", p, cfg.Match)
		}
	}
	return nil
}

// ensureBoltStore builds the store file when it is absent, writing through
// the persist package directly (a million fsynced registrations over the
// wire would take far longer than the measurement). It returns how long
// the build took, zero when the file was there already.
func ensureBoltStore(path string, names, match int, logf func(string, ...any)) (time.Duration, error) {
	if _, err := os.Stat(path); err == nil {
		b, err := persist.OpenBolt(path, persist.BoltOptions{})
		if err != nil {
			return 0, err
		}
		n, cerr := b.Count()
		e, ok, gerr := b.Get(benchName(match, names-1))
		if err := errors.Join(cerr, gerr, b.Close()); err != nil {
			return 0, err
		}
		if n < names || !ok || e.URI != benchURI(names-1) {
			return 0, fmt.Errorf("store %s exists but does not hold the %d bench names (has %d entries); remove it to rebuild", path, names, n)
		}
		return 0, nil
	}
	logf("building %s with %d names", path, names)
	t0 := time.Now()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return 0, err
	}
	b, err := persist.OpenBolt(path, persist.BoltOptions{})
	if err != nil {
		return 0, err
	}
	// Enough concurrent writers to fill the store's commit batches.
	const writers = 2048
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		errs []error
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < names; i += writers {
				if err := b.Put(persist.Entry{Name: benchName(match, i), URI: benchURI(i)}); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errors.Join(errs...), b.Close()); err != nil {
		os.Remove(path)
		return 0, fmt.Errorf("building %s: %w", path, err)
	}
	return time.Since(t0), nil
}

func printStartup(w io.Writer, r *StartupResult) {
	fmt.Fprintf(w, "scale-startup: %s on %s, %d names, %.1f MB file", r.Server, r.Store, r.Names, float64(r.FileBytes)/(1<<20))
	if r.BuildS > 0 {
		fmt.Fprintf(w, " (built in %.1fs)", r.BuildS)
	}
	fmt.Fprintln(w)
	for i := range r.ReadyMS {
		fmt.Fprintf(w, "  start %d: listening %.1fms, first lookup answered %.1fms, rss %.1f MB\n",
			i+1, r.ListenMS[i], r.ReadyMS[i], mb(r.RSSKB[i]))
	}
	fmt.Fprintf(w, "  list(prefix) of %d names on the bolt store: p50 %s max %s\n", r.Match, fmtUS(r.List.P50), fmtUS(r.List.Max))
}
