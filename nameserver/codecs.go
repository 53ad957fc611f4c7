package nameserver

// The name server accepts and answers in every serializer Pyro4 has, as
// SERIALIZERS_ACCEPTED allows.
import _ "github.com/pyro4/pyro4/wire/codecs"
