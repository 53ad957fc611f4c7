package wire

import (
	"bytes"
	"compress/zlib"
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

func TestCompress(t *testing.T) {
	text := bytes.Repeat([]byte("PYRO:obj_0123456789@127.0.0.1:9999 "), 50)
	random := make([]byte, 1000)
	rand.Read(random)
	tests := []struct {
		name       string
		data       []byte
		compressed bool
	}{
		{"compressible", text, true},
		{"below 200 bytes", text[:199], false},
		{"incompressible", random, false},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &Message{Data: bytes.Clone(tt.data)}
			m.Compress()
			if got := m.Flags&FlagCompressed != 0; got != tt.compressed {
				t.Fatalf("compressed = %v, want %v", got, tt.compressed)
			}
			if tt.compressed && len(m.Data) >= len(tt.data) {
				t.Fatalf("compressed data is not smaller")
			}
			if err := m.Decompress(len(tt.data)); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(m.Data, tt.data) || m.Flags != 0 {
				t.Fatalf("round trip changed the data or left flags %#x", m.Flags)
			}
		})
	}
	// compressing twice does nothing the second time
	m := &Message{Data: bytes.Clone(text)}
	m.Compress()
	once := bytes.Clone(m.Data)
	m.Compress()
	if !bytes.Equal(once, m.Data) {
		t.Fatal("second Compress changed compressed data")
	}
}

func TestDecompressBound(t *testing.T) {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(make([]byte, 10<<20))
	w.Close()
	bomb := buf.Bytes()
	m := &Message{Flags: FlagCompressed, Data: bomb}
	var err error
	if n := allocated(func() { err = m.Decompress(1 << 20) }); n > 8<<20 {
		t.Errorf("bounded decompression allocated %d bytes", n)
	}
	wantException(t, err, ClassMessageTooLargeError, "max message size exceeded (decompressed data larger than 1048576)")
	if !bytes.Equal(m.Data, bomb) || m.Flags != FlagCompressed {
		t.Fatal("failed Decompress changed the message")
	}
	if err := m.Decompress(10 << 20); err != nil || len(m.Data) != 10<<20 {
		t.Fatalf("exactly at the bound: %v", err)
	}
	m = &Message{Flags: FlagCompressed, Data: bomb}
	if err := m.Decompress(0); err != nil || len(m.Data) != 10<<20 {
		t.Fatalf("unbounded: %v", err)
	}
	for name, data := range map[string][]byte{"garbage": []byte("not zlib at all"), "truncated": bomb[:len(bomb)/2]} {
		err := (&Message{Flags: FlagCompressed, Data: data}).Decompress(0)
		var e *Exception
		if !errors.As(err, &e) || e.Class != ClassProtocolError || !strings.HasPrefix(e.Message, "invalid compressed data: ") {
			t.Errorf("%s: error %v, want ProtocolError invalid compressed data", name, err)
		}
	}
	plain := &Message{Data: []byte("x")}
	if err := plain.Decompress(1); err != nil || string(plain.Data) != "x" {
		t.Fatal("Decompress touched an uncompressed message")
	}
}

// FuzzDecompress inflates arbitrary bytes as a compressed message body
// under a bound: no panic, a refusal only as ProtocolError (bad zlib data)
// or MessageTooLargeError (more than the bound) that leaves the message as
// it was, and a bigger bound never changes a verdict reached below it.
func FuzzDecompress(f *testing.F) {
	for _, g := range loadGoldenMessages(f) {
		if g.Flags&FlagCompressed != 0 && len(g.raw) < 4096 {
			f.Add(g.raw[HeaderSize+int(be16(g.raw[18:])):])
		}
	}
	text := &Message{Data: bytes.Repeat([]byte("PYRO:obj@127.0.0.1:9999 "), 40)}
	text.Compress()
	f.Add(text.Data)
	f.Add([]byte("x\x9c\x03\x00\x00\x00\x00\x01"))
	f.Add([]byte("not zlib"))
	const bound = 1 << 12
	f.Fuzz(func(t *testing.T, data []byte) {
		small, smallErr := fzDecompress(t, data, bound)
		large, largeErr := fzDecompress(t, data, 4*bound)
		switch {
		case smallErr == nil:
			if len(small) > bound || largeErr != nil || !bytes.Equal(small, large) {
				t.Fatalf("%d bytes within the bound, but %d bytes (%v) under a larger one", len(small), len(large), largeErr)
			}
		case smallErr.Class == ClassProtocolError:
			if largeErr == nil || largeErr.Class != ClassProtocolError {
				t.Fatalf("invalid under the bound (%v), but %v under a larger one", smallErr, largeErr)
			}
		case largeErr == nil && len(large) <= bound:
			t.Fatalf("too large for %d (%v), but %d bytes decompressed", bound, smallErr, len(large))
		}
	})
}

// fzDecompress decompresses data under bound and checks how it went.
func fzDecompress(t *testing.T, data []byte, bound int) ([]byte, *Exception) {
	t.Helper()
	m := &Message{Flags: FlagCompressed | FlagBatch, Data: bytes.Clone(data)}
	err := m.Decompress(bound)
	if err == nil {
		if m.Flags != FlagBatch {
			t.Fatalf("flags %#x after decompressing, want only the other flags", m.Flags)
		}
		return m.Data, nil
	}
	var x *Exception
	if !errors.As(err, &x) || x.Class != ClassProtocolError && x.Class != ClassMessageTooLargeError {
		t.Fatalf("Decompress error %T %v", err, err)
	}
	if m.Flags != FlagCompressed|FlagBatch || !bytes.Equal(m.Data, data) {
		t.Fatal("a refused Decompress changed the message")
	}
	return nil, x
}
