package main

import (
	"fmt"
	"strings"
)

// The servers of a comparison, by the -label of their runs.
const (
	labelThread    = "python-thread"
	labelMultiplex = "python-multiplex"
	labelOurs      = "ours"
	labelEcho      = "echo"
)

// compareRow is one workload of the comparison.
type compareRow struct {
	title   string
	mode    string
	clients int
	match   int
}

var compareRows = []compareRow{
	{"lookup, 1 client", "lookup", 1, 0},
	{"lookup, 64 clients", "lookup", 64, 0},
	{"churn (connect, lookup, close), 8 clients", "churn", 8, 0},
	{"list(prefix) of 100 names, 8 clients", "list", 8, 100},
	{"list(prefix) of 1,000 names, 8 clients", "list", 8, 1000},
	{"register, 16 clients", "register", 16, 0},
}

// echoFor is the echo run a row is compared with: the echo floor for
// lookups, its churn pattern for churn.
func (rs *results) echoFor(row compareRow) *Result {
	switch row.mode {
	case "lookup":
		return rs.find(labelEcho, "echo", row.clients, 0)
	case "churn":
		return rs.find(labelEcho, "echo-churn", row.clients, 0)
	}
	return nil
}

func rate(r *Result) string {
	if r == nil {
		return "–"
	}
	return fmtRate(r.OpsPerSec)
}

func p99(r *Result) string {
	if r == nil {
		return "–"
	}
	return fmtUS(r.Latency.P99)
}

func opsOf(r *Result) float64 {
	if r == nil {
		return 0
	}
	return r.OpsPerSec
}

func compareSection(rs *results) string {
	var b strings.Builder
	b.WriteString("## Against Pyro4's name server\n\n")
	if m := rs.machine; m != nil {
		fmt.Fprintf(&b, "Machine: %s.\n\n", m)
	}
	if r := rs.find(labelOurs, "lookup", 64, 0); r != nil {
		fmt.Fprintf(&b, "Each run: %gs measured after a warm-up, %s serializer, %d names registered beforehand "+
			"(list runs: names in groups of the list size). Python: `/usr/bin/pyro4-ns` (Pyro4 4.82) with "+
			"`PYRO_SERVERTYPE=thread` (default, pool of 40) and `multiplex`. Every server runs as a process of its own; "+
			"the load tool is one more process on the same cores.", r.Duration, r.Serializer, r.Names)
		if n := rs.repeats(); n > 1 {
			fmt.Fprintf(&b, " Each run was repeated %d times, interleaved; the tables show the repeat with the best throughput.", n)
		}
		b.WriteString("\n\n")
	}
	b.WriteString("Throughput (operations per second) and ratios:\n\n")
	b.WriteString("| Workload | Python thread | Python multiplex | ours | echo floor | ours / thread | ours / multiplex | ours / echo |\n")
	b.WriteString("|---|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, row := range compareRows {
		th, mx, ours := rs.find(labelThread, row.mode, row.clients, row.match), rs.find(labelMultiplex, row.mode, row.clients, row.match), rs.find(labelOurs, row.mode, row.clients, row.match)
		echo := rs.echoFor(row)
		echoRatio := "–"
		if echo != nil {
			echoRatio = fmtRatio(opsOf(ours), opsOf(echo))
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s |\n", row.title, rate(th), rate(mx), rate(ours), rate(echo),
			fmtRatio(opsOf(ours), opsOf(th)), fmtRatio(opsOf(ours), opsOf(mx)), echoRatio)
	}
	b.WriteString("\n99th percentile latency of one operation:\n\n")
	b.WriteString("| Workload | Python thread | Python multiplex | ours | echo floor |\n|---|--:|--:|--:|--:|\n")
	for _, row := range compareRows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", row.title,
			p99(rs.find(labelThread, row.mode, row.clients, row.match)), p99(rs.find(labelMultiplex, row.mode, row.clients, row.match)),
			p99(rs.find(labelOurs, row.mode, row.clients, row.match)), p99(rs.echoFor(row)))
	}
	b.WriteString(compareErrors(rs))
	b.WriteString(sharedNote(rs))
	b.WriteString(compareCPU(rs))
	b.WriteString("\n### Goals\n\n")
	goalTable(&b, compareGoals(rs))
	return b.String()
}

// compareErrors lists every run that had errors.
func compareErrors(rs *results) string {
	var lines []string
	for _, r := range rs.shown() {
		if n := r.errorCount(); n > 0 {
			lines = append(lines, fmt.Sprintf("- %s, %s with %s: %s (first: %s)", r.Label, r.Mode, nClients(r.Clients), fmtErrors(r.Errors), r.ErrorSample))
		}
	}
	if len(lines) == 0 {
		return "\nNo run had errors.\n"
	}
	return "\nErrors (counted over the whole run, warm-up included; a failed client backs off and retries):\n\n" + strings.Join(lines, "\n") + "\n"
}

