// Package wire is the Pyro4 protocol (version 48) as both the name server and
// the client tools speak it.
//
// It has four parts, each independent of how the others are used:
//
//   - Message (message.go): the 24-byte header, annotation chunks, HMAC-SHA1
//     signing and verification, zlib compression, and the size limit that is
//     enforced before a body is allocated.
//   - Value (value.go): one Go representation of the Python values that cross
//     the wire. Codecs produce and consume only these types, so the server's
//     dispatch never sees serializer bytes and a codec never sees dispatch.
//   - Codec (codec.go and one file per serializer): serpent, json, marshal,
//     msgpack and pickle, registered by id and by name.
//   - URI and Exception (uri.go, exception.go): Pyro4's core.URI parsing and
//     the class-dict forms in which URIs and exceptions travel.
//
// The package imports nothing else of this project.
package wire
