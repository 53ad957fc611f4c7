package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

// results is what a results file (JSON lines) holds. A load run repeated
// counts with its best throughput: on a shared machine other work only ever
// makes a run slower. For the other kinds a later line replaces an earlier.
type results struct {
	machine *Machine
	loads   []*Result
	conns   *ConnsResult
	names   *NamesResult
	startup *StartupResult
}

func readResults(path string) (*results, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rs := &results{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		if err := rs.add(line); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	return rs, sc.Err()
}

func (rs *results) add(line []byte) error {
	var k struct{ Kind string }
	if err := json.Unmarshal(line, &k); err != nil {
		return err
	}
	var dst any
	switch k.Kind {
	case "machine":
		rs.machine = &Machine{}
		dst = rs.machine
	case "load":
		r := &Result{}
		rs.loads = append(rs.loads, r)
		dst = r
	case "scale-conns":
		rs.conns = &ConnsResult{}
		dst = rs.conns
	case "scale-names":
		rs.names = &NamesResult{}
		dst = rs.names
	case "scale-startup":
		rs.startup = &StartupResult{}
		dst = rs.startup
	default:
		return fmt.Errorf("unknown result kind %q", k.Kind)
	}
	return json.Unmarshal(line, dst)
}

// find returns the load result with the highest throughput among those
// matching label, mode, clients and (when non-zero) match.
func (rs *results) find(label, mode string, clients, match int) *Result {
	var best *Result
	for _, r := range rs.loads {
		if r.Label == label && r.Mode == mode && r.Clients == clients && (match == 0 || r.Match == match) {
			if best == nil || r.OpsPerSec > best.OpsPerSec {
				best = r
			}
		}
	}
	return best
}

// repeats reports how many times the runs were repeated, at most.
func (rs *results) repeats() int {
	n := map[string]int{}
	most := 0
	for _, r := range rs.loads {
		k := fmt.Sprint(r.Label, r.Mode, r.Clients, r.Match)
		n[k]++
		most = max(most, n[k])
	}
	return most
}

func reportMain(args []string) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	in := fs.String("in", "", "results `file` (JSON lines written with -o)")
	out := fs.String("out", "docs/bench.md", "markdown `file` whose section to (re)write")
	section := fs.String("section", "", "which section: compare or scale")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *in == "" {
		return errors.New("report: give -in results.jsonl")
	}
	rs, err := readResults(*in)
	if err != nil {
		return err
	}
	var body string
	switch *section {
	case "compare":
		body = compareSection(rs)
	case "scale":
		body = scaleSection(rs)
	default:
		return fmt.Errorf("report: -section %q: want compare or scale", *section)
	}
	return writeSection(*out, *section, body)
}

const docHeader = `# Benchmarks

Numbers from the load tool in ` + "`cmd/pyro4-bench`" + `, on one machine, with client and server
sharing its cores. Reproduce with ` + "`make bench-compare`" + ` (our server against Pyro4 4.82's
pyro4-ns, thread and multiplex server types, and against an echo server that only moves
the bytes: the floor for any server on this machine) and ` + "`make bench-scale`" + `. Each
section below is rewritten by those targets; the text outside the sections is kept.
`

func markers(section string) (begin, end string) {
	return "<!-- bench:" + section + ":begin -->", "<!-- bench:" + section + ":end -->"
}

// writeSection replaces the text between the section's markers in path,
// appending the section when the file lacks it and creating the file when
// it does not exist.
func writeSection(path, section, body string) error {
	old, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		old, err = []byte(docHeader), nil
	}
	if err != nil {
		return err
	}
	return os.WriteFile(path, []byte(replaceSection(string(old), section, body)), 0o644)
}

func replaceSection(doc, section, body string) string {
	begin, end := markers(section)
	block := begin + "\n" + strings.TrimSpace(body) + "\n" + end
	i := strings.Index(doc, begin)
	j := strings.Index(doc, end)
	if i >= 0 && j > i {
		return doc[:i] + block + doc[j+len(end):]
	}
	return strings.TrimRight(doc, "\n") + "\n\n" + block + "\n"
}

// target is one goal and whether the measurements meet it.
type goal struct {
	what, measured, want string
	met                  *bool // nil: not measured
}

func metOf(ok bool) *bool { return &ok }

func goalTable(b *strings.Builder, goals []goal) {
	b.WriteString("| Goal | Measured | Wanted | Met |\n|---|---|---|---|\n")
	for _, g := range goals {
		met := "not measured"
		if g.met != nil {
			met = "yes"
			if !*g.met {
				met = "**no**"
			}
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", g.what, g.measured, g.want, met)
	}
}

// fmtRate writes an operation rate with thousands separators.
func fmtRate(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}

func fmtRatio(a, b float64) string {
	if b == 0 {
		return "–"
	}
	r := a / b
	if r >= 10 {
		return fmt.Sprintf("%.0f×", r)
	}
	return fmt.Sprintf("%.2f×", r)
}

func nClients(n int) string {
	if n == 1 {
		return "1 client"
	}
	return fmt.Sprintf("%d clients", n)
}
