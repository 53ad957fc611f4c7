package wire

import (
	"bytes"
	"compress/zlib"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// TestReadBodyFollowsBytesReceived: what a body costs follows the bytes
// that arrived, whatever the header claimed, and a complete body costs at
// most 1.5 times its size in all the buffers made for it.
func TestReadBodyFollowsBytesReceived(t *testing.T) {
	const claim = 1 << 30
	tests := []struct {
		name     string
		sent     int   // body bytes that arrive before the stream ends
		maxAlloc int64 // bound on everything allocated by the read
	}{
		{"nothing", 0, 1 << 10},
		{"3 bytes", 3, 8 << 10},
		// buffers double as they fill, so their sum stays under 4x what came
		{"100 KiB", 100 << 10, 4 * 100 << 10},
		{"1 MiB", 1 << 20, 4 << 20},
		{"100 MiB", 100 << 20, 4 * 100 << 20}, // the whole body is trusted only at 1/8
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The count is the whole process's, so another test's goroutine
			// can add to one read's: the least of three reads is the read's
			// own cost.
			var n uint64
			for attempt := range 3 {
				in := io.MultiReader(bytes.NewReader(rawHeader(MsgInvoke, 0, 1, claim, 1, 0)), io.LimitReader(zeros{}, int64(tt.sent)))
				var err error
				got := allocated(func() { _, err = ReadMessage(in, Limits{}) })
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("error %v, want unexpected EOF", err)
				}
				if attempt == 0 || got < n {
					n = got
				}
				if int64(n) <= tt.maxAlloc {
					break
				}
			}
			if int64(n) > tt.maxAlloc {
				t.Errorf("a 1 GiB claim with %d bytes sent allocated %d bytes, want at most %d", tt.sent, n, tt.maxAlloc)
			}
		})
	}
}

// TestReadBodyPeak: a body of more than trustShare first steps (32 KiB)
// costs at most 1.5 times its size in all, however it arrives. (A smaller
// one may cost its size plus the 4 KiB first step.)
func TestReadBodyPeak(t *testing.T) {
	for _, size := range []int{trustShare*firstBodyStep + 1, 70 << 10, 1 << 20, 8<<20 + 1, 33 << 20} {
		m := &Message{Type: MsgInvoke, Seq: 1, SerializerID: 1, Data: pattern(size)}
		raw, _ := m.Pack(nil)
		for _, r := range []struct {
			name string
			r    func() io.Reader
		}{
			{"whole", func() io.Reader { return bytes.NewReader(raw) }},
			{"one byte at a time", func() io.Reader { return iotest.OneByteReader(bytes.NewReader(raw)) }},
			{"in 1000-byte reads", func() io.Reader { return &chunkReader{raw, 1000} }},
		} {
			if size > 1<<20 && r.name == "one byte at a time" {
				continue
			}
			var got *Message
			var err error
			in := r.r()
			n := allocated(func() { got, err = ReadMessage(in, Limits{}) })
			if err != nil || !bytes.Equal(got.Data, m.Data) {
				t.Fatalf("%d bytes %s: err %v", size, r.name, err)
			}
			// the Message and its header buffer are not the body's
			if body := int64(n) - 256; body > int64(size)*3/2 {
				t.Errorf("%d bytes %s: allocated %d bytes (%.2fx), want at most 1.5x", size, r.name, body, float64(body)/float64(size))
			}
		}
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// chunkReader returns at most n bytes per Read, as a socket does.
type chunkReader struct {
	b []byte
	n int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.b) == 0 {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), c.n)], c.b)
	c.b = c.b[k:]
	return k, nil
}

func TestDecompressAllocation(t *testing.T) {
	for _, size := range []int{300, 100 << 10, 256 << 10, 256<<10 + 1, 10 << 20} {
		data := pattern(size)
		var buf bytes.Buffer
		w := zlib.NewWriter(&buf)
		w.Write(data)
		w.Close()
		m := &Message{Flags: FlagCompressed, Data: buf.Bytes()}
		var err error
		n := allocated(func() { err = m.Decompress(0) })
		if err != nil || !bytes.Equal(m.Data, data) {
			t.Fatalf("%d bytes: %v", size, err)
		}
		// zlib's reader state is about 45 KiB; the first buffer at most 256 KiB
		if limit := size + 256<<10 + 64<<10; n > uint64(limit) {
			t.Errorf("inflating %d bytes allocated %d, want at most %d", size, n, limit)
		}
	}
}

func TestDecompressTruncated(t *testing.T) {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(pattern(1 << 20))
	w.Close()
	for _, cut := range []int{1, 4, 100, buf.Len() / 2} {
		m := &Message{Flags: FlagCompressed, Data: buf.Bytes()[:buf.Len()-cut]}
		var x *Exception
		if err := m.Decompress(0); !errors.As(err, &x) || x.Class != ClassProtocolError {
			t.Errorf("cut %d bytes: error %v, want invalid compressed data", cut, err)
		}
	}
}
