// Command pyro4-bench is the load tool of the name server: it drives any Pyro4
// name server (ours or Pyro4's pyro4-ns) on this machine with persistent or
// per-call connections, measures throughput and latency against an echo
// server that only moves bytes (the floor), runs the scale checks of our
// server, and writes the results as markdown.
//
//	go run ./cmd/pyro4-bench lookup -addr 127.0.0.1:9090 -c 64 -d 5s
//	go run ./cmd/pyro4-bench churn -spawn -c 8
//	go run ./cmd/pyro4-bench echo -c 64
//	go run ./cmd/pyro4-bench scale-conns -idle 10000 -c 64
//
// A load run is bounded by -d (plus the warm-up and the per-call timeout)
// and refuses targets that are not loopback addresses unless -allow-remote
// is given. Run "go run ./cmd/pyro4-bench help" for every mode.
package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"time"
)

const usage = `usage: pyro4-bench MODE [flags]

load modes (flags: pyro4-bench MODE -h):
%s
scale runs of our server (started as a child process unless -addr/-server-pid):
  scale-conns     idle connections held open plus active lookup clients
  scale-names     a million registrations: RSS, list(prefix), remove(prefix)
  scale-startup   start-up time from a bolt store of a million names

helpers:
  serve           run our name server (or -echo) as a process of its own
  report          write a section of docs/bench.md from JSON results
  freeport        print a free TCP port on 127.0.0.1
  wait            wait until a name server answers a handshake
  machine         describe this machine as a result line
  quiet           wait until the machine is nearly idle
`

func main() {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "pyro4-bench:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintf(os.Stderr, usage, modeList())
		if len(args) == 0 {
			return errors.New("no mode given")
		}
		return nil
	}
	mode, rest := args[0], args[1:]
	if _, ok := loadModes[mode]; ok {
		return withHelp(mode, rest, func() error { return loadMain(mode, rest) })
	}
	switch mode {
	case "serve":
		return serveMain(rest)
	case "scale-conns":
		return scaleConnsMain(rest)
	case "scale-names":
		return scaleNamesMain(rest)
	case "scale-startup":
		return scaleStartupMain(rest)
	case "report":
		return reportMain(rest)
	case "freeport":
		return freeportMain()
	case "wait":
		return waitMain(rest)
	case "machine":
		return machineMain(rest)
	case "quiet":
		return quietMain(rest)
	}
	return fmt.Errorf("unknown mode %q (try: pyro4-bench help)", mode)
}

func modeList() string {
	names := make([]string, 0, len(loadModes))
	for m := range loadModes {
		names = append(names, m)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, m := range names {
		fmt.Fprintf(&b, "  %-15s %s\n", m, loadModes[m])
	}
	return b.String()
}

// withHelp prints a load mode's flags for -h.
func withHelp(mode string, args []string, run func() error) error {
	for _, a := range args {
		if a == "-h" || a == "-help" || a == "--help" {
			fs := newLoadFlags(mode, &loadConfig{})
			fs.SetOutput(os.Stderr)
			fmt.Fprintf(os.Stderr, "usage: pyro4-bench %s [flags]  (%s)\n", mode, loadModes[mode])
			fs.PrintDefaults()
			return nil
		}
	}
	return run()
}

func freeportMain() error {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	return nil
}

// waitMain polls until a name server at -addr completes a handshake, for
// scripts that start one.
func waitMain(args []string) error {
	fs := flag.NewFlagSet("wait", flag.ContinueOnError)
	addr := fs.String("addr", "", "name server `host:port`")
	timeout := fs.Duration("timeout", 15*time.Second, "give up after this long")
	pid := fs.Int("pid", 0, "give up as soon as this server `process` has exited")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := checkTarget(*addr, false); err != nil {
		return err
	}
	cfg := &loadConfig{Serializer: "serpent", Addr: *addr, Timeout: time.Second, Mode: "wait", Store: "memory"}
	if err := cfg.validateTarget(); err != nil {
		return err
	}
	return waitReady(newDialer(*addr, nil, time.Second), cfg, *timeout, *pid)
}

func waitReady(d *dialer, cfg *loadConfig, timeout time.Duration, pid int) error {
	end := time.Now().Add(timeout)
	for {
		s, err := openSession(d, 0, cfg.codec, time.Second)
		if err == nil {
			s.close()
			return nil
		}
		if time.Now().After(end) {
			return fmt.Errorf("no name server at %s after %v: %w", d.addr, timeout, err)
		}
		if pid > 0 && processGone(pid) {
			return fmt.Errorf("the server process %d exited: %w", pid, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
