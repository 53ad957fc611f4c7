package main

import (
	"fmt"
	"slices"
	"strings"
)

// labelDurable is the label of the register runs on a bolt store, and
// labelDurableInProc of the same runs with the server inside the load tool,
// where the store can say how it grouped the writes into commits.
const (
	labelDurable       = "ours-bolt"
	labelDurableInProc = "ours-bolt-inproc"
)

func scaleSection(rs *results) string {
	var b strings.Builder
	b.WriteString("## Scale of our server\n\n")
	if m := rs.machine; m != nil {
		fmt.Fprintf(&b, "Machine: %s.\n\n", m)
	}
	goalTable(&b, scaleGoals(rs))
	b.WriteString(scaleDetails(rs))
	return b.String()
}

func mbString(kb int64) string { return fmt.Sprintf("%.0f MB", mb(kb)) }

func scaleGoals(rs *results) []goal {
	var goals []goal
	add := func(what, want string, ok bool, measured string, met bool) {
		g := goal{what: what, want: want, measured: "–"}
		if ok {
			g.measured, g.met = measured, metOf(met)
		}
		goals = append(goals, g)
	}
	c := rs.conns
	if c != nil && c.Active != nil {
		add(fmt.Sprintf("%s idle connections + %d active clients: server RSS", fmtRate(float64(c.Idle)), c.Active.Clients), "< 200 MB",
			true, fmt.Sprintf("%s (peak %s)", mbString(c.RSSAfterKB), mbString(c.HWMKB)), c.HWMKB < 200*1024)
		add("… the active lookup clients' p99", "< 5 ms", true,
			fmt.Sprintf("%s at %s ops/s", fmtUS(c.Active.Latency.P99), fmtRate(c.Active.OpsPerSec)), c.Active.Latency.P99 < 5000)
		add("… idle connections open, and alive at the end", "all", true,
			fmt.Sprintf("%s opened, %s alive of %s; errors %s", fmtRate(float64(c.IdleOpen)), fmtRate(float64(c.IdleAlive)), fmtRate(float64(c.Idle)), fmtErrors(c.IdleErrors)),
			c.IdleAlive == c.Idle && c.Active.errorCount() == 0)
	} else {
		add("10,000 idle connections + 64 active clients", "", false, "", false)
	}
	n := rs.names
	if n != nil {
		add(fmt.Sprintf("%s registrations: server RSS", fmtRate(float64(n.Names))), "< 400 MB", true,
			fmt.Sprintf("%s (peak %s)", mbString(n.RSSNamesKB), mbString(n.HWMKB)), n.HWMKB < 400*1024)
		if n.List1 != nil {
			add(fmt.Sprintf("… list(prefix) of %s names, 1 client, p99", fmtRate(float64(n.Match))), "< 2 ms", true,
				fmt.Sprintf("%s (p50 %s)", fmtUS(n.List1.Latency.P99), fmtUS(n.List1.Latency.P50)), n.List1.Latency.P99 < 2000 && n.List1.errorCount() == 0)
		}
	} else {
		add("1,000,000 registrations", "", false, "", false)
	}
	if s := rs.startup; s != nil && len(s.ReadyMS) > 0 {
		worst := slices.Max(s.ReadyMS)
		add(fmt.Sprintf("start-up on a bolt store of %s names, exec to first answered lookup (worst of %d)", fmtRate(float64(s.Names)), len(s.ReadyMS)),
			"< 1 s", true, fmtUS(worst*1000), worst < 1000)
	} else {
		add("start-up from a 1,000,000-name bolt store", "", false, "", false)
	}
	d16 := rs.find(labelDurable, "register", 16, 0)
	add("durable registrations (bolt), 16 clients", "≥ 10,000/s", d16 != nil, func() string {
		if d16 == nil {
			return ""
		}
		return fmt.Sprintf("%s/s (p99 %s)", fmtRate(d16.OpsPerSec), fmtUS(d16.Latency.P99))
	}(), d16 != nil && d16.OpsPerSec >= 10000 && d16.errorCount() == 0)
	return goals
}

