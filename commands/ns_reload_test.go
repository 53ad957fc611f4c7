package commands

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
)

// TestNsReload runs a name server with a config file and changes the file
// in every way an operator or an editor does, checking each time, through
// the Python client, that the static registrations follow the file and a
// client's registration is never touched.
func TestNsReload(t *testing.T) {
	pypeer.Require(t)
	nsCleanEnv(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "nsctl.toml")
	port := pypeer.FreePort(t)
	head := fmt.Sprintf("host = \"127.0.0.1\"\nport = %d\n", port)
	writeNsFile(t, cfg, head+nsStaticReg("svc.a", "PYRO:a@h:1", "class:A")+nsStaticReg("svc.b", "PYRO:b@h:1"))
	r := startNsInProcess(t, "--config", cfg)
	r.waitOut(t, "URI =")
	uri := nsURI(port)
	if got := nsPyClient(t, uri, "", "register", "client.x", "PYRO:x@h:9", "mine"); got != "ok" {
		t.Fatalf("client register: %s", got)
	}
	m := nsWaitNames(t, uri, "client.x=PYRO:x@h:9 svc.a=PYRO:a@h:1 svc.b=PYRO:b@h:1")
	if !slices.Equal(m["svc.a"].Metadata, []string{"class:A"}) || !slices.Equal(m["client.x"].Metadata, []string{"mine"}) {
		t.Fatalf("metadata: %+v", m)
	}
	// logged counts how many stderr lines contain substr.
	logged := func(substr string) int { return strings.Count(r.err.String(), substr) }

	t.Run("static names are protected", func(t *testing.T) {
		got := nsPyClient(t, uri, "", "remove", "svc.a")
		if got != "NamingError: name is statically configured: svc.a (edit the config file)" {
			t.Fatalf("remove of a static name: %s", got)
		}
	})
	t.Run("edit in place", func(t *testing.T) {
		writeNsFile(t, cfg, head+nsStaticReg("svc.a", "PYRO:a@h:2", "class:A")+nsStaticReg("svc.c", "PYRO:c@h:1"))
		nsWaitNames(t, uri, "client.x=PYRO:x@h:9 svc.a=PYRO:a@h:2 svc.c=PYRO:c@h:1")
		r.waitErr(t, "added=1 changed=1 removed=1 added_names=svc.c changed_names=svc.a removed_names=svc.b")
	})
	t.Run("rename over", func(t *testing.T) {
		tmp := filepath.Join(dir, ".nsctl.toml.tmp")
		writeNsFile(t, tmp, head+nsStaticReg("svc.d", "PYRO:d@h:1"))
		if err := os.Rename(tmp, cfg); err != nil {
			t.Fatal(err)
		}
		nsWaitNames(t, uri, "client.x=PYRO:x@h:9 svc.d=PYRO:d@h:1")
		r.waitErr(t, "added=1 changed=0 removed=2 added_names=svc.d removed_names=svc.a,svc.c")
	})
	t.Run("broken then fixed", func(t *testing.T) {
		for _, tc := range []struct{ text, want string }{
			{head + nsStaticReg("svc.e", "PYRO:e@h:port"), cfg + `:5: registration \"svc.e\": invalid uri`},
			{head + "[[registration]\n", cfg + ":3: "},
			{head + "colour = \"blue\"\n", cfg + `:3: unknown key \"colour\"`},
		} {
			writeNsFile(t, cfg, tc.text)
			r.waitErr(t, tc.want)
			if n := logged(tc.want); n != 1 {
				t.Fatalf("%d lines for one broken file:\n%s", n, r.err.String())
			}
			if got := nsNames(nsPyList(t, uri, "")); got != "client.x=PYRO:x@h:9 svc.d=PYRO:d@h:1" {
				t.Fatalf("a broken file changed the registrations: %s", got)
			}
		}
		writeNsFile(t, cfg, head+nsStaticReg("svc.e", "PYRO:e@h:1"))
		nsWaitNames(t, uri, "client.x=PYRO:x@h:9 svc.e=PYRO:e@h:1")
	})
	t.Run("delete and re-create", func(t *testing.T) {
		if err := os.Remove(cfg); err != nil {
			t.Fatal(err)
		}
		r.waitErr(t, `msg="config file is missing; keeping the running configuration until it is back" config=`+cfg)
		if got := nsNames(nsPyList(t, uri, "")); got != "client.x=PYRO:x@h:9 svc.e=PYRO:e@h:1" {
			t.Fatalf("removing the file changed the registrations: %s", got)
		}
		writeNsFile(t, cfg, head+nsStaticReg("svc.f", "PYRO:f@h:1", "x", "y"))
		m := nsWaitNames(t, uri, "client.x=PYRO:x@h:9 svc.f=PYRO:f@h:1")
		if !slices.Equal(m["svc.f"].Metadata, []string{"x", "y"}) {
			t.Fatalf("metadata of svc.f: %v", m["svc.f"].Metadata)
		}
	})
	t.Run("nat", func(t *testing.T) {
		writeNsFile(t, cfg, head+"[nat]\nhost = \"ext.example\"\nport = 5555\n"+nsStaticReg("svc.f", "PYRO:f@h:1", "x", "y"))
		r.waitErr(t, "added=0 changed=0 removed=0 nat=ext.example:5555")
		nsPoll(t, "the name server's own entry to show the NAT location", func() bool {
			return nsPyList(t, uri, "")["Pyro.NameServer"].URI == "PYRO:Pyro.NameServer@ext.example:5555"
		})
		writeNsFile(t, cfg, head+nsStaticReg("svc.f", "PYRO:f@h:1", "x", "y"))
		r.waitErr(t, "added=0 changed=0 removed=0 nat=off")
		nsPoll(t, "the NAT location to go", func() bool { return nsPyList(t, uri, "")["Pyro.NameServer"].URI == uri })
	})
	t.Run("needs a restart", func(t *testing.T) {
		other := pypeer.FreePort(t)
		writeNsFile(t, cfg, fmt.Sprintf("host = \"127.0.0.1\"\nport = %d\nstorage = \"bolt:ns.db\"\n", other)+nsStaticReg("svc.f", "PYRO:f@h:1", "x", "y"))
		r.waitErr(t, fmt.Sprintf(`needs a restart" config=%s key=port old=%d new=%d`, cfg, port, other))
		r.waitErr(t, fmt.Sprintf(`needs a restart" config=%s key=storage old=memory new=bolt:%s`, cfg, filepath.Join(dir, "ns.db")))
		if got := nsNames(nsPyList(t, uri, "")); got != "client.x=PYRO:x@h:9 svc.f=PYRO:f@h:1" {
			t.Fatalf("registrations: %s", got)
		}
	})
	if code := r.stop(t); code != 0 {
		t.Fatalf("exit status %d\n%s", code, r.err.String())
	}
}

