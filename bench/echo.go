package main

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"

	"github.com/pyro4/pyro4/wire"
)

// echoServer is the physical floor: a TCP server that reads each message's
// header, skips its body, and writes back a canned reply of exactly the
// size of a lookup reply (the same bytes our name server sends, with the
// sequence number patched in). It does the socket work of a server and
// nothing else.
type echoServer struct {
	ln      net.Listener
	replies map[uint16]*cannedReplies
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	closed  bool
	wg      sync.WaitGroup
}

type cannedReplies struct{ connectOK, result []byte }

// echoCorrelation stands in for the random CORR annotation a daemon adds.
var echoCorrelation = []byte("0123456789abcdef")

func cannedFor(codec wire.Codec) (*cannedReplies, error) {
	u, err := wire.ParseURI(benchURI(0))
	if err != nil {
		return nil, err
	}
	pack := func(typ uint16, v wire.Value) ([]byte, error) {
		data, err := codec.Marshal(v)
		if err != nil {
			return nil, err
		}
		m := wire.Message{Type: typ, SerializerID: codec.ID(), Data: data,
			Annotations: []wire.Annotation{{Key: "CORR", Value: echoCorrelation}}}
		return m.Pack(nil)
	}
	var c cannedReplies
	if c.connectOK, err = pack(wire.MsgConnectOK, "hello"); err != nil {
		return nil, err
	}
	if c.result, err = pack(wire.MsgResult, u.Value()); err != nil {
		return nil, err
	}
	return &c, nil
}

// lookupReplySize is the size of the reply the echo server sends.
func lookupReplySize(codec wire.Codec) int {
	c, err := cannedFor(codec)
	if err != nil {
		return 0
	}
	return len(c.result)
}

func startEcho(addr string) (*echoServer, error) {
	e := &echoServer{replies: map[uint16]*cannedReplies{}, conns: map[net.Conn]struct{}{}}
	for _, name := range []string{"serpent", "json", "marshal"} {
		codec, _ := wire.CodecByName(name)
		c, err := cannedFor(codec)
		if err != nil {
			return nil, fmt.Errorf("echo reply for %s: %w", name, err)
		}
		e.replies[codec.ID()] = c
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("echo server: %w", err)
	}
	e.ln = ln
	e.wg.Add(1)
	go e.serve()
	return e, nil
}

func (e *echoServer) addr() string { return e.ln.Addr().String() }

func (e *echoServer) serve() {
	defer e.wg.Done()
	for {
		c, err := e.ln.Accept()
		if err != nil {
			return // closed; the floor does not need accept retries
		}
		c.(*net.TCPConn).SetNoDelay(true)
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			c.Close()
			return
		}
		e.conns[c] = struct{}{}
		e.wg.Add(1)
		e.mu.Unlock()
		go func() {
			defer e.wg.Done()
			e.handle(c)
			c.Close()
			e.mu.Lock()
			delete(e.conns, c)
			e.mu.Unlock()
		}()
	}
}

func (e *echoServer) handle(c net.Conn) {
	br := bufio.NewReaderSize(c, 8192)
	var h [wire.HeaderSize]byte
	var out []byte
	be := binary.BigEndian
	for {
		if _, err := io.ReadFull(br, h[:]); err != nil {
			return
		}
		body := int(be.Uint32(h[12:])) + int(be.Uint16(h[18:]))
		if _, err := br.Discard(body); err != nil {
			return
		}
		canned := e.replies[be.Uint16(h[16:])]
		if canned == nil {
			return
		}
		tmpl := canned.result
		if be.Uint16(h[6:]) == wire.MsgConnect {
			tmpl = canned.connectOK
		}
		out = append(out[:0], tmpl...)
		// The canned reply has seq 0, and the checksum is a sum mod 2^16.
		seq := be.Uint16(h[10:])
		be.PutUint16(out[10:], seq)
		be.PutUint16(out[22:], be.Uint16(tmpl[22:])+seq)
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

func (e *echoServer) close() error {
	e.mu.Lock()
	e.closed = true
	for c := range e.conns {
		c.Close()
	}
	e.mu.Unlock()
	err := e.ln.Close()
	e.wg.Wait()
	return err
}
