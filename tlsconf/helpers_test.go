package tlsconf

import (
	"bufio"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"testing"
	"time"
)

// echoServer serves TLS on loopback with cfg: each connection handshakes
// under a deadline, then echoes lines. Handshake errors go to errs.
type echoServer struct {
	ln   net.Listener
	errs chan error
	wg   sync.WaitGroup
}

func startEcho(t *testing.T, cfg *tls.Config) *echoServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return startEchoOn(t, ln, cfg)
}

func startEchoOn(t *testing.T, ln net.Listener, cfg *tls.Config) *echoServer {
	t.Helper()
	s := &echoServer{ln: ln, errs: make(chan error, 16)}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				tc := tls.Server(c, cfg)
				tc.SetDeadline(time.Now().Add(5 * time.Second))
				if err := tc.Handshake(); err != nil {
					select {
					case s.errs <- ServerError(err, c.RemoteAddr().String()):
					default:
					}
					return
				}
				r := bufio.NewReader(tc)
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if _, err := tc.Write([]byte(line)); err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *echoServer) addr() string { return s.ln.Addr().String() }

// serverErr waits (bounded) for the server's handshake error.
func (s *echoServer) serverErr(t *testing.T) error {
	t.Helper()
	select {
	case err := <-s.errs:
		return err
	case <-time.After(5 * time.Second):
		t.Fatal("no server handshake error within 5s")
		return nil
	}
}

// dialEcho connects with cfg for host, handshakes, and does one echo
// exchange (under TLS 1.3 a refused client certificate shows only there).
// It returns the connection for further use, or the explained error.
func dialEcho(t *testing.T, addr, host string, cfg *tls.Config) (*tls.Conn, error) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	tc := tls.Client(c, ForHost(cfg, host))
	tc.SetDeadline(time.Now().Add(5 * time.Second))
	sent := len(cfg.Certificates) > 0
	if err := tc.Handshake(); err != nil {
		c.Close()
		return nil, ClientError(err, addr, sent)
	}
	if err := echo(tc, "hello"); err != nil {
		c.Close()
		return nil, ClientError(err, addr, sent)
	}
	t.Cleanup(func() { tc.Close() })
	return tc, nil
}

func echo(c *tls.Conn, msg string) error {
	if _, err := c.Write([]byte(msg + "\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != msg+"\n" {
		return errors.New("echo: got " + line)
	}
	return nil
}

func reasonOf(err error) Reason {
	var he *HandshakeError
	if errors.As(err, &he) {
		return he.Reason
	}
	return ReasonOther
}
