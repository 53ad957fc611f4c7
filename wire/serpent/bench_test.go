package serpent

import (
	"testing"

	"github.com/pyro4/pyro4/wire/internal/codectest"
)

// The same payloads as the other codecs' benchmarks (wire/internal/codectest),
// so that the numbers compare.
func BenchmarkSerpentEncodeLookupCall(b *testing.B) { codectest.BenchEncodeLookupCall(b, "serpent") }
func BenchmarkSerpentDecodeLookupCall(b *testing.B) { codectest.BenchDecodeLookupCall(b, "serpent") }
func BenchmarkSerpentEncodeList1000(b *testing.B)   { codectest.BenchEncodeList1000(b, "serpent") }
func BenchmarkSerpentDecodeList1000(b *testing.B)   { codectest.BenchDecodeList1000(b, "serpent") }
