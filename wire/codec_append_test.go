package wire

import (
	"bytes"
	"math/big"
	"testing"
)

// AppendMarshal must append exactly what Marshal returns, and leave dst as
// it was when it fails.
func TestAppendMarshal(t *testing.T) {
	for _, name := range []string{"serpent", "json", "marshal"} {
		c, _ := CodecByName(name)
		am, ok := c.(AppendMarshaler)
		if !ok {
			t.Errorf("%s does not implement AppendMarshaler", name)
			continue
		}
		values := []Value{nil, true, int64(-7), Int(new(big.Int).Lsh(big.NewInt(1), 80)), 1.5, "it's \"quoted\"\n",
			List{"a", Tuple{int64(1)}}, cgBenchList1000()}
		for _, v := range values {
			want, err := c.Marshal(v)
			if err != nil {
				t.Fatalf("%s: Marshal(%s): %v", name, Repr(v), err)
			}
			got, err := am.AppendMarshal([]byte("prefix"), v)
			if err != nil || !bytes.Equal(got, append([]byte("prefix"), want...)) {
				t.Errorf("%s: AppendMarshal(%.40s) = %.60q, %v; want prefix+%.60q", name, Repr(v), got, err, want)
			}
		}
		bad := List{struct{}{}}
		if _, err := c.Marshal(bad); err == nil {
			t.Fatalf("%s: Marshal of a Go struct succeeded", name)
		}
		got, err := am.AppendMarshal([]byte("keep"), bad)
		if err == nil || string(got) != "keep" {
			t.Errorf("%s: failing AppendMarshal = %q, %v; want dst unchanged and an error", name, got, err)
		}
	}
}
