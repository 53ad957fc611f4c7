package wire

import (
	"errors"
	"fmt"
)

// This file holds the errors of every codec: all are Pyro4 SerializeErrors
// whose message names the codec, as a Pyro4 peer reports a payload it
// cannot (de)serialize.

// CodecError returns a SerializeError whose message names the codec, the way a
// Pyro4 peer would report a payload it cannot (de)serialize.
func CodecError(codec, format string, a ...any) error {
	return &Exception{Class: ClassSerializeError, Message: codec + ": " + fmt.Sprintf(format, a...)}
}

// ErrDecoderPanic marks an error that is a decoder's recovered panic: a bug
// in this package, never a verdict on the input. The error also wraps a
// SerializeError, which is what the peer is told, so a server keeps serving;
// tests and fuzz targets look for the mark with errors.Is.
var ErrDecoderPanic = errors.New("decoder panic")

// RecoverPanic turns a decoder bug into an error instead of a crashed
// server: defer it with the function's named error. Decoders check bounds
// themselves; this is the second line.
func RecoverPanic(codec string, err *error) {
	if r := recover(); r != nil {
		*err = PanicError(codec, r)
	}
}

// PanicError is the error for a panic r recovered in codec's decoder.
func PanicError(codec string, r any) error {
	return fmt.Errorf("%w (%w)", CodecError(codec, "internal error: %v", r), ErrDecoderPanic)
}

// Truncate shortens s to n bytes and an ellipsis for an error message, so
// that a hostile payload is not echoed in full.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
