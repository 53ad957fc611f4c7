package locator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
	"github.com/pyro4/pyro4/wire"
)

// searchOptions never leave loopback: broadcasts go to 127.0.0.1 only, and
// the NS_HOST fallback is a Unix socket path that does not exist unless the
// test makes it.
func searchOptions(t *testing.T) LocateOptions {
	return LocateOptions{
		Options:          Options{DialTimeout: 5 * time.Second},
		NSHost:           "./u:" + filepath.Join(t.TempDir(), "none.sock"),
		NSPort:           pypeer.FreePort(t),
		BcPort:           pypeer.FreeUDPPort(t),
		BroadcastAddrs:   []string{"127.0.0.1"},
		BroadcastTimeout: 100 * time.Millisecond,
	}
}

func locate(t *testing.T, o LocateOptions) (*NameServer, Step, []Attempt) {
	t.Helper()
	var tried []Attempt
	o.OnAttempt = func(a Attempt) { tried = append(tried, a) }
	ns, step, err := Locate(context.Background(), o)
	if err != nil {
		t.Fatalf("locate: %v", err)
	}
	t.Cleanup(func() { ns.Close() })
	if err := ns.Ping(); err != nil {
		t.Fatalf("ping located name server: %v", err)
	}
	return ns, step, tried
}

func TestLocateSteps(t *testing.T) {
	pypeer.Require(t)
	_, port := pypeer.StartPythonNS(t, pypeer.Env())
	_, port2 := pypeer.StartPythonNS(t, pypeer.Env(), "-n", "127.0.1.1")
	bcNSPort, bcPort := pypeer.StartBroadcastPythonNS(t)
	sock := filepath.Join(t.TempDir(), "ns.sock")
	p := pypeer.Start(t, pypeer.Env(), pypeer.NS(t), "-u", sock)
	p.WaitLine(t, "URI =", 20*time.Second)

	tests := []struct {
		name     string
		set      func(o *LocateOptions)
		step     Step
		uri      string
		attempts int
	}{
		{"host", func(o *LocateOptions) { o.Host, o.Port = "127.0.0.1", port }, StepHost,
			fmt.Sprintf("PYRO:Pyro.NameServer@127.0.0.1:%d", port), 1},
		{"host default port", func(o *LocateOptions) { o.Host, o.NSPort = "127.0.0.1", port }, StepHost,
			fmt.Sprintf("PYRO:Pyro.NameServer@127.0.0.1:%d", port), 1},
		{"unix socket host", func(o *LocateOptions) { o.Host = "./u:" + sock }, StepHost,
			"PYRO:Pyro.NameServer@./u:" + sock, 1},
		{"local NS_HOST", func(o *LocateOptions) { o.NSHost, o.NSPort = "127.0.0.1", port }, StepLocal,
			fmt.Sprintf("PYRO:Pyro.NameServer@127.0.0.1:%d", port), 1},
		{"localhost with port argument", func(o *LocateOptions) { o.NSHost, o.Port = "localhost", port }, StepLocal,
			fmt.Sprintf("PYRO:Pyro.NameServer@localhost:%d", port), 1},
		{"127.0.1.1", func(o *LocateOptions) { o.NSHost, o.NSPort = "localhost", port2 }, StepLocal,
			fmt.Sprintf("PYRO:Pyro.NameServer@127.0.1.1:%d", port2), 2},
		{"broadcast", func(o *LocateOptions) { o.BcPort = bcPort }, StepBroadcast,
			fmt.Sprintf("PYRO:Pyro.NameServer@127.0.0.1:%d", bcNSPort), 1},
		{"broadcast port argument", func(o *LocateOptions) { o.Port = bcPort }, StepBroadcast,
			fmt.Sprintf("PYRO:Pyro.NameServer@127.0.0.1:%d", bcNSPort), 1},
		{"NS_HOST after broadcast", func(o *LocateOptions) { o.NSHost = "./u:" + sock }, StepNSHost,
			"PYRO:Pyro.NameServer@./u:" + sock, 2},
		{"NS_HOST without broadcast", func(o *LocateOptions) { o.NSHost, o.NoBroadcast = "./u:"+sock, true }, StepNSHost,
			"PYRO:Pyro.NameServer@./u:" + sock, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := searchOptions(t)
			tt.set(&o)
			ns, step, tried := locate(t, o)
			if step != tt.step || ns.URI().String() != tt.uri {
				t.Fatalf("found %s by %s, want %s by %s", ns.URI(), step, tt.uri, tt.step)
			}
			if len(tried) != tt.attempts || tried[len(tried)-1].Err != nil || tried[len(tried)-1].Step != tt.step {
				t.Fatalf("attempts %v, want %d ending in success", tried, tt.attempts)
			}
		})
	}
}

