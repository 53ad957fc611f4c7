package attack

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyro4/pyro4/persist"
	bolt "go.etcd.io/bbolt"
)

// boltStore writes a store of n registrations with the server's own store
// code, one commit each as a server makes them, and returns its path and
// the file offset of a leaf page of names (a page the tree uses).
func boltStore(t *testing.T, n int) (path string, leaf int64) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "ns.db")
	s, err := persist.OpenBolt(path, persist.BoltOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if err := s.Put(persist.Entry{Name: fmt.Sprintf("attack.name%05d", i), URI: "PYRO:obj@127.0.0.1:9999"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// The page picked holds names from the middle: the server's start-up
	// rewrites the first leaf (it registers Pyro.NameServer, which sorts
	// first), so a page there would be free by the time it is read.
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0, &bolt.Options{ReadOnly: true, PreLoadFreelist: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ps := int64(db.Info().PageSize)
	middle := fmt.Sprintf("nattack.name%05d", n/2)
	var best string
	err = db.View(func(tx *bolt.Tx) error {
		for id := 2; ; id++ {
			p, err := tx.Page(id)
			if err != nil || p == nil {
				return err
			}
			if p.Type != "leaf" || p.Count <= 2 { // the root bucket's leaf holds two buckets
				continue
			}
			off := int64(id) * ps
			e := raw[off+16:] // the first element: flags, pos, ksize, vsize
			pos, ksize := binary.NativeEndian.Uint32(e[4:]), binary.NativeEndian.Uint32(e[8:])
			key := string(e[pos : pos+ksize])
			if key >= middle && (best == "" || key < best) {
				best, leaf = key, off
			}
		}
	})
	if err != nil || leaf == 0 {
		t.Fatalf("no leaf of names past %s among the pages (%v)", middle, err)
	}
	return path, leaf
}

// damage overwrites the 8 bytes at off (a page's header: its id).
func damage(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(binary.LittleEndian.AppendUint64(nil, 0xdeadbeef), off); err != nil {
		t.Fatal(err)
	}
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// TestDamagedBoltRefused: a store with 8 bytes of a used page overwritten
// is refused at start, as damaged, and the file stays byte-identical.
func TestDamagedBoltRefused(t *testing.T) {
	path, leaf := boltStore(t, 3001)
	damage(t, path, leaf)
	before := fileSum(t, path)
	cmd := exec.Command(pyro4Binary(t), "ns", "-n", "127.0.0.1", "-p", "0", "-x", "-s", "bolt:"+path)
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err == nil {
			t.Errorf("the server exited 0 on a damaged store:\n%s", out)
		}
	case <-time.After(wait):
		_ = cmd.Process.Kill()
		<-exited
		t.Fatalf("the server kept running on a store damaged at offset %d:\n%s", leaf, out)
	}
	if !strings.Contains(out.String(), "damaged") || !strings.Contains(out.String(), path) {
		t.Errorf("output does not say the store is damaged:\n%s", out)
	}
	if strings.Contains(out.String(), "assertion") {
		t.Errorf("output carries bbolt's assertion text:\n%s", out)
	}
	if fileSum(t, path) != before {
		t.Error("the refused store file was changed")
	}
	t.Logf("damage at offset %d: %s", leaf, strings.TrimSpace(out.String()))
}

// TestDamageWhileServing: a page damaged under a running server makes the
// calls that reach it fail with a plain error naming the damage (no bbolt
// assertion text, no crash), and the server goes on serving.
func TestDamageWhileServing(t *testing.T) {
	path, leaf := boltStore(t, 3001)
	s := startServer(t, "-s", "bolt:"+path)
	cl := connect(t, s.addr)
	if data, exc := cl.call(t, "list", ""); exc {
		t.Fatalf("list on the healthy store: %.300s", data)
	}
	damage(t, path, leaf)
	data, exc := cl.call(t, "list", "")
	if !exc {
		t.Fatalf("list over a damaged page succeeded: %.300s", data)
	}
	if !strings.Contains(data, "damaged") || strings.Contains(data, "assertion") {
		t.Errorf("list over a damaged page: %.500s\nwant a plain error saying the store is damaged", data)
	}
	if data, exc := cl.call(t, "ping", ""); exc {
		t.Fatalf("ping after the damage: %q", data)
	}
	if !bytes.Contains([]byte(s.out.String()), []byte("panic")) {
		t.Logf("server log:\n%s", s.out.String())
	} else {
		t.Errorf("the server panicked:\n%s", s.out.String())
	}
	i := strings.Index(data, "damaged")
	t.Logf("client sees: ...%.200s", data[max(0, i-120):])
	// The operator sees it too, at the default level.
	var logged bool
	for _, l := range strings.Split(s.out.String(), "\n") {
		logged = logged || strings.Contains(l, "level=ERROR") && strings.Contains(l, "method=list") && strings.Contains(l, "damaged")
	}
	if !logged {
		t.Errorf("no ERROR line for the damaged store; server log:\n%s", s.out.String())
	}
}
