package config

// SERIALIZERS_ACCEPTED is checked against the names of every serializer
// Pyro4 has.
import _ "github.com/pyro4/pyro4/wire/codecs"
