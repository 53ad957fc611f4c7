package commands

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/etcdtest"
	"github.com/pyro4/pyro4/internal/pypeer"
)

// clusterConfig is a node's config file: short etcd timeouts, so that the
// failure steps take seconds.
const clusterConfig = `
[etcd]
prefix = "/test-ns/"
dial_timeout = 1
request_timeout = 3
`

// TestCluster runs one name space on a real 3-member etcd cluster with
// name server nodes of ours (in-process, one as the built binary so that
// it can be killed) and a real Python Pyro4 application, through every
// step of a cluster's life: sharing, safe registration races, the loss
// of an etcd member, of a name server, of quorum, the way back, and a
// watch that falls behind a compaction. The steps share the cluster and
// build on each other, so they run in order and stop at the first
// failure.
func TestCluster(t *testing.T) {
	pypeer.Require(t)
	etcdtest.Require(t)
	nsCleanEnv(t)
	bin := buildPyro4(t)
	ec := etcdtest.Start(t, 3)
	eps := ec.Endpoints()
	cfg := filepath.Join(t.TempDir(), "nsctl.toml")
	writeNsFile(t, cfg, clusterConfig)
	spec := "etcd:" + strings.Join(eps, ",")
	a := startOpsNs(t, "-s", spec, "--config", cfg)
	b := startOpsNs(t, "-s", spec, "--config", cfg)
	c := startNsProc(t, pypeer.Env(), bin, "ns", "-n", "127.0.0.1", "-p", "0", "-x", "-s", spec, "--config", cfg)
	c.waitOut(t, "URI = ")
	cURI := nsURIFrom(c.out.String())
	app := startPyApp(t)

	reg := func(t *testing.T, ns, name, uri string, md ...string) pyReply {
		return app.call(t, map[string]any{"op": "register", "ns": ns, "name": name, "uri": uri, "meta": md})
	}
	var want []string // the client registrations every node should list, in order
	step := func(name string, fn func(t *testing.T)) {
		if !t.Run(name, fn) {
			t.FailNow()
		}
	}

	step("register on A, lookup and list on B", func(t *testing.T) {
		for i, n := range []string{"svc.zeta", "svc.alpha", "svc.mid"} {
			uri := fmt.Sprintf("PYRO:obj%d@10.0.0.%d:5000", i, i+1)
			if r := reg(t, a.uri, n, uri, "team:"+n, "class:x"); r.Err != "" {
				t.Fatal(r)
			}
			want = append(want, fmt.Sprintf("%s %s [class:x team:%s]", n, uri, n))
		}
		// Registration order, not name order: the cluster's create order.
		app.waitList(t, b.uri, want)
		r := app.must(t, map[string]any{"op": "lookup", "ns": b.uri, "name": "svc.alpha"})
		var got []any
		json.Unmarshal(r.OK, &got)
		if s := fmt.Sprint(got); s != "[PYRO:obj1@10.0.0.2:5000 [class:x team:svc.alpha]]" {
			t.Errorf("lookup on B: %s", s)
		}
		app.waitList(t, cURI, want)
		if a, b := app.list(t, a.uri), app.list(t, b.uri); slices.Equal(a, b) || len(a) != len(b) {
			t.Errorf("A and B list the same Pyro.NameServer, want each its own:\nA %q\nB %q", a, b)
		}
	})

	step("each node's Pyro.NameServer is its own", func(t *testing.T) {
		for _, n := range []struct{ uri string }{{a.uri}, {b.uri}, {cURI}} {
			r := app.must(t, map[string]any{"op": "lookup", "ns": n.uri, "name": "Pyro.NameServer"})
			var got []any
			json.Unmarshal(r.OK, &got)
			if len(got) == 0 || got[0] != n.uri {
				t.Errorf("%s: Pyro.NameServer is %s", n.uri, r.OK)
			}
			if rows := app.list(t, n.uri); len(rows) == 0 || !strings.HasPrefix(rows[0], "Pyro.NameServer "+n.uri+" ") {
				t.Errorf("%s lists first %q, want its own entry", n.uri, rows)
			}
		}
	})

	step("a change on A reaches B's event stream", func(t *testing.T) {
		next := clusterEvents(t, b.base)
		if ev, _ := next(); ev != "ready" {
			t.Fatalf("first event %q, want ready", ev)
		}
		if r := reg(t, a.uri, "svc.events", "PYRO:ev@10.0.0.9:5000", "x"); r.Err != "" {
			t.Fatal(r)
		}
		if ev, data := next(); ev != "register" || !strings.Contains(data, `"name":"svc.events"`) || !strings.Contains(data, `"metadata":["x"]`) {
			t.Fatalf("B's event %s %s, want the register made on A", ev, data)
		}
		if r := app.must(t, map[string]any{"op": "remove", "ns": a.uri, "name": "svc.events"}); string(r.OK) != "1" {
			t.Fatalf("remove on A: %v", r)
		}
		if ev, data := next(); ev != "remove" || !strings.Contains(data, `"name":"svc.events"`) {
			t.Fatalf("B's event %s %s, want the remove made on A", ev, data)
		}
	})

	step("20 concurrent safe registers over two nodes: one winner", func(t *testing.T) {
		r := app.must(t, map[string]any{"op": "race", "ns": []string{a.uri, b.uri}, "name": "svc.race", "n": 20})
		var wins int
		json.Unmarshal(r.OK, &wins)
		if wins != 1 || len(r.Errors) != 19 {
			t.Fatalf("%d winners, %d failures %q; want 1 and 19", wins, len(r.Errors), r.Errors)
		}
		for _, e := range r.Errors {
			if e != "name already registered: svc.race" {
				t.Errorf("a loser got %q", e)
			}
		}
		var got []any
		json.Unmarshal(app.must(t, map[string]any{"op": "lookup", "ns": b.uri, "name": "svc.race"}).OK, &got)
		wantRow := ""
		if len(got) == 2 {
			wantRow = fmt.Sprintf("svc.race %s []", got[0])
		}
		want = append(want, wantRow)
		app.waitList(t, a.uri, want)
	})

	step("set_metadata of an unknown name, remove on B gone on A", func(t *testing.T) {
		r := app.call(t, map[string]any{"op": "setmeta", "ns": b.uri, "name": "svc.none", "meta": []string{"x"}})
		if r.Err != "NamingError" || r.Msg != "unknown name: svc.none" {
			t.Errorf("set_metadata unknown: %v", r)
		}
		if r := app.must(t, map[string]any{"op": "remove", "ns": b.uri, "name": "svc.race"}); string(r.OK) != "1" {
			t.Errorf("remove on B: %v", r)
		}
		want = want[:len(want)-1]
		app.waitList(t, a.uri, want)
		for _, n := range []string{"tmp.1", "tmp.2", "tmpx"} {
			if r := reg(t, b.uri, n, "PYRO:t@127.0.0.1:1"); r.Err != "" {
				t.Fatal(r)
			}
		}
		if r := app.must(t, map[string]any{"op": "remove", "ns": a.uri, "prefix": "tmp."}); string(r.OK) != "2" {
			t.Errorf("remove(prefix='tmp.') on A: %v, want 2", r)
		}
		if r := app.must(t, map[string]any{"op": "remove", "ns": b.uri, "regex": "tmp.*"}); string(r.OK) != "1" {
			t.Errorf("remove(regex='tmp.*') on B: %v, want 1", r)
		}
		app.waitList(t, cURI, want)
	})

	// f1 is a follower: a write forwarded to a leader that dies is lost
	// with it, and waits out etcd's own request timeout, which is longer
	// than a node's; killing a follower shows writes going on without
	// that race. f2 and r are the others, killed later.
	f1, f2, r := etcdFollower(t, ec), 0, 0
	f2, r = (f1+1)%3, (f1+2)%3
	step("one etcd member killed: writes go on", func(t *testing.T) {
		ec.Kill(f1)
		r := reg(t, a.uri, "svc.after-kill", "PYRO:k@10.0.0.9:1", "m:1")
		if r.Err != "" {
			t.Fatalf("register with 2 of 3 members: %v", r)
		}
		want = append(want, "svc.after-kill PYRO:k@10.0.0.9:1 [m:1]")
		app.waitList(t, b.uri, want)
	})

	step("a name server killed: the others serve everything", func(t *testing.T) {
		c.signal(t, syscall.SIGKILL)
		app.waitList(t, a.uri, want)
		app.waitList(t, b.uri, want)
		if r := reg(t, b.uri, "svc.after-ns-kill", "PYRO:n@10.0.0.8:1"); r.Err != "" {
			t.Fatal(r)
		}
		want = append(want, "svc.after-ns-kill PYRO:n@10.0.0.8:1 []")
		app.waitList(t, a.uri, want)
	})

	var d *opsRun
	var e *nsRun
	parent := t // D and E outlive the steps that start them
	step("quorum lost: lookups answer, writes fail with NamingError", func(t *testing.T) {
		ec.Kill(f2)
		// A node started now waits for etcd, and says so.
		e = startNsInProcess(parent, "-n", "127.0.0.1", "-p", "0", "-x", "-s", spec, "--config", cfg)
		e.waitErr(t, "etcd not reachable; retrying")
		for _, ns := range []string{a.uri, b.uri} {
			r := app.must(t, map[string]any{"op": "lookup", "ns": ns, "name": "svc.after-kill"})
			if r.took() > time.Second {
				t.Errorf("lookup on %s took %v without quorum", ns, r.took())
			}
			if got := clientNames(app.list(t, ns)); !slices.Equal(got, want) {
				t.Errorf("%s lists %q without quorum, want %q", ns, got, want)
			}
		}
		r := reg(t, a.uri, "svc.no-quorum", "PYRO:q@10.0.0.7:1")
		if r.Err != "NamingError" || !strings.HasPrefix(r.Msg, "name server storage unavailable: ") || r.took() > 10*time.Second {
			t.Errorf("register without quorum: %v, want NamingError('name server storage unavailable: ...') within 10 s", r)
		}
		r = app.call(t, map[string]any{"op": "remove", "ns": b.uri, "name": "svc.mid"})
		if r.Err != "NamingError" || !strings.HasPrefix(r.Msg, "name server storage unavailable: ") || r.took() > 10*time.Second {
			t.Errorf("remove without quorum: %v", r)
		}
		// The loss is logged with the index's age, at the default level.
		a.waitErr(t, "etcd unavailable; lookups are served from the local index")
		if !strings.Contains(a.err.String(), "index_age=") {
			t.Errorf("the warning gives no index age:\n%s", a.err.String())
		}
		nsPoll(t, "/readyz 503 without quorum", func() bool {
			code, _ := a.get(t, "/readyz")
			return code == http.StatusServiceUnavailable
		})
		_, body := a.get(t, "/api/v1/status")
		var st struct {
			Cluster struct {
				Backend, State string
				Endpoints      []string
				IndexAge       float64 `json:"index_age_seconds"`
			}
		}
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			t.Fatalf("status %s: %v", body, err)
		}
		if st.Cluster.Backend != "etcd" || st.Cluster.State != "unavailable" || !slices.Equal(st.Cluster.Endpoints, eps) || st.Cluster.IndexAge <= 0 {
			t.Errorf("status without quorum: %s", body)
		}
	})

	step("members back: writes work, a new node sees everything", func(t *testing.T) {
		ec.Restart(f1)
		ec.Restart(f2)
		if err := ec.WaitHealthy(20 * time.Second); err != nil {
			t.Fatal(err)
		}
		// A write that timed out without quorum may still have been
		// committed once the members came back (etcd had it in its log):
		// the name space is what etcd holds now.
		nsPoll(t, "a write through A", func() bool {
			return reg(t, a.uri, "svc.back", "PYRO:b@10.0.0.6:1").Err == ""
		})
		nsPoll(t, "/readyz 200 again", func() bool {
			code, _ := a.get(t, "/readyz")
			return code == http.StatusOK
		})
		a.waitErr(t, "etcd available again; the local index is current")
		now := clientNames(app.list(t, a.uri))
		if !slices.Contains(now, "svc.back PYRO:b@10.0.0.6:1 []") {
			t.Fatalf("A lists %q after the write", now)
		}
		want = now
		app.waitList(t, b.uri, want)
		// The node that waited for etcd serves now, the same name space.
		e.waitOut(t, "URI = ")
		if !strings.Contains(e.out.String(), "NS running") || !strings.Contains(e.out.String(), "Persistent store contains") {
			t.Errorf("waiting node's startup lines:\n%s", e.out.String())
		}
		app.waitList(t, nsURIFrom(e.out.String()), want)
		// The new node talks to the third member only, for the next step.
		d = startOpsNs(parent, "-s", "etcd:"+eps[r], "--config", cfg)
		if got := clientNames(app.list(t, d.uri)); !slices.Equal(got, want) {
			t.Errorf("new node lists %q, want %q", got, want)
		}
	})

	step("a watch behind a compaction resyncs", func(t *testing.T) {
		ec.Kill(r) // D's only member; A and B go on with the other two
		// The two left may be electing a leader (m2 may have led): the
		// first write can time out, and is repeated (it is idempotent).
		nsPoll(t, "a write with m2 down", func() bool {
			return reg(t, a.uri, "svc.while-d-away", "PYRO:w@10.0.0.5:1", "v:1").Err == ""
		})
		if r := app.must(t, map[string]any{"op": "remove", "ns": b.uri, "name": "svc.zeta"}); string(r.OK) != "1" {
			t.Fatalf("remove: %v", r)
		}
		want = slices.DeleteFunc(append(want, "svc.while-d-away PYRO:w@10.0.0.5:1 [v:1]"), func(s string) bool {
			return strings.HasPrefix(s, "svc.zeta ")
		})
		ec.Compact(t)
		ec.Restart(r)
		if err := ec.WaitHealthy(20 * time.Second); err != nil {
			t.Fatal(err)
		}
		app.waitList(t, d.uri, want)
		nsPoll(t, "a resync in D's status", func() bool {
			_, body := d.get(t, "/api/v1/status")
			return strings.Contains(body, `"state":"healthy"`) && !strings.Contains(body, " 0 resyncs")
		})
	})

	for _, n := range []*nsRun{a.nsRun, b.nsRun, d.nsRun, e} {
		if code := n.stop(t); code != 0 {
			t.Errorf("node exited %d: %s", code, n.err.String())
		}
	}
}

// etcdFollower returns the index of a member that is not the leader.
func etcdFollower(t *testing.T, ec *etcdtest.Cluster) int {
	t.Helper()
	cli := ec.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i, ep := range ec.Endpoints() {
		st, err := cli.Status(ctx, ep)
		if err != nil {
			t.Fatalf("etcd status of %s: %v", ep, err)
		}
		if st.Leader != st.Header.MemberId {
			return i
		}
	}
	t.Fatal("no etcd member is a follower")
	return 0
}

// clusterEvents opens a node's event stream and returns what reads its next
// event (name and data), failing the test after nsWait without one.
func clusterEvents(t *testing.T, base string) func() (string, string) {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/events")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	type event struct{ name, data string }
	events := make(chan event, 16)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		var name string
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "event: "); ok {
				name = v
			} else if v, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				events <- event{name, v}
			}
		}
	}()
	return func() (string, string) {
		t.Helper()
		select {
		case e, ok := <-events:
			if !ok {
				t.Fatal("event stream ended")
			}
			return e.name, e.data
		case <-time.After(nsWait):
			t.Fatal("no event")
		}
		return "", ""
	}
}
