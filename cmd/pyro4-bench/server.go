package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	_ "net/http/pprof" // served by serve -pprof only
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pyro4/pyro4/nameserver"
	"github.com/pyro4/pyro4/persist"
	"github.com/pyro4/pyro4/wire"
)

func persistSpec(spec string) (persist.Storage, error) {
	s, err := persist.ParseStorage(spec)
	if err != nil {
		return s, fmt.Errorf("-s %q: %w", spec, err)
	}
	return s, nil
}

// target is the server a run drives.
type target struct {
	addr string
	pid  int // the server's process, 0 when unknown
	stop func() error
	// commits reads a bolt store's write grouping, when the store is in
	// this process (-inproc -s bolt:FILE); nil otherwise.
	commits func() persist.CommitStats
}

// startTarget connects cfg to its server: the given address, a child
// process, or a server inside this process.
func startTarget(cfg *loadConfig) (*target, error) {
	switch {
	case cfg.Addr != "":
		return &target{addr: cfg.Addr, pid: cfg.ServerPID, stop: func() error { return nil }}, nil
	case cfg.Spawn:
		args := []string{"-s", cfg.Store}
		if isEcho(cfg.Mode) {
			args = append(args, "-echo")
		}
		if cfg.ServerProf != "" {
			args = append(args, "-cpuprofile", cfg.ServerProf)
		}
		spawn := func() (*child, error) { return spawnServer(args, 2*time.Minute) }
		if cfg.Pyro4 != "" && !isEcho(cfg.Mode) {
			spawn = func() (*child, error) { return spawnPyro4(cfg.Pyro4, cfg.Store, 2*time.Minute) }
		}
		ch, err := spawn()
		if err != nil {
			return nil, err
		}
		return &target{addr: ch.addr, pid: ch.cmd.Process.Pid, stop: ch.stop}, nil
	case isEcho(cfg.Mode):
		e, err := startEcho("127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		return &target{addr: e.addr(), pid: os.Getpid(), stop: e.close}, nil
	}
	srv, err := startInProcess("127.0.0.1:0", cfg.Store)
	if err != nil {
		return nil, err
	}
	t := &target{addr: srv.addr, pid: os.Getpid(), stop: srv.close}
	if b, ok := srv.store.(*persist.Bolt); ok {
		t.commits = b.CommitStats
	}
	return t, nil
}

// inProcess is our name server running in this process.
type inProcess struct {
	addr  string
	srv   *nameserver.Server
	store persist.Store
	done  chan error
}

func startInProcess(listen, spec string) (*inProcess, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: %w", listen, err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: bad port", listen)
	}
	store, err := persist.Open(spec)
	if err != nil {
		return nil, fmt.Errorf("storage %s: %w", spec, err)
	}
	srv, err := nameserver.New(nameserver.Options{Host: host, Port: p, NoBroadcast: true, Store: store})
	if err != nil {
		store.Close()
		return nil, err
	}
	u := srv.InternalURI()
	ip := &inProcess{addr: net.JoinHostPort(u.Host, strconv.Itoa(u.Port)), srv: srv, store: store, done: make(chan error, 1)}
	go func() { ip.done <- srv.Serve(context.Background()) }()
	return ip, nil
}

func (ip *inProcess) close() error {
	err := ip.srv.Close()
	<-ip.done
	return errors.Join(err, ip.store.Close())
}

// child is a server started as a child process of this tool.
type child struct {
	cmd  *exec.Cmd
	addr string
	exit chan error
}

// spawnServer runs "pyro4-bench serve ARGS" from this executable and waits for
// it to report its address.
func spawnServer(args []string, wait time.Duration) (*child, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("spawn server: %w", err)
	}
	cmd := exec.Command(exe, append([]string{"serve", "-listen", "127.0.0.1:0"}, args...)...)
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = childAttr()
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("spawn server: %w", err)
	}
	ch := &child{cmd: cmd, exit: make(chan error, 1)}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				lines <- a
				break
			}
		}
		io.Copy(io.Discard, out)
		ch.exit <- cmd.Wait()
	}()
	select {
	case ch.addr = <-lines:
		return ch, nil
	case err := <-ch.exit:
		return nil, fmt.Errorf("spawned server exited before listening: %v", err)
	case <-time.After(wait):
		ch.stop()
		return nil, fmt.Errorf("spawned server did not listen within %v", wait)
	}
}

