// Package serpent is Pyro4's default serializer, serpent 1.41: Python
// literal syntax, written as serpent.dumps writes it and read back with the
// grammar ast.literal_eval accepts.
//
// The package registers its codec with wire in init; import it for that
// effect (or wire/codecs for every serializer) and find the codec with
// wire.CodecByName("serpent"). It is the name server's hot path, so it has
// the fast paths wire offers as optional interfaces: wire.AppendMarshaler
// (a reply encoded into the server's output buffer) and wire.CallMarshaler
// (a call written without an intermediate tuple).
//
// Files: codec.go (the codec and its pooled buffers), encode.go, lex.go and
// decode.go (the tokens and the grammar), containers.go and keys.go (dicts
// and sets built with Python's key equality, serpent's float and bytes
// class dicts). The golden files in testdata/golden are made by the real
// Pyro4 with testdata/gen_serpent.py.
package serpent
