// Package marshal is Pyro4's MarshalSerializer: CPython's marshal format,
// version 4, as Python 3.11's marshal.dumps writes it.
//
// The package registers its codec with wire in init; import it for that
// effect (or wire/codecs for every serializer). The decoder follows
// back-references within wire.NodeBudget, so a few bytes cannot expand
// into a huge value.
//
// Files: codec.go (the codec and the type codes), encode.go, decode.go. The
// golden files in testdata/golden are made by the real Pyro4 with
// wire/internal/codectest/testdata/gen_codecs.py.
package marshal
