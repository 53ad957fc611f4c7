package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

// Machine describes where the numbers were taken.
type Machine struct {
	Kind    string `json:"kind"`
	NumCPU  int    `json:"nproc"`
	CPU     string `json:"cpu"`
	MemMB   int64  `json:"mem_mb"`
	Kernel  string `json:"kernel"`
	Go      string `json:"go"`
	LoadAvg string `json:"loadavg"`
	Date    string `json:"date"`
	Note    string `json:"note,omitempty"`
}

func describeMachine(note string) *Machine {
	m := &Machine{Kind: "machine", NumCPU: runtime.NumCPU(), Go: runtime.Version(),
		Date: time.Now().UTC().Format("2006-01-02 15:04 UTC"), Note: note}
	m.CPU = procField("/proc/cpuinfo", "model name")
	if v := procField("/proc/meminfo", "MemTotal"); v != "" {
		var kb int64
		fmt.Sscan(v, &kb)
		m.MemMB = kb / 1024
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	return m
}

// procField returns the value of the first "key: value" line of a /proc file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// machineMain is "pyro4-bench machine": the machine description as a result line.
func machineMain(args []string) error {
	fs := flag.NewFlagSet("machine", flag.ContinueOnError)
	note := fs.String("note", "", "free text to record with the description")
	out := fs.String("o", "", "append the description as a JSON line to `file`")
	if err := fs.Parse(args); err != nil {
		return err
	}
	m := describeMachine(*note)
	return emit(false, *out, m, func(w io.Writer) { fmt.Fprintln(w, m.String()) })
}

func (m *Machine) String() string {
	s := fmt.Sprintf("%d × %s, %d MB RAM, Linux %s, %s, load average %s at the start, %s",
		m.NumCPU, m.CPU, m.MemMB, m.Kernel, m.Go, m.LoadAvg, m.Date)
	if m.Note != "" {
		s += ". " + m.Note
	}
	return s
}

// quietMain is "pyro4-bench quiet": it waits until the machine has been nearly
// idle for a while, so that a run does not share the cores with other work.
func quietMain(args []string) error {
	fs := flag.NewFlagSet("quiet", flag.ContinueOnError)
	maxBusy := fs.Float64("max-busy", 0.1, "busiest the machine may be, as a fraction of all its CPUs")
	span := fs.Duration("for", 2*time.Second, "how long it must stay that quiet")
	timeout := fs.Duration("timeout", 3*time.Minute, "give up after this long (the run goes ahead, noted as shared)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *timeout <= 0 {
		return nil
	}
	busy, err := waitQuiet(*maxBusy, *span, *timeout)
	if err != nil {
		return fmt.Errorf("quiet: %w", err)
	}
	if busy > *maxBusy {
		return fmt.Errorf("quiet: the machine stayed busy (%.0f%% of its CPUs) for %v", busy*100, *timeout)
	}
	return nil
}

// waitQuiet samples the machine's busy fraction every 250ms until it has
// stayed at or below maxBusy for span, or timeout passes; it returns the
// last fraction seen.
func waitQuiet(maxBusy float64, span, timeout time.Duration) (float64, error) {
	const tick = 250 * time.Millisecond
	end := time.Now().Add(timeout)
	prev, err := machineBusy()
	if err != nil {
		return 0, err
	}
	var quietFor time.Duration
	var frac float64
	for time.Now().Before(end) {
		time.Sleep(tick)
		cur, err := machineBusy()
		if err != nil {
			return 0, err
		}
		frac = (cur - prev) / tick.Seconds() / float64(runtime.NumCPU())
		prev = cur
		if frac <= maxBusy {
			quietFor += tick
			if quietFor >= span {
				return frac, nil
			}
		} else {
			quietFor = 0
		}
	}
	return max(frac, maxBusy+1e-9), nil
}
