package attack

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pyro4/pyro4/wire"
)

// wait bounds every single wait of the suite.
const wait = 30 * time.Second

var build struct {
	once     sync.Once
	dir, bin string
	err      error
}

// binary returns the pyro4 binary under attack: PYRO4_ATTACK_BIN, or one
// built once for the package (TestMain removes it).
func pyro4Binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and attacks the pyro4 binary")
	}
	if bin := os.Getenv("PYRO4_ATTACK_BIN"); bin != "" {
		return bin
	}
	build.once.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			build.err = fmt.Errorf("go tool not found: %w", err)
			return
		}
		if build.dir, err = os.MkdirTemp("", "pyro4-attack-bin-"); err != nil {
			build.err = err
			return
		}
		bin := filepath.Join(build.dir, "pyro4")
		if out, err := exec.Command(goTool, "build", "-o", bin, "github.com/pyro4/pyro4").CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build: %v\n%s", err, out)
			return
		}
		build.bin = bin
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.bin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// heavy reports whether the long, memory-hungry variants run.
func heavy() bool { return os.Getenv("PYRO4_ATTACK_HEAVY") != "" }

// server is one running `pyro4 ns`.
type server struct {
	cmd  *exec.Cmd
	addr string
	out  *lockedBuffer
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

var runningRE = regexp.MustCompile(`NS running on (\S+) `)

// startServer runs the name server on a free loopback port, with no
// broadcast responder, and stops it (by its PID) when the test ends.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	cmd := exec.Command(pyro4Binary(t), append([]string{"ns", "-n", "127.0.0.1", "-p", "0", "-x"}, args...)...)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, out: out}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		if m := runningRE.FindStringSubmatch(out.String()); m != nil {
			s.addr = m[1]
			return s
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("server did not start within %v; output:\n%s", wait, out.String())
	return nil
}

// status returns a field of /proc/PID/status in bytes (the kB fields).
func (s *server) status(t *testing.T, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		t.Fatalf("server status: %v (output:\n%s)", err, s.out.String())
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("%s: %q: %v", field, line, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, s.cmd.Process.Pid)
	return 0
}

// rss is the server's resident set size in bytes.
func (s *server) rss(t *testing.T) int64 { return s.status(t, "VmRSS") }

// resetPeak restarts the kernel's peak RSS count (VmHWM) from the current
// RSS, so that peak() covers only what follows.
func (s *server) resetPeak(t *testing.T) {
	t.Helper()
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", s.cmd.Process.Pid), []byte("5"), 0); err != nil {
		t.Fatalf("reset peak RSS: %v", err)
	}
}

// peak is the server's peak RSS (VmHWM) since the last resetPeak.
func (s *server) peak(t *testing.T) int64 { return s.status(t, "VmHWM") }

// fds counts the server's open descriptors.
func (s *server) fds(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", s.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(ents)
}

// settledRSS waits until the RSS stops moving (three samples 100 ms apart
// within 1 MiB) and returns it.
func (s *server) settledRSS(t *testing.T) int64 {
	t.Helper()
	prev := s.rss(t)
	stable := 0
	for deadline := time.Now().Add(wait); time.Now().Before(deadline) && stable < 3; {
		time.Sleep(100 * time.Millisecond)
		cur := s.rss(t)
		if d := cur - prev; d < 1<<20 && d > -(1<<20) {
			stable++
		} else {
			stable = 0
		}
		prev = cur
	}
	return prev
}

// rssBelow waits up to within for the RSS to fall to limit or less and
// returns the last sample.
func (s *server) rssBelow(t *testing.T, limit int64, within time.Duration) int64 {
	t.Helper()
	cur := s.rss(t)
	for deadline := time.Now().Add(within); cur > limit && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
		cur = s.rss(t)
	}
	return cur
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// serpentHeader starts every serpent payload.
const serpentHeader = "# serpent utf-8 python3.2\n"

// client is one raw protocol connection, past its handshake when made by
// connect.
type client struct {
	c net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, wait)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &client{c: c, r: bufio.NewReader(c)}
}

// connect dials and completes Pyro4's handshake with the name server object.
func connect(t *testing.T, addr string) *client {
	t.Helper()
	cl := dial(t, addr)
	reply := cl.roundTrip(t, &wire.Message{Type: wire.MsgConnect, SerializerID: wire.SerpentID,
		Data: []byte(serpentHeader + "{'handshake':'hello','object':'Pyro.NameServer'}")})
	if reply.Type != wire.MsgConnectOK {
		t.Fatalf("handshake: message type %d: %q", reply.Type, reply.Data)
	}
	return cl
}

func (cl *client) send(t *testing.T, m *wire.Message) {
	t.Helper()
	b, err := m.Pack(nil)
	if err != nil {
		t.Fatal(err)
	}
	cl.c.SetWriteDeadline(time.Now().Add(wait))
	if _, err := cl.c.Write(b); err != nil {
		t.Fatalf("send: %v", err)
	}
}

func (cl *client) receive(t *testing.T) *wire.Message {
	t.Helper()
	cl.c.SetReadDeadline(time.Now().Add(wait))
	m, err := wire.ReadMessage(cl.r, wire.Limits{})
	if err != nil {
		t.Fatalf("receive: %v", err)
	}
	return m
}

func (cl *client) roundTrip(t *testing.T, m *wire.Message) *wire.Message {
	t.Helper()
	cl.send(t, m)
	return cl.receive(t)
}

// call invokes a name server method with serpent-encoded arguments (a
// tuple's inside, e.g. "'name',") and returns the reply's data.
func (cl *client) call(t *testing.T, method, args string) (data string, isException bool) {
	t.Helper()
	body := fmt.Sprintf("%s('Pyro.NameServer','%s',(%s),{})", serpentHeader, method, args)
	reply := cl.roundTrip(t, &wire.Message{Type: wire.MsgInvoke, Seq: 1, SerializerID: wire.SerpentID, Data: []byte(body)})
	return string(reply.Data), reply.Flags&wire.FlagException != 0
}

// header is a valid message header claiming a body of size bytes (no
// annotations), serializer serpent, sequence 0: Pyro4's "!4sHHHHiHHHH".
func header(typ uint16, size int) []byte {
	be := binary.BigEndian
	h := be.AppendUint32([]byte("PYRO"), uint32(wire.ProtocolVersion)<<16|uint32(typ))
	h = be.AppendUint32(h, 0) // flags, seq
	h = be.AppendUint32(h, uint32(size))
	h = be.AppendUint32(h, uint32(wire.SerpentID)<<16) // serializer, annotations size
	sum := (uint32(typ) + wire.ProtocolVersion + uint32(size) + wire.SerpentID + 0x34E9) & 0xffff
	return be.AppendUint32(h, sum) // reserved, checksum
}

// sendBody writes a header claiming size bytes followed by size zero bytes,
// streamed from one small chunk so the test itself stays small.
func (cl *client) sendBody(t *testing.T, typ uint16, size int) {
	t.Helper()
	if _, err := cl.c.Write(header(typ, size)); err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	cl.c.SetWriteDeadline(time.Now().Add(5 * wait))
	for left := size; left > 0; {
		n := min(left, len(chunk))
		if _, err := cl.c.Write(chunk[:n]); err != nil {
			t.Fatalf("send body: %v", err)
		}
		left -= n
	}
}