// testNsSignals runs the binary: SIGTERM and SIGINT stop it cleanly, with
// "NS shut down." and status 0 (Pyro4 prints that on SIGINT only; SIGTERM
// kills it), and SIGHUP re-reads the config file without stopping.
func testNsSignals(t *testing.T, bin string) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			p := startNsProc(t, pypeer.Env(), bin, "ns", "-n", "127.0.0.1", "-p", "0")
			p.waitOut(t, "URI =")
			if code := p.signal(t, sig); code != 0 || !strings.HasSuffix(p.out.String(), "URI = "+nsURIFrom(p.out.String())+"\nNS shut down.\n") {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, p.out.String(), p.err.String())
			}
			if p.err.String() != "" {
				t.Fatalf("stderr:\n%s", p.err.String())
			}
		})
	}
	// Through a link named pyro4-ns: pinged with the Python client, then
	// stopped with SIGTERM to its PID, after which the port is closed.
	t.Run("as pyro4-ns", func(t *testing.T) {
		pypeer.Require(t)
		link := filepath.Join(t.TempDir(), "pyro4-ns")
		if err := os.Symlink(bin, link); err != nil {
			t.Fatal(err)
		}
		port := pypeer.FreePort(t)
		p := startNsProc(t, pypeer.Env(), link, "-n", "127.0.0.1", "-p", strconv.Itoa(port), "-x")
		p.waitOut(t, "URI = "+nsURI(port))
		ping := "import sys, Pyro4\nwith Pyro4.Proxy(sys.argv[1]) as ns:\n    ns.ping()\n    print('pong', ns.count(), ns.lookup('Pyro.NameServer'))\n"
		out, err := pypeer.Run(t, nsWait, pypeer.Env(), ping, nsURI(port))
		if err != nil || out != "pong 1 "+nsURI(port)+"\n" {
			t.Fatalf("ping through the pyro4-ns link: %v\n%s", err, out)
		}
		if code := p.signal(t, syscall.SIGTERM); code != 0 || !strings.HasSuffix(p.out.String(), "\nNS shut down.\n") || p.err.String() != "" {
			t.Fatalf("after SIGTERM: exit %d\nstdout:\n%s\nstderr:\n%s", code, p.out.String(), p.err.String())
		}
		if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second); err == nil {
			c.Close()
			t.Fatal("the port still accepts connections after SIGTERM")
		}
	})
	t.Run("SIGHUP", func(t *testing.T) {
		pypeer.Require(t)
		// The server watches the directory of the file it is given; the
		// edits go through a hard link in another directory, of which
		// inotify tells that directory's watchers nothing, so only SIGHUP
		// can apply them.
		dir := t.TempDir()
		cfg, edit := filepath.Join(dir, "watched", "ns.toml"), filepath.Join(dir, "elsewhere", "ns.toml")
		for _, d := range []string{filepath.Dir(cfg), filepath.Dir(edit)} {
			if err := os.Mkdir(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		port := pypeer.FreePort(t)
		head := fmt.Sprintf("host = \"127.0.0.1\"\nport = %d\n", port)
		writeNsFile(t, edit, head+nsStaticReg("svc.a", "PYRO:a@h:1"))
		if err := os.Link(edit, cfg); err != nil {
			t.Fatal(err)
		}
		p := startNsProc(t, pypeer.Env(), bin, "ns", "--config", cfg)
		p.waitOut(t, "URI =")
		for _, step := range []struct{ text, log, names string }{
			{head + nsStaticReg("svc.a", "PYRO:a@h:1"), `msg="config reloaded, no changes" config=CFG`, "svc.a=PYRO:a@h:1"},
			{head + nsStaticReg("svc.b", "PYRO:b@h:2", "m"), `msg="config reloaded" config=CFG added=1 changed=0 removed=1 added_names=svc.b removed_names=svc.a`, "svc.b=PYRO:b@h:2"},
			{head + nsStaticReg("svc.b", "PYRO:b@h:3", "m"), `msg="config reloaded" config=CFG added=0 changed=1 removed=0 changed_names=svc.b`, "svc.b=PYRO:b@h:3"},
		} {
			writeNsFile(t, edit, step.text)
			if err := syscall.Kill(p.cmd.Process.Pid, syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			line := strings.ReplaceAll(step.log, "CFG", cfg)
			nsPoll(t, "the reload after SIGHUP: "+step.log, func() bool { return strings.Contains(p.err.String(), line) })
			// The line is logged once the registry has changed.
			m := nsPyList(t, nsURI(port), "")
			if got := nsNames(m); got != step.names {
				t.Fatalf("after SIGHUP (%s): %s, want %s", step.log, got, step.names)
			}
			if e, ok := m["svc.b"]; ok && !slices.Equal(e.Metadata, []string{"m"}) {
				t.Fatalf("svc.b's metadata: %v", e.Metadata)
			}
		}
		if n := strings.Count(p.err.String(), "reloaded"); n != 3 {
			t.Fatalf("%d reloads for 3 SIGHUPs:\n%s", n, p.err.String())
		}
		// SIGHUP after the file was deleted says so each time, and the
		// server keeps what it runs.
		missing := `msg="config file is missing; keeping the running configuration until it is back" config=` + cfg
		if err := os.Remove(cfg); err != nil {
			t.Fatal(err)
		}
		// The directory's watcher sees the removal and logs it first.
		nsPoll(t, "the missing-file line from the watcher", func() bool { return strings.Contains(p.err.String(), missing) })
		before := strings.Count(p.err.String(), missing)
		if err := syscall.Kill(p.cmd.Process.Pid, syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		nsPoll(t, "the missing-file line after SIGHUP", func() bool { return strings.Count(p.err.String(), missing) > before })
		if got := nsNames(nsPyList(t, nsURI(port), "")); got != "svc.b=PYRO:b@h:3" {
			t.Fatalf("after SIGHUP with the file gone: %s", got)
		}
		if code := p.signal(t, syscall.SIGTERM); code != 0 {
			t.Fatalf("exit %d after SIGHUP and SIGTERM\n%s", code, p.err.String())
		}
	})
}
