// Package attack holds the reliability suite: tests that build the pyro4
// binary, attack it on loopback as a hostile or careless client would, and
// assert bounds on what that costs the server (resident memory read from
// /proc, refusal of damaged store files). The package has no code of its
// own; docs/reliability.md lists each attack, its bound and its figures.
//
// The fast variants run with go test ./...; the heavy ones (a 1 GiB body)
// run with PYRO4_ATTACK_HEAVY=1, which is what make attack sets.
// PYRO4_ATTACK_BIN=/path/to/pyro4 attacks that binary instead of building
// one, to measure another build (docs/reliability.md's "before" figures
// are main's binary run this way).
package attack
