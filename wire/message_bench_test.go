package wire

import (
	"bytes"
	"testing"
)

func BenchmarkMessagePack(b *testing.B) {
	for _, key := range []string{"", "secret"} {
		b.Run("hmac="+key, func(b *testing.B) {
			m := lookupMessage()
			buf := make([]byte, 0, 512)
			b.ReportAllocs()
			for b.Loop() {
				buf, _ = m.AppendPack(buf[:0], []byte(key))
			}
		})
	}
}

func BenchmarkReadMessage(b *testing.B) {
	for _, key := range []string{"", "secret"} {
		b.Run("hmac="+key, func(b *testing.B) {
			raw, _ := lookupMessage().Pack([]byte(key))
			lim := Limits{MaxSize: 1 << 20, HMACKey: []byte(key)}
			r := bytes.NewReader(raw)
			b.ReportAllocs()
			b.SetBytes(int64(len(raw)))
			for b.Loop() {
				r.Reset(raw)
				if _, err := ReadMessage(r, lim); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// lookupMessage is a client's typical request: a serpent-encoded
// NameServer.lookup call with a correlation id.
func lookupMessage() *Message {
	return &Message{Type: MsgInvoke, Seq: 3, SerializerID: SerpentID,
		Annotations: []Annotation{{"CORR", []byte("\x9a\x1b\x0c\x7e\x11\x22\x43\x84\x95\xa6\xb7\xc8\xd9\xea\xfb\x0c")}},
		Data:        []byte("# serpent utf-8 python3.2\n('Pyro.NameServer','lookup',('example.greeting',),{})")}
}