// compareCPU shows the server CPU time per operation, which is what the
// throughput of a server on a shared machine comes down to.
func compareCPU(rs *results) string {
	var b strings.Builder
	b.WriteString("\nServer CPU time per operation (user + system, from /proc):\n\n")
	b.WriteString("| Workload | Python thread | Python multiplex | ours | echo floor |\n|---|--:|--:|--:|--:|\n")
	cpu := func(r *Result) string {
		if r == nil || r.Server == nil || r.Ops == 0 {
			return "–"
		}
		return fmtUS(r.Server.CPUPerOpUS)
	}
	for _, row := range compareRows {
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s |\n", row.title,
			cpu(rs.find(labelThread, row.mode, row.clients, row.match)), cpu(rs.find(labelMultiplex, row.mode, row.clients, row.match)),
			cpu(rs.find(labelOurs, row.mode, row.clients, row.match)), cpu(rs.echoFor(row)))
	}
	return b.String()
}

func compareGoals(rs *results) []goal {
	ours64, echo64 := rs.find(labelOurs, "lookup", 64, 0), rs.find(labelEcho, "echo", 64, 0)
	ours1, echo1 := rs.find(labelOurs, "lookup", 1, 0), rs.find(labelEcho, "echo", 1, 0)
	churn := rs.find(labelOurs, "churn", 8, 0)
	list := rs.find(labelOurs, "list", 8, 1000)
	var goals []goal
	ratioGoal := func(what string, a, b *Result, min float64, want string) {
		g := goal{what: what, measured: "–", want: want}
		if a != nil && b != nil && b.OpsPerSec > 0 {
			g.measured = fmt.Sprintf("%s vs %s ops/s (%s)", fmtRate(a.OpsPerSec), fmtRate(b.OpsPerSec), fmtRatio(a.OpsPerSec, b.OpsPerSec))
			g.met = metOf(a.OpsPerSec >= min*b.OpsPerSec)
		}
		goals = append(goals, g)
	}
	ratioGoal("lookup, 64 persistent clients: throughput against the echo floor", ours64, echo64, 0.7, "≥ 0.70×")
	g := goal{what: "lookup, 64 clients: p99 against the echo floor's p99", measured: "–", want: "≤ 1.5×"}
	if ours64 != nil && echo64 != nil && echo64.Latency.P99 > 0 {
		g.measured = fmt.Sprintf("%s vs %s (%s)", fmtUS(ours64.Latency.P99), fmtUS(echo64.Latency.P99), fmtRatio(ours64.Latency.P99, echo64.Latency.P99))
		g.met = metOf(ours64.Latency.P99 <= 1.5*echo64.Latency.P99)
	}
	goals = append(goals, g)
	g = goal{what: "lookup, 64 clients: refused or failed connections", measured: "–", want: "0"}
	if ours64 != nil {
		g.measured = fmtErrors(ours64.Errors)
		g.met = metOf(ours64.errorCount() == 0)
	}
	goals = append(goals, g)
	g = goal{what: "lookup, 1 client: time per request against the echo floor", measured: "–", want: "≤ 1.5×"}
	if ours1 != nil && echo1 != nil && ours1.Latency.Mean > 0 {
		g.measured = fmt.Sprintf("%s vs %s (%s)", fmtUS(ours1.Latency.Mean), fmtUS(echo1.Latency.Mean), fmtRatio(ours1.Latency.Mean, echo1.Latency.Mean))
		g.met = metOf(ours1.Latency.Mean <= 1.5*echo1.Latency.Mean)
	}
	goals = append(goals, g)
	ratioGoal("churn, 8 clients, against the Python thread server", churn, rs.find(labelThread, "churn", 8, 0), 10, "≥ 10×")
	ratioGoal("churn, 8 clients, against the Python multiplex server", churn, rs.find(labelMultiplex, "churn", 8, 0), 3, "≥ 3×")
	ratioGoal("list(prefix) of 1,000 names, 8 clients, against the Python thread server", list, rs.find(labelThread, "list", 8, 1000), 10, "≥ 10×")
	return goals
}

// sharedNote lists the runs during which other processes used more than a
// tenth of a CPU: their numbers are lower than the machine can do.
func sharedNote(rs *results) string {
	var lines []string
	for _, r := range rs.shown() {
		if r.Duration > 0 && r.OtherCPU/r.Duration > 0.1 {
			lines = append(lines, fmt.Sprintf("- %s, %s with %s: %.2f CPUs busy elsewhere", r.Label, r.Mode, nClients(r.Clients), r.OtherCPU/r.Duration))
		}
	}
	if len(lines) == 0 {
		return "\nNo other process used more than a tenth of a CPU during any run.\n"
	}
	return "\nRuns that shared the machine with other work (CPU used by other processes during the measured window):\n\n" + strings.Join(lines, "\n") + "\n"
}

// shown lists the runs the tables show: the best of each repeated run.
func (rs *results) shown() []*Result {
	var out []*Result
	seen := map[*Result]bool{}
	for _, r := range rs.loads {
		if b := rs.find(r.Label, r.Mode, r.Clients, r.Match); b != nil && !seen[b] {
			seen[b] = true
			out = append(out, b)
		}
	}
	return out
}
