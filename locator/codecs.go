package locator

// The locator speaks to a name server in whichever serializer it is given
// (PYRO_SERIALIZER), so every one Pyro4 has is registered.
import _ "github.com/pyro4/pyro4/wire/codecs"
