// Package msgpack is Pyro4's MsgpackSerializer: msgpack.packb with
// use_bin_type=True and unpackb with raw=False, with Pyro4's extension
// types for complex numbers and big ints.
//
// The package registers its codec with wire in init; import it for that
// effect (or wire/codecs for every serializer). Pyro4's msgpack serializer
// recreates classes bottom up (its object_hook runs as each map ends);
// wire's class check applies that order for this codec.
//
// Files: codec.go, encode.go, decode.go. The golden files in testdata/golden
// are made by the real Pyro4 with wire/internal/codectest/testdata/gen_codecs.py.
package msgpack
