package main

// The load tool drives the name server in every serializer Pyro4 has.
import _ "github.com/pyro4/pyro4/wire/codecs"
