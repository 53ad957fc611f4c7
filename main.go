// Command pyro4 is a Pyro4 name server and its client tools in one binary.
//
// Invoked as pyro4-ns or pyro4-nsc (or pyro4-resolve, pyro4-locate) it runs
// that subcommand, so the binary drops in where the Python tools were
// installed; under any other name it is plain pyro4.
package main

import (
	"os"

	"github.com/pyro4/pyro4/commands"
)

func main() {
	os.Exit(commands.Main(os.Args, os.Stdin, os.Stdout, os.Stderr))
}