func TestLocateFailure(t *testing.T) {
	o := searchOptions(t)
	o.NSHost = "127.0.0.1"
	rs := startResponder(t) // a responder that never answers
	o.BcPort = rs.port
	_, _, err := Locate(context.Background(), o)
	var le *LocateError
	if !errors.As(err, &le) {
		t.Fatalf("error %v is not a *LocateError", err)
	}
	var steps []string
	for _, a := range le.Attempts {
		if a.Err == nil {
			t.Fatalf("attempt %v has no error", a)
		}
		steps = append(steps, a.Step.String()+" "+a.Addr)
	}
	want := []string{
		fmt.Sprintf("local 127.0.0.1:%d", o.NSPort),
		fmt.Sprintf("local 127.0.1.1:%d", o.NSPort),
		fmt.Sprintf("broadcast 127.0.0.1:%d", o.BcPort),
		fmt.Sprintf("ns-host 127.0.0.1:%d", o.NSPort),
	}
	if strings.Join(steps, "|") != strings.Join(want, "|") {
		t.Fatalf("attempts\n%s\nwant\n%s", strings.Join(steps, "\n"), strings.Join(want, "\n"))
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "failed to locate the name server (") || !strings.Contains(msg, "connection refused") ||
		!strings.Contains(msg, "no answer to the broadcast") {
		t.Fatalf("message %q", msg)
	}
	if n := rs.waitRequests(t, broadcastTries); n != broadcastTries {
		t.Fatalf("%d GET_NSURI requests, want one per round: %d", n, broadcastTries)
	}

	_, _, err = Locate(context.Background(), LocateOptions{Host: "127.0.0.1", Port: o.NSPort})
	if !errors.As(err, &le) || len(le.Attempts) != 1 || le.Attempts[0].Step != StepHost {
		t.Fatalf("direct locate error %v", err)
	}
}

// responder stands in for a name server's broadcast responder on
// 127.0.0.1: it answers each GET_NSURI with its answers, in order (none:
// silence), and counts the requests.
type responder struct {
	port     int
	mu       sync.Mutex
	requests int
}

func startResponder(t *testing.T, answers ...string) *responder {
	t.Helper()
	pc, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	r := &responder{port: pc.LocalAddr().(*net.UDPAddr).Port}
	go func() {
		buf := make([]byte, 100)
		for {
			n, from, err := pc.ReadFromUDP(buf)
			if err != nil {
				return
			}
			if string(buf[:n]) != "GET_NSURI" {
				continue
			}
			r.mu.Lock()
			r.requests++
			r.mu.Unlock()
			for _, a := range answers {
				pc.WriteToUDP([]byte(a), from)
			}
		}
	}()
	return r
}

