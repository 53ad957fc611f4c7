package main

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/pyro4/pyro4/wire"
)

// peer answers each request with answer(request); it hangs up after an
// answer when hangUp says so.
func peer(t *testing.T, answer func(req *wire.Message) (reply []byte, hangUp bool)) *pconn {
	t.Helper()
	client, server := net.Pipe()
	t.Cleanup(func() { client.Close(); server.Close() })
	go func() {
		defer server.Close()
		for {
			req, err := wire.ReadMessage(server, wire.Limits{})
			if err != nil {
				return
			}
			b, hangUp := answer(req)
			if _, err := server.Write(b); err != nil || hangUp {
				return
			}
		}
	}()
	client.SetDeadline(time.Now().Add(5 * time.Second))
	return newPconn(client, 1)
}

func packed(t *testing.T, m wire.Message) []byte {
	t.Helper()
	b, err := m.Pack(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Replies the connection must refuse, each counted under its class.
func TestReadRefusesBadReplies(t *testing.T) {
	tests := []struct {
		name   string
		mangle func(b []byte) []byte
		seq    uint16 // added to the request's
		want   string
	}{
		{"bad checksum", func(b []byte) []byte { b[23]++; return b }, 0, "protocol"},
		{"not Pyro", func(b []byte) []byte { copy(b, "HTTP"); return b }, 0, "protocol"},
		{"over the reply limit", func(b []byte) []byte {
			// size and checksum raised together, so only the size is wrong
			be := binary.BigEndian
			grow := uint32(maxReply + 1 - be.Uint32(b[12:]))
			be.PutUint32(b[12:], maxReply+1)
			be.PutUint16(b[22:], be.Uint16(b[22:])+uint16(grow))
			return b[:wire.HeaderSize]
		}, 0, "protocol"},
		{"wrong seq", func(b []byte) []byte { return b }, 1, "protocol"},
		{"body cut short", func(b []byte) []byte { return b[:len(b)-1] }, 0, "closed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := peer(t, func(req *wire.Message) ([]byte, bool) {
				m := wire.Message{Type: wire.MsgPing, Seq: req.Seq + tt.seq, SerializerID: 1, Data: []byte("ping")}
				return tt.mangle(packed(t, m)), true
			})
			err := p.ping()
			if got := classify(err); got != tt.want {
				t.Fatalf("ping: %v (%s), want %s", err, got, tt.want)
			}
		})
	}
}

// Replies larger than wire keeps for reuse (a list) are read into one
// buffer of the connection's after the first, intact each time.
func TestReadReusesLargeBuffer(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 200<<10)
	p := peer(t, func(req *wire.Message) ([]byte, bool) {
		m := wire.Message{Type: wire.MsgResult, Seq: req.Seq, SerializerID: 1, Data: big,
			Annotations: []wire.Annotation{{Key: "CORR", Value: []byte("0123456789abcdef")}}}
		return packed(t, m), false
	})
	var first *byte
	for i := range 3 {
		r, err := p.roundTrip(wire.MsgInvoke, 0, []byte("call"))
		if err != nil {
			t.Fatalf("round trip %d: %v", i, err)
		}
		if !bytes.Equal(r.Data, big) {
			t.Fatalf("round trip %d: %d bytes of data, not the %d sent", i, len(r.Data), len(big))
		}
		switch i {
		case 0:
		case 1:
			first = &r.Data[0]
		default:
			if &r.Data[0] != first {
				t.Fatalf("round trip %d read into a new buffer", i)
			}
		}
	}
}
