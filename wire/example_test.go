package wire_test

import (
	"bytes"
	"fmt"

	"github.com/pyro4/pyro4/wire"
)

func ExampleParseURI() {
	u, err := wire.ParseURI("pyroname:example.greeting@localhost")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(u, u.Protocol, u.Object, u.Host, u.Port)

	_, err = wire.ParseURI("PYRO:obj@localhost")
	fmt.Println(err)
	// Output:
	// PYRONAME:example.greeting@localhost:9090 PYRONAME example.greeting localhost 9090
	// PyroError: invalid port in uri, port=None
}

func ExampleURI_Value() {
	u, _ := wire.ParseURI("PYRO:obj_1@127.0.0.1:50000")
	fmt.Println(wire.Repr(u.Value()))
	// Output:
	// {'__class__': 'Pyro4.core.URI', 'state': ('PYRO', 'obj_1', None, '127.0.0.1', 50000)}
}

func ExampleMessage_Pack() {
	key := []byte("secret")
	req := &wire.Message{
		Type:         wire.MsgInvoke,
		Seq:          1,
		SerializerID: wire.SerpentID,
		Annotations:  []wire.Annotation{{Key: "CORR", Value: make([]byte, 16)}},
		Data:         []byte("('Pyro.NameServer','ping',(),{})"),
	}
	raw, err := req.Pack(key)
	if err != nil {
		fmt.Println(err)
		return
	}

	got, err := wire.ReadMessage(bytes.NewReader(raw), wire.Limits{MaxSize: 1 << 20, HMACKey: key})
	fmt.Println(len(raw), got.Seq, string(got.Data), err)

	_, err = wire.ReadMessage(bytes.NewReader(raw), wire.Limits{HMACKey: []byte("wrong")})
	fmt.Println(err)
	// Output:
	// 104 1 ('Pyro.NameServer','ping',(),{}) <nil>
	// SecurityError: message hmac mismatch
}

func ExampleRepr() {
	fmt.Println(wire.Repr(wire.List{"it's", 1e16, wire.Tuple{int64(1)}, wire.Set{}, []byte("\x00")}))
	// Output:
	// ["it's", 1e+16, (1,), set(), b'\x00']
}