// spawnPyro4 runs "PYRO4 ns" (the pyro4 binary) on a free loopback port,
// with pyro4-ns's flags, and waits until it completes a handshake.
func spawnPyro4(path, store string, wait time.Duration) (*child, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	var logs bytes.Buffer
	cmd := exec.Command(path, "ns", "-n", "127.0.0.1", "-p", strconv.Itoa(port), "-x", "-s", store)
	cmd.Stdout, cmd.Stderr = io.Discard, &limitedBuffer{buf: &logs, max: 4096}
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("spawn %s ns: %w", path, err)
	}
	ch := &child{cmd: cmd, addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), exit: make(chan error, 1)}
	go func() { ch.exit <- cmd.Wait() }()
	codec, _ := wire.CodecByName("serpent")
	d := newDialer(ch.addr, nil, time.Second)
	end := time.Now().Add(wait)
	for {
		s, err := openSession(d, 0, codec, time.Second)
		if err == nil {
			s.close()
			return ch, nil
		}
		select {
		case xerr := <-ch.exit:
			return nil, fmt.Errorf("%s ns exited before answering (%v): %s", path, xerr, bytes.TrimSpace(logs.Bytes()))
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(end) {
			ch.stop()
			return nil, fmt.Errorf("%s ns did not answer within %v: %w", path, wait, err)
		}
	}
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	buf *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		l.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

// stop ends the child by its pid: SIGTERM, then SIGKILL if it lingers.
func (ch *child) stop() error {
	ch.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-ch.exit:
		return exitOK(err)
	case <-time.After(15 * time.Second):
		ch.cmd.Process.Kill()
		<-ch.exit
		return errors.New("spawned server ignored SIGTERM; killed")
	}
}

func exitOK(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.Sys() != nil {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM {
			return nil
		}
	}
	return err
}

// serveMain is "pyro4-bench serve": our name server (or the echo floor) in its
// own process, for the comparison runs and for profiling. It prints
// "listening HOST:PORT" once it accepts connections and runs until SIGTERM
// or SIGINT.
func serveMain(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "`host:port` to listen on (loopback unless -allow-remote)")
	spec := fs.String("s", "memory", "storage: memory or bolt:FILE")
	echo := fs.Bool("echo", false, "run the echo floor instead of the name server")
	cpuprof := fs.String("cpuprofile", "", "write a CPU profile to `file` at exit")
	memprof := fs.String("memprofile", "", "write a heap profile to `file` at exit")
	pprofAddr := fs.String("pprof", "", "serve net/http/pprof on `host:port`")
	allowRemote := fs.Bool("allow-remote", false, "allow listening on a non-loopback address")
	// pyro4-ns's flags, so that scripts start this the way they start it.
	host := fs.String("n", "", "host to listen on, as pyro4-ns -n (with -p, instead of -listen)")
	port := fs.String("p", "", "port to listen on, as pyro4-ns -p")
	fs.Bool("x", true, "accepted for pyro4-ns compatibility: there is never a broadcast responder")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *host != "" || *port != "" {
		*listen = net.JoinHostPort(cmpOr(*host, "127.0.0.1"), cmpOr(*port, "0"))
	}
	if err := checkListen(*listen, *allowRemote); err != nil {
		return fmt.Errorf("-listen: %w", err)
	}
	if _, err := persistSpec(*spec); err != nil {
		return err
	}
	raiseFDLimit()
	if *cpuprof != "" {
		f, err := os.Create(*cpuprof)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	if *pprofAddr != "" {
		if err := checkListen(*pprofAddr, *allowRemote); err != nil {
			return fmt.Errorf("-pprof: %w", err)
		}
		go http.ListenAndServe(*pprofAddr, nil)
	}
	var addr string
	var stop func() error
	if *echo {
		e, err := startEcho(*listen)
		if err != nil {
			return err
		}
		addr, stop = e.addr(), e.close
	} else {
		srv, err := startInProcess(*listen, *spec)
		if err != nil {
			return err
		}
		addr, stop = srv.addr, srv.close
	}
	fmt.Printf("listening %s\n", addr)
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()
	<-ctx.Done()
	err := stop()
	if *memprof != "" {
		err = errors.Join(err, writeHeapProfile(*memprof))
	}
	return err
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.Lookup("heap").WriteTo(f, 0)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
