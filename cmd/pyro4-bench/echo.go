package main

import (
	"bufio"
	"fmt"
	"net"
	"sync"

	"github.com/pyro4/pyro4/wire"
)

// echoServer is the physical floor: a TCP server that reads each message
// and writes back a canned reply of exactly the size of a lookup reply (the
// same bytes our name server sends, with the request's sequence number).
// It frames messages with wire, as every server does, and does nothing else.
type echoServer struct {
	ln      net.Listener
	replies map[uint16]*cannedReplies
	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	closed  bool
	wg      sync.WaitGroup
}

// cannedReplies are the two answers, serialized once; only Seq changes.
type cannedReplies struct{ connectOK, result wire.Message }

// echoCorrelation stands in for the random CORR annotation a daemon adds.
var echoCorrelation = []byte("0123456789abcdef")

func cannedFor(codec wire.Codec) (*cannedReplies, error) {
	u, err := wire.ParseURI(benchURI(0))
	if err != nil {
		return nil, err
	}
	msg := func(typ uint16, v wire.Value) (wire.Message, error) {
		data, err := codec.Marshal(v)
		if err != nil {
			return wire.Message{}, err
		}
		return wire.Message{Type: typ, SerializerID: codec.ID(), Data: data,
			Annotations: []wire.Annotation{{Key: "CORR", Value: echoCorrelation}}}, nil
	}
	var c cannedReplies
	if c.connectOK, err = msg(wire.MsgConnectOK, "hello"); err != nil {
		return nil, err
	}
	if c.result, err = msg(wire.MsgResult, u.Value()); err != nil {
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
	b, err := c.result.Pack(nil)
	if err != nil {
		return 0
	}
	return len(b)
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
	var in wire.Message
	buf := make([]byte, 0, 4096)
	var out []byte
	for {
		next, _, err := wire.ReadMessageInto(br, wire.Limits{}, &in, buf)
		if err != nil {
			return
		}
		buf = next
		canned := e.replies[in.SerializerID]
		if canned == nil {
			return
		}
		reply := canned.result
		if in.Type == wire.MsgConnect {
			reply = canned.connectOK
		}
		reply.Seq = in.Seq
		if out, err = reply.AppendPack(out[:0], nil); err != nil {
			return
		}
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
