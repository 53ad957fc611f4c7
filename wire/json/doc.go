// Package json is Pyro4's JsonSerializer: Python's json module with
// ensure_ascii=False, byte for byte as json.dumps writes it.
//
// The package registers its codec with wire in init; import it for that
// effect (or wire/codecs for every serializer). A call travels in json as an
// object with named parts, not as the 4-tuple of the other serializers;
// wire.MarshalCall and wire.UnmarshalCall know that form.
//
// Files: codec.go, encode.go, decode.go. The golden files in testdata/golden
// are made by the real Pyro4 with wire/internal/codectest/testdata/gen_codecs.py.
package json
