package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

func FuzzReadMessage(f *testing.F) {
	for _, g := range loadGoldenMessages(f) {
		if len(g.raw) < 4096 {
			f.Add(g.raw)
		}
	}
	f.Add(rawHeader(MsgInvoke, 0, 1, 0x7fffffff, 1, 0xffff))
	f.Fuzz(func(t *testing.T, raw []byte) {
		checkReadMessage(t, raw)
		// Random bytes rarely get past the tag and the checksum; a copy
		// with a valid tag, version and checksum reaches the annotations,
		// the body and the HMAC check.
		if len(raw) >= HeaderSize {
			fixed := bytes.Clone(raw)
			copy(fixed, "PYRO\x00\x30")
			h := header{be16(fixed[6:]), be16(fixed[8:]), be16(fixed[10:]), binary.BigEndian.Uint32(fixed[12:]),
				be16(fixed[16:]), be16(fixed[18:])}
			binary.BigEndian.PutUint16(fixed[22:], h.checksum())
			checkReadMessage(t, fixed)
		}
	})
}

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }

// checkReadMessage reads raw with and without an HMAC key, under a size
// limit: no panic, a refusal only as a cut stream or one of Pyro4's
// protocol exceptions, and whatever reads packs to a stable canonical form.
func checkReadMessage(t *testing.T, raw []byte) {
	for _, key := range [][]byte{nil, []byte("secret")} {
		lim := Limits{MaxSize: 64 << 10, HMACKey: key}
		m, err := ReadMessage(bytes.NewReader(raw), lim)
		if err != nil {
			fzReadRefusal(t, err)
			continue
		}
		packed, err := m.Pack(key)
		if err != nil {
			t.Fatalf("a message that was read does not pack: %v", err)
		}
		m2, err := Unpack(packed, lim)
		if err != nil {
			t.Fatalf("re-packed message does not read: %v", err)
		}
		if again, _ := m2.Pack(key); !bytes.Equal(again, packed) {
			t.Fatalf("pack is not stable")
		}
		// input already in canonical form re-packs to the same bytes
		in := raw[:HeaderSize+int(be16(raw[18:]))+int(binary.BigEndian.Uint32(raw[12:]))]
		if canonical(in) && !bytes.Equal(packed, in) {
			t.Fatalf("canonical input re-packs differently\n in %x\nout %x", in, packed)
		}
	}
}

// fzReadRefusal fails t unless err is how ReadMessage may refuse bytes: a
// stream cut short, or Pyro4's ProtocolError, MessageTooLargeError or
// SecurityError.
func fzReadRefusal(t *testing.T, err error) {
	t.Helper()
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return
	}
	var x *Exception
	if errors.As(err, &x) {
		switch x.Class {
		case ClassProtocolError, ClassMessageTooLargeError, ClassSecurityError:
			return
		}
	}
	t.Fatalf("ReadMessage error %T %v is no protocol refusal", err, err)
}

// canonical reports whether a packed message is in the form Pack writes:
// reserved field zero, distinct keys, the HMAC chunk (if any) last.
func canonical(raw []byte) bool {
	if binary.BigEndian.Uint16(raw[20:]) != 0 {
		return false
	}
	ann := raw[HeaderSize : HeaderSize+int(binary.BigEndian.Uint16(raw[18:]))]
	seen := map[string]bool{}
	for len(ann) > 0 {
		k, n := string(ann[:4]), int(binary.BigEndian.Uint16(ann[4:]))
		if seen[k] || seen["HMAC"] || 6+n > len(ann) {
			return false
		}
		seen[k] = true
		ann = ann[6+n:]
	}
	return true
}
