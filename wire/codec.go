package wire

import (
	"fmt"
	"sort"
	"strings"
)

// Serializer ids as Pyro4 assigns them.
const (
	SerpentID     = 1
	JSONID        = 2
	MarshalID     = 3
	PickleID      = 4
	DillID        = 5
	MsgpackID     = 6
	CloudpickleID = 7
)

// Codec turns Values into one serializer's bytes and back, as grpc-go's
// encoding.Codec does for messages. Implementations are safe for concurrent
// use. Decoders never panic on hostile input and bound nesting depth; they
// return values of the Value model only. How a call is laid out in a
// serializer, and which classes it may carry, is not a codec's business:
// MarshalCall, UnmarshalCall and UnmarshalData in this package decide it
// once for every codec.
type Codec interface {
	ID() uint16
	Name() string
	Marshal(v Value) ([]byte, error)
	Unmarshal(data []byte) (Value, error)
}

// AppendMarshaler is implemented by codecs that can encode a value straight
// into a caller's buffer, so a server builds a reply in its output buffer
// without an intermediate copy. AppendMarshal appends exactly the bytes
// Marshal(v) returns to dst and returns the extended slice; on error it
// returns dst with its original length (the bytes past it are garbage).
// The serpent, json and marshal codecs implement it; check for it with a
// type assertion and fall back to Marshal.
type AppendMarshaler interface {
	AppendMarshal(dst []byte, v Value) ([]byte, error)
}

// MaxDepth bounds the nesting of containers a decoder accepts.
const MaxDepth = 200

var (
	byID   = map[uint16]Codec{}
	byName = map[string]Codec{}
)

// register is called from each codec file's init.
func Register(c Codec) {
	byID[c.ID()] = c
	byName[c.Name()] = c
}

// CodecByID returns the codec for a serializer id.
func CodecByID(id uint16) (Codec, bool) {
	c, ok := byID[id]
	return c, ok
}

// CodecByName returns the codec for a serializer name ("serpent", "json", ...).
func CodecByName(name string) (Codec, bool) {
	c, ok := byName[strings.ToLower(strings.TrimSpace(name))]
	return c, ok
}

// CodecNames lists the names of all registered codecs, sorted.
func CodecNames() []string {
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// DefaultAccepted is Pyro4's default SERIALIZERS_ACCEPTED.
var DefaultAccepted = []string{"serpent", "marshal", "json"}

// Accepted is a set of serializer ids a server will deserialize.
type Accepted map[uint16]bool

// ParseAccepted reads a SERIALIZERS_ACCEPTED value as Pyro4 does: names
// separated by commas and nothing else, each spelled exactly as the
// serializer's name. A name that is not one, the empty name included ("",
// "json,", " json"), is Pyro4's SerializeError("serializer 'x' is unknown or
// not available"); the first such name in s is reported.
func ParseAccepted(s string) (Accepted, error) {
	acc := Accepted{}
	for _, n := range strings.Split(s, ",") {
		c, ok := byName[n]
		if !ok {
			return nil, &Exception{Class: ClassSerializeError, Message: fmt.Sprintf("serializer '%s' is unknown or not available", n)}
		}
		acc[c.ID()] = true
	}
	return acc, nil
}

// Names lists the accepted serializer names, sorted.
func (a Accepted) Names() []string {
	var out []string
	for id := range a {
		if c, ok := byID[id]; ok {
			out = append(out, c.Name())
		}
	}
	sort.Strings(out)
	return out
}
