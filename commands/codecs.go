package commands

// The client commands take any serializer Pyro4 has (PYRO_SERIALIZER).
import _ "github.com/pyro4/pyro4/wire/codecs"