func scaleDetails(rs *results) string {
	var b strings.Builder
	b.WriteString("\nDetails:\n\n")
	if c := rs.conns; c != nil && c.Active != nil {
		fmt.Fprintf(&b, "- Connections: server RSS %s with the names registered, %s once %s idle connections were open (%.1fs to open them, %s per connection), %s after %gs of lookups by %d clients beside them (%s ops/s, p50 %s, p99 %s, p99.9 %s).\n",
			mbString(c.RSSBaseKB), mbString(c.RSSIdleKB), fmtRate(float64(c.IdleOpen)), c.OpenS, perConn(c), mbString(c.RSSAfterKB),
			c.Active.Duration, c.Active.Clients, fmtRate(c.Active.OpsPerSec), fmtUS(c.Active.Latency.P50), fmtUS(c.Active.Latency.P99), fmtUS(c.Active.Latency.P999))
	}
	if n := rs.names; n != nil {
		fmt.Fprintf(&b, "- %s names registered over the wire in batch calls in %.1fs (%s/s); server RSS %s empty, %s with the names, %s at the end.\n",
			fmtRate(float64(n.Names)), n.RegisterS, fmtRate(n.RegisterPerS), mbString(n.RSSBaseKB), mbString(n.RSSNamesKB), mbString(n.RSSAfterKB))
		for _, r := range []*Result{n.List1, n.List8, n.Lookup8} {
			if r != nil {
				fmt.Fprintf(&b, "- %s among %s names, %s: %s ops/s, p50 %s, p99 %s; errors %s.\n",
					r.Mode, fmtRate(float64(n.Names)), nClients(r.Clients), fmtRate(r.OpsPerSec), fmtUS(r.Latency.P50), fmtUS(r.Latency.P99), fmtErrors(r.Errors))
			}
		}
		fmt.Fprintf(&b, "- remove(prefix) of %s names, %d calls: p50 %s, max %s.\n", fmtRate(float64(n.RemovedEach)), n.Removes, fmtUS(n.RemoveLatency.P50), fmtUS(n.RemoveLatency.Max))
	}
	if s := rs.startup; s != nil && len(s.ReadyMS) > 0 {
		fmt.Fprintf(&b, "- Start-up of %s on a %.0f MB bolt file of %s names: listening after %s ms, first lookup answered after %s ms (each start); RSS then %s; list(prefix) of %s names on the bolt store p50 %s.\n",
			s.Server, float64(s.FileBytes)/(1<<20), fmtRate(float64(s.Names)), joinMS(s.ListenMS), joinMS(s.ReadyMS), mbString(slices.Max(s.RSSKB)),
			fmtRate(float64(s.Match)), fmtUS(s.List.P50))
	}
	for _, c := range []int{1, 16} {
		if r := rs.find(labelDurable, "register", c, 0); r != nil {
			fmt.Fprintf(&b, "- Durable registrations (bolt, each committed and fsynced before the reply), %s: %s/s, p50 %s, p99 %s; errors %s.\n",
				nClients(c), fmtRate(r.OpsPerSec), fmtUS(r.Latency.P50), fmtUS(r.Latency.P99), fmtErrors(r.Errors))
		}
	}
	for _, c := range []int{1, 16} {
		if r := rs.find(labelDurableInProc, "register", c, 0); r != nil && r.Store != nil && r.Store.Commits > 0 {
			fmt.Fprintf(&b, "- The same durable run with the server inside the load tool's process, %s: %s/s, %s writes in %s commits (%.2f writes per commit, a commit every %s).\n",
				nClients(c), fmtRate(r.OpsPerSec), fmtRate(float64(r.Store.Writes)), fmtRate(float64(r.Store.Commits)), r.Store.PerCommit,
				fmtUS(r.Duration*1e6/float64(r.Store.Commits)))
		}
	}
	return b.String()
}

func perConn(c *ConnsResult) string {
	if c.IdleOpen == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f kB", float64(c.RSSIdleKB-c.RSSBaseKB)/float64(c.IdleOpen))
}

func joinMS(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprintf("%.0f", x)
	}
	return strings.Join(s, " / ")
}
