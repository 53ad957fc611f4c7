// Command pyro4 is a Pyro4 name server and its client tools in one binary.
//
// Invoked as pyro4-ns, pyro4-nsc (or any pyro4-<sub> link) it runs that
// subcommand, so the binary drops in where the Python tools were installed.
package main

import (
	"os"

	"github.com/pyro4/pyro4/commands"
)

func main() {
	os.Exit(commands.Main(os.Args, os.Stdin, os.Stdout, os.Stderr))
}
