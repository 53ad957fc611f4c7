package wire

import "testing"

// The same payloads as the other codecs' benchmarks (codecs_helpers_test.go),
// so that the numbers compare.
func BenchmarkSerpentEncodeLookupCall(b *testing.B) { cgBenchEncodeLookupCall(b, "serpent") }
func BenchmarkSerpentDecodeLookupCall(b *testing.B) { cgBenchDecodeLookupCall(b, "serpent") }
func BenchmarkSerpentEncodeList1000(b *testing.B)   { cgBenchEncodeList1000(b, "serpent") }
func BenchmarkSerpentDecodeList1000(b *testing.B)   { cgBenchDecodeList1000(b, "serpent") }
