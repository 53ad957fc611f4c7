package config_test

import (
	"fmt"

	"github.com/pyro4/pyro4/nameserver/config"
)

func ExampleParse() {
	text := `
port = 9999
[nat]
host = "ns.example.com"
[[registration]]
name = "archive"
uri = "PYRO:archive@files.example.com:9100"
metadata = ["class:Archive"]
`
	c, err := config.Parse("/etc/pyro4/ns.toml", []byte(text), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	r, err := config.Resolve(config.ForServer, c.Layer())
	if err != nil {
		fmt.Println(err)
		return
	}
	s := r.Settings()
	fmt.Println(r.Source("port"), r.Source("host"))
	fmt.Println(s.Host, s.Port, s.NATHost, s.Static[0].Name, s.Static[0].URI)

	_, err = config.Parse("/etc/pyro4/ns.toml", []byte("port = 9999\n[[registration]]\nname = \"x\"\nuri = \"PYRO:x@h:port\"\n"), nil)
	fmt.Println(err)
	// Output:
	// /etc/pyro4/ns.toml:2 default
	// localhost 9999 ns.example.com archive PYRO:archive@files.example.com:9100
	// /etc/pyro4/ns.toml:4: registration "x": invalid uri "PYRO:x@h:port": PyroError: invalid port in uri, port=port
}
