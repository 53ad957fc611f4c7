package commands

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
)

// pyApp is testdata/ns_cluster.py: one Python Pyro4 process that the test
// sends calls to, so that a call costs a round trip rather than an
// interpreter start.
type pyApp struct {
	in    io.WriteCloser
	lines chan string
}

// pyReply is one answer of ns_cluster.py.
type pyReply struct {
	OK     json.RawMessage `json:"ok"`
	Err    string          `json:"err"`
	Msg    string          `json:"msg"`
	Errors []string        `json:"errors"`
	S      float64         `json:"s"`
}

func (r pyReply) String() string {
	if r.Err != "" {
		return fmt.Sprintf("%s: %s (%.2fs)", r.Err, r.Msg, r.S)
	}
	return fmt.Sprintf("ok %s (%.2fs)", r.OK, r.S)
}

func (r pyReply) took() time.Duration { return time.Duration(r.S * float64(time.Second)) }

func startPyApp(t *testing.T) *pyApp {
	t.Helper()
	pypeer.Require(t)
	cmd := exec.Command(pypeer.Python, "-u", filepath.Join("testdata", "ns_cluster.py"))
	cmd.Env = pypeer.Env()
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start ns_cluster.py: %v", err)
	}
	a := &pyApp{in: in, lines: make(chan string)}
	go func() {
		defer close(a.lines)
		sc := bufio.NewScanner(out)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			a.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		in.Close()
		syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	})
	return a
}

// call sends one request and waits for its answer (at most nsWait).
func (a *pyApp) call(t *testing.T, req map[string]any) pyReply {
	t.Helper()
	b, _ := json.Marshal(req)
	if _, err := a.in.Write(append(b, '\n')); err != nil {
		t.Fatalf("ns_cluster.py: %v", err)
	}
	select {
	case l, ok := <-a.lines:
		if !ok {
			t.Fatalf("ns_cluster.py exited during %s", b)
		}
		var r pyReply
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("ns_cluster.py answered %q: %v", l, err)
		}
		return r
	case <-time.After(nsWait):
		t.Fatalf("ns_cluster.py: no answer to %s in %v", b, nsWait)
	}
	return pyReply{}
}

// must is call for a request that must succeed.
func (a *pyApp) must(t *testing.T, req map[string]any) pyReply {
	t.Helper()
	r := a.call(t, req)
	if r.Err != "" {
		t.Fatalf("%v: %v", req, r)
	}
	return r
}

// list is the node's list(return_metadata=True), in its order, as
// "name uri [tags]" lines.
func (a *pyApp) list(t *testing.T, ns string) []string {
	t.Helper()
	var rows [][]any
	if err := json.Unmarshal(a.must(t, map[string]any{"op": "list", "ns": ns}).OK, &rows); err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = fmt.Sprintf("%v %v %v", r[0], r[1], r[2])
	}
	return out
}

// clientNames drops a listing's Pyro.NameServer row, which is each node's
// own.
func clientNames(rows []string) []string {
	var out []string
	for _, r := range rows {
		if !strings.HasPrefix(r, "Pyro.NameServer ") {
			out = append(out, r)
		}
	}
	return out
}

// waitList polls the node until its client registrations are want.
func (a *pyApp) waitList(t *testing.T, ns string, want []string) {
	t.Helper()
	deadline := time.Now().Add(nsWait)
	for {
		got := clientNames(a.list(t, ns))
		if strings.Join(got, "\n") == strings.Join(want, "\n") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s lists\n%s\nwant\n%s", ns, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}
