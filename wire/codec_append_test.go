package wire_test

import (
	"bytes"
	"math/big"
	"testing"

	"github.com/pyro4/pyro4/wire"
	_ "github.com/pyro4/pyro4/wire/codecs"
	"github.com/pyro4/pyro4/wire/internal/codectest"
)

// AppendMarshal must append exactly what Marshal returns, and leave dst as
// it was when it fails.
func TestAppendMarshal(t *testing.T) {
	for _, name := range []string{"serpent", "json", "marshal"} {
		c, _ := wire.CodecByName(name)
		am, ok := c.(wire.AppendMarshaler)
		if !ok {
			t.Errorf("%s does not implement AppendMarshaler", name)
			continue
		}
		values := []wire.Value{nil, true, int64(-7), wire.Int(new(big.Int).Lsh(big.NewInt(1), 80)), 1.5, "it's \"quoted\"\n",
			wire.List{"a", wire.Tuple{int64(1)}}, codectest.BenchList1000()}
		for _, v := range values {
			want, err := c.Marshal(v)
			if err != nil {
				t.Fatalf("%s: Marshal(%s): %v", name, wire.Repr(v), err)
			}
			got, err := am.AppendMarshal([]byte("prefix"), v)
			if err != nil || !bytes.Equal(got, append([]byte("prefix"), want...)) {
				t.Errorf("%s: AppendMarshal(%.40s) = %.60q, %v; want prefix+%.60q", name, wire.Repr(v), got, err, want)
			}
		}
		bad := wire.List{struct{}{}}
		if _, err := c.Marshal(bad); err == nil {
			t.Fatalf("%s: Marshal of a Go struct succeeded", name)
		}
		got, err := am.AppendMarshal([]byte("keep"), bad)
		if err == nil || string(got) != "keep" {
			t.Errorf("%s: failing AppendMarshal = %q, %v; want dst unchanged and an error", name, got, err)
		}
	}
}
