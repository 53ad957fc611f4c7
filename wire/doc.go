// Package wire is the Pyro4 protocol (version 48) as both the name server and
// the client tools speak it.
//
// It has these parts, each independent of how the others are used:
//
//   - Message (message.go): the 24-byte header, annotation chunks, HMAC-SHA1
//     signing and verification, zlib compression, and the size limit that is
//     enforced before a body is allocated.
//   - Value (value.go, repr.go): one Go representation of the Python values
//     that cross the wire. Codecs produce and consume only these types, so
//     the server's dispatch never sees serializer bytes and a codec never
//     sees dispatch.
//   - Codec (codec.go): the slim interface a serializer implements (ID,
//     Name, Marshal, Unmarshal, as grpc-go's encoding.Codec), the registry
//     (Register, CodecByName, CodecByID) and the optional fast paths
//     (AppendMarshaler, CallMarshaler). The serializers are packages of
//     their own, wire/serpent, wire/json, wire/marshal, wire/msgpack and
//     wire/pickle, which register themselves in init, as image formats do;
//     a blank import of wire/codecs registers all five.
//   - Call (call.go, classes.go, classes_state.go): the call layer, once for
//     every codec: the forms in which each Pyro4 serializer sends (object,
//     method, args, kwargs), the checks on the four parts, Pyro4's
//     dict_to_class check on the arguments (and on handshake data,
//     UnmarshalData), and the recovery of a decoder's panic.
//   - Python value semantics for the codecs (pykey.go, budget.go,
//     escape.go, codecerr.go, pyclasses.go): dict and set building with
//     Python's key equality, CPython's int-digit limit and the size budget
//     of back-references, the escapes of Python and JSON literals, the
//     SerializeErrors every codec reports, and the Python exception classes.
//     Every codec package imports these from here; no codec imports another.
//   - str (surrogate.go): a Python str is held as its surrogatepass bytes,
//     UTF-8 in which a lone surrogate keeps its three-byte form, so distinct
//     strs never merge; each codec reads and writes surrogates as Python
//     does, or refuses them where its format cannot carry them.
//   - URI, Proxy and Exception (uri.go, proxy.go, exception.go): Pyro4's
//     core.URI parsing and the class-dict forms in which URIs, proxies and
//     exceptions travel.
//
// The package imports nothing else of this project; its codec packages
// import it, and wire/internal/codectest holds what their tests share.
package wire
