package wire

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// goldenMessage is one entry of testdata/golden/messages/manifest.json,
// written by gen_messages.py from Pyro4's own Message class.
type goldenMessage struct {
	Name          string      `json:"name"`
	Type          uint16      `json:"type"`
	Flags         uint16      `json:"flags"`
	Seq           uint16      `json:"seq"`
	Serializer    uint16      `json:"serializer"`
	Annotations   [][2]string `json:"annotations"`
	HMACKey       *string     `json:"hmac_key"`
	WireOrder     []string    `json:"wire_annotation_order"`
	DataHex       *string     `json:"data_hex"`
	DataLen       *int        `json:"data_len"`
	PayloadHex    *string     `json:"payload_hex"`
	raw, data, pl []byte
}

func (g *goldenMessage) key() []byte {
	if g.HMACKey == nil {
		return nil
	}
	return []byte(*g.HMACKey)
}

// pattern is gen_messages.py's filler for large payloads.
func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + 3)
	}
	return b
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func loadGoldenMessages(t testing.TB) []*goldenMessage {
	t.Helper()
	dir := filepath.Join("testdata", "golden", "messages")
	js, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var gs []*goldenMessage
	if err := json.Unmarshal(js, &gs); err != nil {
		t.Fatal(err)
	}
	if len(gs) < 40 {
		t.Fatalf("manifest has only %d messages", len(gs))
	}
	for _, g := range gs {
		if g.raw, err = os.ReadFile(filepath.Join(dir, g.Name+".bin")); err != nil {
			t.Fatal(err)
		}
		switch {
		case g.DataHex != nil:
			g.data = mustHex(t, *g.DataHex)
		case g.DataLen != nil:
			g.data = pattern(*g.DataLen)
		default:
			t.Fatalf("%s: no data in manifest", g.Name)
		}
		if g.PayloadHex != nil {
			g.pl = mustHex(t, *g.PayloadHex)
		}
	}
	return gs
}

// message builds what the Python script built, annotations in the order given.
func (g *goldenMessage) message(t testing.TB) *Message {
	m := &Message{Type: g.Type, Flags: g.Flags, Seq: g.Seq, SerializerID: g.Serializer, Data: g.data}
	for _, a := range g.Annotations {
		m.Annotations = append(m.Annotations, Annotation{a[0], mustHex(t, a[1])})
	}
	return m
}

// dictAnnotations is what Python's dict(annotations) holds, minus HMAC.
func (g *goldenMessage) dictAnnotations(t testing.TB) []Annotation {
	var out []Annotation
	for _, k := range g.WireOrder {
		if k == "HMAC" {
			continue
		}
		var v []byte
		for _, a := range g.Annotations {
			if a[0] == k {
				v = mustHex(t, a[1])
			}
		}
		out = append(out, Annotation{k, v})
	}
	return out
}

func TestPackMatchesPyro4(t *testing.T) {
	for _, g := range loadGoldenMessages(t) {
		t.Run(g.Name, func(t *testing.T) {
			got, err := g.message(t).Pack(g.key())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, g.raw) {
				t.Fatalf("packed bytes differ from Pyro4's\n got %x\nwant %x", head(got), head(g.raw))
			}
			pre := []byte("prefix")
			app, err := g.message(t).AppendPack(pre, g.key())
			if err != nil || !bytes.Equal(app[:6], pre) || !bytes.Equal(app[6:], g.raw) {
				t.Fatalf("AppendPack does not append the same bytes (err %v)", err)
			}
		})
	}
}

func head(b []byte) []byte {
	if len(b) > 200 {
		return b[:200]
	}
	return b
}

func TestReadMessageReadsPyro4(t *testing.T) {
	for _, g := range loadGoldenMessages(t) {
		t.Run(g.Name, func(t *testing.T) {
			m, err := ReadMessage(bytes.NewReader(g.raw), Limits{HMACKey: g.key(), MaxSize: len(g.raw)})
			if err != nil {
				t.Fatal(err)
			}
			if m.Type != g.Type || m.Flags != g.Flags || m.Seq != g.Seq || m.SerializerID != g.Serializer {
				t.Errorf("header fields %d/%d/%d/%d, want %d/%d/%d/%d", m.Type, m.Flags, m.Seq, m.SerializerID,
					g.Type, g.Flags, g.Seq, g.Serializer)
			}
			if !bytes.Equal(m.Data, g.data) {
				t.Errorf("data differs")
			}
			want := g.dictAnnotations(t)
			if fmt.Sprint(m.Annotations) != fmt.Sprint(want) {
				t.Errorf("annotations %q, want %q", m.Annotations, want)
			}
			if g.pl != nil {
				if err := m.Decompress(0); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(m.Data, g.pl) || m.Flags&FlagCompressed != 0 {
					t.Errorf("decompressed payload differs from Python's original (flags %#x)", m.Flags)
				}
			}
			// re-packing what was read gives Pyro4's bytes again, except that
			// an HMAC that Python placed first now goes last
			if g.Name != "hmac_in_place" {
				again, err := m.Pack(g.key())
				if g.pl == nil && (err != nil || !bytes.Equal(again, g.raw)) {
					t.Errorf("re-pack differs (err %v)", err)
				}
			}
		})
	}
}
