// Package codectest holds what the tests of wire and of its codec packages
// share: the golden cases of testdata/gen_codecs.py as Go values and the
// checks run on them, the class check's cases, the properties every decoder
// fuzz target checks, the comparison with the real Pyro4's loads, strict
// value equality and the benchmark payloads.
//
// Only tests import it. A codec package's tests call its checks with the
// codec's name; the golden files are in that package's testdata/golden.
package codectest
