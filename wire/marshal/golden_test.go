package marshal

import (
	"testing"

	"github.com/pyro4/pyro4/wire/internal/codectest"
)

// The cases of wire/internal/codectest/testdata/gen_codecs.py, whose golden
// files are in testdata/golden.

// TestGoldenDecode decodes the bytes the real Pyro4 produced.
func TestGoldenDecode(t *testing.T) { codectest.GoldenDecode(t, "marshal") }

// TestGoldenBytes compares our encoding with the real Pyro4's bytes.
func TestGoldenBytes(t *testing.T) { codectest.GoldenBytes(t, "marshal") }

// TestGoldenRoundTrip decodes our own encoding of every case.
func TestGoldenRoundTrip(t *testing.T) { codectest.RoundTrip(t, "marshal") }

// TestGoldenPythonLoads feeds our encoding of every case to the real Pyro4
// serializer, which compares the result with the case's value.
func TestGoldenPythonLoads(t *testing.T) { codectest.PythonLoadsCases(t, "marshal") }
