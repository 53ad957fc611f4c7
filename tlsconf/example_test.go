package tlsconf_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"log"
	"net"
	"os"
	"time"

	"github.com/pyro4/pyro4/tlsconf"
)

// A server that rotates its certificate, and a client connecting to the
// host of a URI. The files come from the environment as in Pyro4.
func Example() {
	s, err := tlsconf.FromEnv(tlsconf.Settings{}, os.LookupEnv)
	if err != nil {
		log.Fatal(err)
	}
	if !s.SSL {
		fmt.Println("plain")
		return
	}
	r, err := tlsconf.NewReloader(s)
	if err != nil {
		log.Fatal(err) // names the missing item or the file at fault
	}
	go r.Watch(context.Background(), time.Minute, func(e tlsconf.ReloadEvent) {
		if e.Err != nil {
			log.Printf("certificate reload failed, still serving %s: %v", e.Leaf.Subject, e.Err)
		}
	})
	ln, err := net.Listen("tcp", "127.0.0.1:9090")
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				tc := tls.Server(c, r.Config())
				tc.SetDeadline(time.Now().Add(10 * time.Second))
				if err := tc.Handshake(); err != nil {
					log.Print(tlsconf.ServerError(err, c.RemoteAddr().String()))
					c.Close()
					return
				}
				tc.SetDeadline(time.Time{})
				// ... serve Pyro on tc
			}()
		}
	}()

	client, err := tlsconf.ClientConfig(s)
	if err != nil {
		log.Fatal(err)
	}
	conn, err := tls.Dial("tcp", "127.0.0.1:9090", tlsconf.ForHost(client, "127.0.0.1"))
	if err != nil {
		log.Fatal(tlsconf.ClientError(err, "127.0.0.1:9090", len(client.Certificates) > 0))
	}
	conn.Close()
}

func ExampleParseBool() {
	for _, v := range []string{"yes", "Off", "1", "enabled"} {
		b, err := tlsconf.ParseBool(v)
		fmt.Println(v, b, err != nil)
	}
	// Output:
	// yes true false
	// Off false false
	// 1 true false
	// enabled false true
}

func ExampleLooksLikeTLS() {
	fmt.Println(tlsconf.LooksLikeTLS([]byte("\x16\x03\x01\x00\xc4")), tlsconf.LooksLikeTLS([]byte("PYRO\x000")))
	// Output: true false
}