// waitRequests returns the number of requests once it reaches want, or
// what it is after a bounded wait: datagrams sent before Locate returned
// may still be on their way.
func (r *responder) waitRequests(t *testing.T, want int) int {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r.mu.Lock()
		n := r.requests
		r.mu.Unlock()
		if n >= want || time.Now().After(deadline) {
			return n
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestBroadcastIgnoresNoise answers the broadcast with datagrams that are
// not a name server URI before the real one.
func TestBroadcastIgnoresNoise(t *testing.T) {
	codec := serpent(t)
	fd := &fakeDaemon{connect: func(m *wire.Message) *wire.Message {
		return connectOK(t, codec, m.Seq, []string{"ping"}, nil)
	}, reply: func(m *wire.Message, c wire.Call) *wire.Message { return result(t, codec, m, nil, 0) }}
	uri := startFake(t, fd)
	o := searchOptions(t)
	o.BcPort = startResponder(t, "hello", "PYRONAME:x", NameServerURI("127.0.0.1", uri.Port, "").String()).port
	ns, step, _ := locate(t, o)
	if step != StepBroadcast || ns.URI().Port != uri.Port {
		t.Fatalf("found %s by %s", ns.URI(), step)
	}
}

// TestLocateBroadcastAnswerUnreachable: a responder names a name server
// that does not answer. Pyro4 returns a proxy for it and fails at the first
// call; Locate goes on to NS_HOST, as when no responder answered.
func TestLocateBroadcastAnswerUnreachable(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "ns.sock")
	p := pypeer.Start(t, pypeer.Env(), pypeer.NS(t), "-u", sock)
	p.WaitLine(t, "URI =", 20*time.Second)
	dead := NameServerURI("127.0.0.1", pypeer.FreePort(t), "")
	o := searchOptions(t)
	o.NSHost = "./u:" + sock
	o.BcPort = startResponder(t, dead.String()).port
	ns, step, tried := locate(t, o)
	if step != StepNSHost || ns.URI().Sockname != sock {
		t.Fatalf("found %s by %s, want the NS_HOST socket", ns.URI(), step)
	}
	if len(tried) != 2 || tried[0].Step != StepBroadcast || tried[0].Addr != dead.Location() ||
		!strings.Contains(tried[0].String(), "connection refused") {
		t.Fatalf("attempts %v, want the broadcast answer %s refused first", tried, dead.Location())
	}
}

func TestLocateCancelled(t *testing.T) {
	o := searchOptions(t)
	o.BroadcastTimeout = time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := Locate(ctx, o)
	if err == nil {
		t.Fatal("located a name server that does not exist")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("cancelled locate took %v", d)
	}
}

func TestResolveAgainstPython(t *testing.T) {
	ns, port := pyNS(t, Options{})
	mustNil(t, "register", ns.Register("thing", "PYRO:thing@host.example:4000", true, []string{"red", "round"}))
	mustNil(t, "register", ns.Register("other", "PYRO:other@host.example:4001", true, []string{"red"}))
	at := fmt.Sprintf("@127.0.0.1:%d", port)
	o := searchOptions(t)
	tests := []struct {
		in, want string
		class    string
		text     string
	}{
		{in: "PYRONAME:thing" + at, want: "PYRO:thing@host.example:4000"},
		{in: "pyroname:thing" + at, want: "PYRO:thing@host.example:4000"},
		{in: "PYROMETA:round,red" + at, want: "PYRO:thing@host.example:4000"},
		{in: "PYRO:direct@h:1", want: "PYRO:direct@h:1"},
		{in: "PYRONAME:nope" + at, class: wire.ClassNamingError, text: "unknown name: nope"},
		{in: "PYROMETA:blue,green" + at, class: wire.ClassNamingError,
			text: "no registrations available with desired metadata properties {'blue', 'green'}"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			u, err := wire.ParseURI(tt.in)
			mustNil(t, "parse", err)
			got, err := Resolve(context.Background(), u, o)
			if tt.class != "" {
				wantException(t, err, tt.class, tt.text)
				return
			}
			mustNil(t, "resolve", err)
			if got.String() != tt.want {
				t.Fatalf("resolved to %s, want %s", got, tt.want)
			}
		})
	}

	// without a location in the URI, the options say where to look
	o.Host, o.Port = "127.0.0.1", port
	got, err := Resolve(context.Background(), wire.URI{Protocol: "PYRONAME", Object: "other"}, o)
	if err != nil || got.String() != "PYRO:other@host.example:4001" {
		t.Fatalf("resolve with options: %v %v", got, err)
	}

	// PYROMETA picks at random among the candidates
	seen := map[string]bool{}
	meta := wire.URI{Protocol: "PYROMETA", Meta: []string{"red"}}
	for range 40 {
		got, err := ns.Resolve(meta)
		mustNil(t, "resolve meta", err)
		seen[got.Object] = true
	}
	if !seen["thing"] || !seen["other"] {
		t.Fatalf("PYROMETA candidates chosen: %v", seen)
	}

	o = searchOptions(t)
	_, err = Resolve(context.Background(), wire.URI{Protocol: "PYRONAME", Object: "x"}, o)
	var le *LocateError
	if !errors.As(err, &le) {
		t.Fatalf("resolve without a name server: %v", err)
	}
}

func TestResolveUnknownProtocol(t *testing.T) {
	_, err := Resolve(context.Background(), wire.URI{Protocol: "PYROX"}, LocateOptions{})
	wantException(t, err, wire.ClassPyroError, "invalid uri protocol")
}
