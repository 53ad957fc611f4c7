package wire

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
)

// pyRecv is Pyro4's Message.recv reading messages from a file until it ends;
// it prints each message as JSON, or the error it raised.
const pyRecv = `
import json, sys
from Pyro4 import message, errors

class Conn:
    def __init__(self, data):
        self.data, self.pos = data, 0
    def recv(self, n):
        if self.pos + n > len(self.data):
            raise errors.ConnectionClosedError("receiving: not enough data")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

conn = Conn(open(sys.argv[1], "rb").read())
key = sys.argv[2].encode() or None
while conn.pos < len(conn.data):
    try:
        m = message.Message.recv(conn, hmac_key=key)
    except errors.PyroError as e:
        print(json.dumps({"error": type(e).__name__ + ": " + str(e)}))
        break
    flags = m.flags
    m.decompress_if_needed()
    print(json.dumps({"type": m.type, "flags": flags, "seq": m.seq, "ser": m.serializer_id,
                      "ann": [[k, v.hex()] for k, v in m.annotations.items() if k != "HMAC"],
                      "hmac": "HMAC" in m.annotations, "data": m.data.hex()}))
`

type pyMessage struct {
	Error string      `json:"error"`
	Type  uint16      `json:"type"`
	Flags uint16      `json:"flags"`
	Seq   uint16      `json:"seq"`
	Ser   uint16      `json:"ser"`
	Ann   [][2]string `json:"ann"`
	HMAC  bool        `json:"hmac"`
	Data  string      `json:"data"`
}

// pythonRecv feeds raw to Pyro4's Message.recv and returns what it read.
func pythonRecv(t *testing.T, raw []byte, key string) []pyMessage {
	t.Helper()
	path := filepath.Join(t.TempDir(), "messages.bin")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := pypeer.Run(t, 30*time.Second, pypeer.Env(), pyRecv, path, key)
	if err != nil {
		t.Fatalf("python: %v\n%s", err, out)
	}
	var msgs []pyMessage
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m pyMessage
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("python printed %q: %v", line, err)
		}
		msgs = append(msgs, m)
	}
	return msgs
}

func TestPythonReadsOurMessages(t *testing.T) {
	pypeer.Require(t)
	key := []byte("secret")
	big := bytes.Repeat([]byte("'example.object':'PYRO:obj@127.0.0.1:9999',"), 200)
	compressed := &Message{Type: MsgResult, Seq: 8, SerializerID: SerpentID, Data: bytes.Clone(big)}
	compressed.Compress()
	if compressed.Flags&FlagCompressed == 0 {
		t.Fatal("test payload did not compress")
	}
	msgs := []*Message{
		lookupMessage(),
		{Type: MsgConnect, Flags: FlagMetaOnConnect, SerializerID: SerpentID, Data: []byte("{'handshake':'hello','object':'Pyro.NameServer'}")},
		{Type: MsgPing, Seq: 0xffff, SerializerID: 42, Data: []byte("ping")},
		{Type: MsgInvoke, Seq: 4, SerializerID: JSONID, Data: []byte(`{"object":"x"}`),
			Annotations: []Annotation{{"ZZZZ", []byte("z")}, {"CORR", []byte("0123456789abcdef")}, {"AAAA", nil}}},
		compressed,
		{Type: MsgResult, Seq: 9, SerializerID: SerpentID, Data: pattern(70000)},
	}
	var raw []byte
	for _, m := range msgs {
		var err error
		if raw, err = m.AppendPack(raw, key); err != nil {
			t.Fatal(err)
		}
	}
	// chunks with a repeated key, signed over the values Pyro4's dict keeps
	chunks := appendChunk(nil, "XTRA", []byte("first"))
	chunks = appendChunk(chunks, "CORR", []byte("corr"))
	chunks = appendChunk(chunks, "XTRA", []byte("second"))
	mac := macOf(key, []byte("dup"), []Annotation{{"XTRA", []byte("second")}, {"CORR", []byte("corr")}})
	chunks = appendChunk(chunks, "HMAC", mac)
	raw = append(raw, rawHeader(MsgInvoke, 0, 10, 3, 1, uint16(len(chunks)))...)
	raw = append(append(raw, chunks...), "dup"...)

	got := pythonRecv(t, raw, string(key))
	if len(got) != len(msgs)+1 {
		t.Fatalf("python read %d messages, want %d: %+v", len(got), len(msgs)+1, got)
	}
	for i, m := range msgs {
		p := got[i]
		if p.Error != "" {
			t.Fatalf("message %d: python refused it: %s", i, p.Error)
		}
		want := m.Data
		if m.Flags&FlagCompressed != 0 {
			want = big
		}
		var anns [][2]string
		for _, a := range m.Annotations {
			anns = append(anns, [2]string{a.Key, hex.EncodeToString(a.Value)})
		}
		if p.Type != m.Type || p.Flags != m.Flags || p.Seq != m.Seq || p.Ser != m.SerializerID || !p.HMAC ||
			p.Data != hex.EncodeToString(want) || fmt.Sprint(p.Ann) != fmt.Sprint(anns) {
			t.Errorf("message %d: python read %+v", i, p)
		}
	}
	if dup := got[len(msgs)]; dup.Error != "" || dup.Data != hex.EncodeToString([]byte("dup")) {
		t.Errorf("repeated keys: python read %+v", dup)
	}

	// Python really checks our HMAC: the wrong key is refused
	wrong := pythonRecv(t, raw, "other")
	if len(wrong) != 1 || wrong[0].Error != "SecurityError: message hmac mismatch" {
		t.Errorf("wrong key: python read %+v", wrong)
	}
	unsigned, _ := lookupMessage().Pack(nil)
	if res := pythonRecv(t, unsigned, "secret"); len(res) != 1 || res[0].Error != "SecurityError: hmac key config not symmetric" {
		t.Errorf("unsigned with key: python read %+v", res)
	}
}

// TestPythonReadsAnnotationOverrun: Pyro4 reads the overrunning chunk as
// ReadMessage does.
func TestPythonReadsAnnotationOverrun(t *testing.T) {
	pypeer.Require(t)
	got := pythonRecv(t, overrunChunk(), "")
	want := [][2]string{{"CORR", hex.EncodeToString([]byte("ab"))}}
	if len(got) != 1 || got[0].Error != "" || fmt.Sprint(got[0].Ann) != fmt.Sprint(want) || got[0].Data != hex.EncodeToString([]byte("xy")) {
		t.Fatalf("python read %+v", got)
	}
}
