package msgpack

import (
	"errors"
	"testing"

	"github.com/pyro4/pyro4/wire"
	"github.com/pyro4/pyro4/wire/internal/codectest"
)

// TestMsgpackSurrogates: msgpack's str is UTF-8, which cannot hold a
// surrogate. Python's msgpack refuses to write one (UnicodeEncodeError) and
// to read one; so does this codec, with the same error text, rather than
// send a str the peer would read as another.
func TestMsgpackSurrogates(t *testing.T) {
	for _, in := range [][]byte{
		[]byte("\xa6col\xed\xa0\x80"),
		[]byte("\x92\xa3abc\xa3\xed\xbf\xbf"),
	} {
		v, err := codec{}.Unmarshal(in)
		var x *wire.Exception
		if !errors.As(err, &x) || x.Class != wire.ClassSerializeError {
			t.Errorf("Unmarshal(%q) = %s, %v; want a SerializeError", in, wire.Repr(v), err)
		}
	}
	py := codectest.SurrogateCheck{
		Codec: "msgpack",
		Dumps: "Pyro4.util.MsgpackSerializer().dumps", Loads: "Pyro4.util.MsgpackSerializer().loads",
		Refused: codectest.SurrogateCase.HasSurrogate, PyDumpFails: codectest.SurrogateCase.HasSurrogate,
		SameBytes: true,
	}.Run(t)
	for i, c := range codectest.SurrogateCases {
		if !c.HasSurrogate() {
			continue
		}
		_, err := codec{}.Marshal(c.Value())
		if err == nil || err.Error() != py[i].DumpErr {
			t.Errorf("%s: we refuse with %v, Python with %s", c.Name, err, py[i].DumpErr)
		}
	}
	// Python reads none of them either.
	out := codectest.PythonLoads(t, "Pyro4.util.MsgpackSerializer().loads", [][]byte{[]byte("\xa6col\xed\xa0\x80")})
	if ok, _ := out[0].Verdict(); ok {
		t.Errorf("Python's msgpack reads a str with a surrogate: %+v", out[0])
	}
}
