// Package pickle is Pyro4's PickleSerializer: a restricted unpickler for
// protocols 0 to 5 that builds only values of wire's value model and
// refuses every class but the few Pyro4 sends, and a protocol 2 pickler.
//
// The package registers its codec with wire in init; import it for that
// effect (or wire/codecs for every serializer). A Pyro4 peer only uses it
// when the server accepts pickle, which is not the default.
//
// Files: codec.go, opcodes.go, encode.go (the pickler), decode.go and
// ops.go (the unpickler's machine and its opcodes), classes.go (the classes
// it may build), convert.go (the unpickler's objects to wire values). The
// golden files in testdata/golden are made by the real Pyro4 with
// wire/internal/codectest/testdata/gen_codecs.py.
package pickle
