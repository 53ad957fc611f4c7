package wire

import (
	"math"
	"strconv"
	"strings"
	"testing"
)

// parseHexFloat reads float.hex() output; "-nan" keeps its sign bit.
func parseHexFloat(t testing.TB, s string) float64 {
	t.Helper()
	neg := strings.HasPrefix(s, "-")
	f, err := strconv.ParseFloat(strings.TrimPrefix(s, "-"), 64)
	if err != nil {
		t.Fatalf("float %q: %v", s, err)
	}
	if neg {
		return math.Copysign(f, -1)
	}
	return f
}
