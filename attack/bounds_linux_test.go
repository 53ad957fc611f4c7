package attack

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
	"github.com/pyro4/pyro4/wire"
)

// configFile writes a config file with the given TOML and returns the
// flag that passes it.
func configFile(t *testing.T, toml string) []string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ns.toml")
	if err := os.WriteFile(path, []byte(toml), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"--config", path}
}

// fill registers n names (name(i)) with uri over one connection, the
// requests pipelined and the replies read alongside.
func fill(t *testing.T, addr string, n int, name func(int) string, uri string) {
	t.Helper()
	cl := connect(t, addr)
	done := make(chan error, 1)
	go func() {
		for i := range n {
			cl.c.SetReadDeadline(time.Now().Add(wait))
			m, err := wire.ReadMessage(cl.r, wire.Limits{})
			if err != nil {
				done <- fmt.Errorf("reply %d: %w", i, err)
				return
			}
			if m.Flags&wire.FlagException != 0 {
				done <- fmt.Errorf("register %d: %s", i, m.Data)
				return
			}
		}
		done <- nil
	}()
	var buf []byte
	for i := range n {
		body := fmt.Sprintf("%s('Pyro.NameServer','register',('%s','%s'),{})", serpentHeader, name(i), uri)
		b, err := (&wire.Message{Type: wire.MsgInvoke, Seq: uint16(i), SerializerID: wire.SerpentID, Data: []byte(body)}).Pack(nil)
		if err != nil {
			t.Fatal(err)
		}
		if buf = append(buf, b...); len(buf) > 64<<10 || i == n-1 {
			cl.c.SetWriteDeadline(time.Now().Add(wait))
			if _, err := cl.c.Write(buf); err != nil {
				t.Fatal(err)
			}
			buf = buf[:0]
		}
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func slowName(i int) string {
	return fmt.Sprintf("slow.scan.department.%s.entry.%06d", strings.Repeat("b", 64), i)
}

// TestSlowRegexStallsNoOne: list(regex='(.*a?){300}x') over 30,000 names
// would run for most of a minute (Go's regexp is linear, but this pattern
// costs about a millisecond a name); meanwhile another client's register
// and lookup answer at once, and the listing ends at scan_timeout with a
// NamingError naming the limit.
func TestSlowRegexStallsNoOne(t *testing.T) {
	s := startServer(t, configFile(t, "scan_timeout = 3\n")...)
	fill(t, s.addr, 30000, slowName, "PYRO:obj@127.0.0.1:9999")
	scanner, other := connect(t, s.addr), connect(t, s.addr)
	type result struct {
		data    string
		exc     bool
		elapsed time.Duration
	}
	done := make(chan result, 1)
	go func() {
		start := time.Now()
		body := fmt.Sprintf("%s('Pyro.NameServer','list',(None,'(.*a?){300}x'),{})", serpentHeader)
		scanner.send(t, &wire.Message{Type: wire.MsgInvoke, Seq: 1, SerializerID: wire.SerpentID, Data: []byte(body)})
		scanner.c.SetReadDeadline(time.Now().Add(wait))
		m, err := wire.ReadMessage(scanner.r, wire.Limits{})
		if err != nil {
			done <- result{data: err.Error(), elapsed: time.Since(start)}
			return
		}
		done <- result{string(m.Data), m.Flags&wire.FlagException != 0, time.Since(start)}
	}()
	time.Sleep(200 * time.Millisecond)
	var took []time.Duration
	for i := range 20 {
		start := time.Now()
		if data, exc := other.call(t, "register", fmt.Sprintf("'during.%d','PYRO:x@127.0.0.1:1'", i)); exc {
			t.Fatalf("register during the scan: %s", data)
		}
		if data, exc := other.call(t, "lookup", "'"+slowName(7)+"',"); exc {
			t.Fatalf("lookup during the scan: %s", data)
		}
		took = append(took, time.Since(start))
	}
	select {
	case r := <-done:
		t.Fatalf("the scan ended after %v, before the other client's calls: %s", r.elapsed, r.data)
	default:
	}
	slices.Sort(took)
	med, worst := took[len(took)/2], took[len(took)-1]
	t.Logf("register+lookup during the scan: median %v, worst %v", med, worst)
	if med > 100*time.Millisecond || worst > time.Second {
		t.Errorf("register+lookup during the scan: median %v, worst %v; want < 100 ms and < 1 s", med, worst)
	}
	var r result
	select {
	case r = <-done:
	case <-time.After(wait):
		t.Fatal("the scan did not end within 30 s")
	}
	t.Logf("the scan ended after %v", r.elapsed)
	if !r.exc || !strings.Contains(r.data, "NamingError") || !strings.Contains(r.data, "scan_timeout of 3s") {
		t.Errorf("scan result %q, want a NamingError naming scan_timeout of 3s", r.data)
	}
	if r.elapsed > 5*time.Second {
		t.Errorf("the scan ended after %v, its deadline is 3 s", r.elapsed)
	}
}

func largeName(i int) string { return fmt.Sprintf("large.listing.name.%06d", i) }

// TestReplyBudget: a list() larger than reply_budget is refused with a
// NamingError naming it, and the server goes on answering.
func TestReplyBudget(t *testing.T) {
	s := startServer(t, configFile(t, "reply_budget = 1000000\n")...)
	fill(t, s.addr, 20000, largeName, "PYRO:obj_00000000000000000000000000000000@127.0.0.1:51851")
	cl := connect(t, s.addr)
	data, exc := cl.call(t, "list", "")
	if !exc || !strings.Contains(data, "NamingError") || !strings.Contains(data, "reply_budget of 1000000 bytes") {
		t.Fatalf("list() of 1.8 MB under a 1 MB budget: %.300q, want NamingError naming reply_budget", data)
	}
	if data, exc := cl.call(t, "lookup", "'"+largeName(5)+"',"); exc {
		t.Fatalf("lookup after the refusal: %s", data)
	}
}

// TestNonReadingClientsCut (heavy: it waits out the 30 s default send
// timeout): 50 clients pipeline list() of a 2.6 MB reply and read nothing.
// Each pins one reply at most, is cut when the send timeout passes, and
// the memory comes back.
func TestNonReadingClientsCut(t *testing.T) {
	if !heavy() {
		t.Skip("waits out the 30 s send timeout; PYRO4_ATTACK_HEAVY=1 (make attack) runs it")
	}
	s := startServer(t)
	fill(t, s.addr, 20000, largeName, "PYRO:obj_00000000000000000000000000000000@127.0.0.1:51851")
	base := s.settledRSS(t)
	s.resetPeak(t)
	body := []byte(fmt.Sprintf("%s('Pyro.NameServer','list',(),{})", serpentHeader))
	var reqs []byte
	for i := range 20 {
		b, _ := (&wire.Message{Type: wire.MsgInvoke, Seq: uint16(i), SerializerID: wire.SerpentID, Data: body}).Pack(nil)
		reqs = append(reqs, b...)
	}
	fds := s.fds(t)
	var clients []*client
	for range 50 {
		cl := connect(t, s.addr)
		if _, err := cl.c.Write(reqs); err != nil {
			t.Fatal(err)
		}
		clients = append(clients, cl)
	}
	start := time.Now()
	// The clients never read: the server's descriptors for them go once
	// it has cut them.
	for s.fds(t) > fds {
		if time.Since(start) > 2*wait {
			t.Fatalf("%d descriptors over the %d before: non-reading clients still connected after %v", s.fds(t)-fds, fds, time.Since(start))
		}
		time.Sleep(200 * time.Millisecond)
	}
	peak := s.peak(t)
	after := s.rssBelow(t, base+20<<20, 20*time.Second)
	t.Logf("RSS %s before, peak %s while 50 clients did not read, %s after they were cut (after %v)", mib(base), mib(peak), mib(after), time.Since(start).Round(time.Second))
	if peak-base > 50*3*2600000 {
		t.Errorf("peak RSS grew by %s, more than about one reply per client", mib(peak-base))
	}
	if after > base+20<<20 {
		t.Errorf("RSS %s 20 s after the clients were cut, %s before", mib(after), mib(base))
	}
}

// TestMaxConnections: over max_connections a real Pyro4 client is refused
// with a CommunicationError naming the limit, not left to time out.
func TestMaxConnections(t *testing.T) {
	pypeer.Require(t)
	s := startServer(t, configFile(t, "max_connections = 2\n")...)
	connect(t, s.addr)
	connect(t, s.addr)
	const probe = `
import sys, Pyro4, Pyro4.errors
try:
    print("COUNT", Pyro4.Proxy(sys.argv[1]).count())
except Pyro4.errors.CommunicationError as x:
    print("REFUSED", type(x).__name__, x)
`
	out, err := pypeer.Run(t, wait, pypeer.Env(), probe, "PYRO:Pyro.NameServer@"+s.addr)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.HasPrefix(out, "REFUSED CommunicationError") || !strings.Contains(out, "max_connections limit of 2") {
		t.Fatalf("Pyro4 client over the limit printed %q", out)
	}
}

// TestSecurityWarningsRateLimited: 50 malformed handshakes from one peer
// leave a few WARNING lines with its address, not 50.
func TestSecurityWarningsRateLimited(t *testing.T) {
	s := startServer(t)
	for range 50 {
		cl := dial(t, s.addr)
		cl.c.Write(append([]byte("JUNK"), make([]byte, 20)...))
		cl.c.SetReadDeadline(time.Now().Add(wait))
		wire.ReadMessage(cl.r, wire.Limits{})
		cl.c.Close()
	}
	time.Sleep(200 * time.Millisecond)
	var warned int
	for _, l := range strings.Split(s.out.String(), "\n") {
		if strings.Contains(l, "level=WARN") && strings.Contains(l, "handshake refused") && strings.Contains(l, "remote=127.0.0.1:") {
			warned++
		}
	}
	if warned == 0 || warned > 5 {
		t.Errorf("50 malformed handshakes from one peer logged %d warnings with its address, want 1 to 5; output:\n%s", warned, s.out.String())
	}
}
