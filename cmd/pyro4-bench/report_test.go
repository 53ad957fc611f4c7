package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReplaceSection(t *testing.T) {
	begin, end := markers("compare")
	tests := []struct {
		name, doc, want string
	}{
		{"appended", "# Title\n\ntext\n", "# Title\n\ntext\n\n" + begin + "\nNEW\n" + end + "\n"},
		{"replaced", "a\n" + begin + "\nOLD\n" + end + "\nb\n", "a\n" + begin + "\nNEW\n" + end + "\nb\n"},
		{"other section kept", "<!-- bench:scale:begin -->\nS\n<!-- bench:scale:end -->\n" + begin + "\nOLD\n" + end,
			"<!-- bench:scale:begin -->\nS\n<!-- bench:scale:end -->\n" + begin + "\nNEW\n" + end},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := replaceSection(tt.doc, "compare", "\nNEW\n\n"); got != tt.want {
				t.Errorf("got\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestFormatting(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567.4: "1,234,567", 52956: "52,956"} {
		if got := fmtRate(v); got != want {
			t.Errorf("fmtRate(%v) = %q, want %q", v, got, want)
		}
	}
	for _, tt := range []struct {
		a, b float64
		want string
	}{{30, 10, "3.00×"}, {7, 10, "0.70×"}, {250, 10, "25×"}, {1, 0, "–"}} {
		if got := fmtRatio(tt.a, tt.b); got != tt.want {
			t.Errorf("fmtRatio(%v, %v) = %q, want %q", tt.a, tt.b, got, tt.want)
		}
	}
	for v, want := range map[float64]string{12.34: "12.3µs", 1500: "1.50ms", 2.5e6: "2.50s"} {
		if got := fmtUS(v); got != want {
			t.Errorf("fmtUS(%v) = %q, want %q", v, got, want)
		}
	}
}

func load(label, mode string, clients, match int, ops, p99, mean float64) *Result {
	return &Result{Kind: "load", Label: label, Mode: mode, Clients: clients, Match: match, Duration: 5,
		OpsPerSec: ops, Ops: int64(ops * 5), Latency: Latency{P99: p99, Mean: mean}, Serializer: "serpent", Names: 10000}
}

// The report reads the results file, takes the last line of a repeated
// run, and judges the goals from the ratios.
func TestCompareReport(t *testing.T) {
	lines := []any{
		describeMachine("test"),
		load(labelOurs, "lookup", 64, 100, 1, 1, 1), // a repeat with less throughput
		load(labelOurs, "lookup", 64, 100, 8000, 900, 0),
		load(labelEcho, "echo", 64, 100, 10000, 700, 0),
		load(labelOurs, "lookup", 1, 100, 0, 0, 30),
		load(labelEcho, "echo", 1, 100, 0, 0, 15),
		load(labelOurs, "churn", 8, 100, 5000, 0, 0),
		load(labelThread, "churn", 8, 100, 400, 0, 0),
		load(labelMultiplex, "churn", 8, 100, 2000, 0, 0),
	}
	rejected := load(labelThread, "lookup", 64, 100, 3000, 5000, 0)
	rejected.Errors, rejected.ErrorSample = map[string]int64{"rejected": 24}, "connection rejected: no free workers"
	lines = append(lines, rejected)
	path := filepath.Join(t.TempDir(), "r.jsonl")
	var buf []byte
	for _, l := range lines {
		b, err := json.Marshal(l)
		if err != nil {
			t.Fatal(err)
		}
		buf = append(append(buf, b...), '\n')
	}
	if err := os.WriteFile(path, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	rs, err := readResults(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := compareSection(rs)
	for _, want := range []string{
		"| lookup, 64 clients | 3,000 | – | 8,000 | 10,000 | 2.67× | – | 0.80× |",
		"| lookup, 64 persistent clients: throughput against the echo floor | 8,000 vs 10,000 ops/s (0.80×) | ≥ 0.70× | yes |",
		"| lookup, 64 clients: p99 against the echo floor's p99 | 900.0µs vs 700.0µs (1.29×) | ≤ 1.5× | yes |",
		"| lookup, 1 client: time per request against the echo floor | 30.0µs vs 15.0µs (2.00×) | ≤ 1.5× | **no** |",
		"| churn, 8 clients, against the Python thread server | 5,000 vs 400 ops/s (12×) | ≥ 10× | yes |",
		"| churn, 8 clients, against the Python multiplex server | 5,000 vs 2,000 ops/s (2.50×) | ≥ 3× | **no** |",
		"list(prefix) of 1,000 names, 8 clients, against the Python thread server | – | ≥ 10× | not measured |",
		"python-thread, lookup with 64 clients: rejected=24",
		"Machine: ",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("report lacks %q:\n%s", want, doc)
		}
	}
	out := filepath.Join(t.TempDir(), "bench.md")
	if err := writeSection(out, "compare", doc); err != nil {
		t.Fatal(err)
	}
	if err := writeSection(out, "scale", scaleSection(rs)); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	if !strings.HasPrefix(string(got), "# Benchmarks") || strings.Count(string(got), ":begin -->") != 2 {
		t.Fatalf("document:\n%s", got)
	}
}

// The scale details name the writes per commit of an in-process durable
// run, and leave the line out when no store reported.
func TestScaleReportCommits(t *testing.T) {
	rs := &results{loads: []*Result{
		{Label: labelDurable, Mode: "register", Clients: 16, Duration: 5, OpsPerSec: 8481},
		{Label: labelDurableInProc, Mode: "register", Clients: 16, Duration: 5, OpsPerSec: 9220,
			Store: &StoreStats{Writes: 46120, Commits: 5687, PerCommit: 8.11}},
	}}
	got := scaleDetails(rs)
	for _, want := range []string{
		"- Durable registrations (bolt, each committed and fsynced before the reply), 16 clients: 8,481/s",
		"- The same durable run with the server inside the load tool's process, 16 clients: 9,220/s, 46,120 writes in 5,687 commits (8.11 writes per commit, a commit every 879.2µs).",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("scale details lack %q:\n%s", want, got)
		}
	}
	rs.loads[1].Store = nil
	if got := scaleDetails(rs); strings.Contains(got, "per commit") {
		t.Errorf("a run without store stats still reported commits:\n%s", got)
	}
}
