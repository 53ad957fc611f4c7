// Package codecs registers every serializer of the Pyro4 protocol with
// package wire: serpent, json, marshal, msgpack and pickle. Import it for
// its effect,
//
//	import _ "github.com/pyro4/pyro4/wire/codecs"
//
// in a program that promises all of Pyro4's serializers (the name server,
// the locator); a program that needs fewer imports the codec packages it
// uses (wire/serpent, ...) the same way.
package codecs

import (
	_ "github.com/pyro4/pyro4/wire/json"
	_ "github.com/pyro4/pyro4/wire/marshal"
	_ "github.com/pyro4/pyro4/wire/msgpack"
	_ "github.com/pyro4/pyro4/wire/pickle"
	_ "github.com/pyro4/pyro4/wire/serpent"
)
