package metrics

import "strings"

// The method label's values: the NameServer methods and the Daemon
// object's, then "other" for any name a client may send. A fixed set keeps
// the series count bounded whatever clients call.
const (
	mPing = iota
	mCount
	mLookup
	mRegister
	mSetMetadata
	mRemove
	mList
	mRegistered
	mInfo
	mGetMetadata
	mGetNextStreamItem
	mCloseStream
	mOther
	numMethods
)

func methodNames() [numMethods]string {
	return [numMethods]string{"ping", "count", "lookup", "register", "set_metadata", "remove", "list",
		"registered", "info", "get_metadata", "get_next_stream_item", "close_stream", "other"}
}

func methodLabel(i int) string { return methodNames()[i] }

// methodIndex is a switch, not a map, so that resolving a label costs a few
// string compares and never allocates.
func methodIndex(method string) int {
	switch method {
	case "ping":
		return mPing
	case "count":
		return mCount
	case "lookup":
		return mLookup
	case "register":
		return mRegister
	case "set_metadata":
		return mSetMetadata
	case "remove":
		return mRemove
	case "list":
		return mList
	case "registered":
		return mRegistered
	case "info":
		return mInfo
	case "get_metadata":
		return mGetMetadata
	case "get_next_stream_item":
		return mGetNextStreamItem
	case "close_stream":
		return mCloseStream
	}
	return mOther
}

// The outcome label's values: ok, the Pyro4 error classes and the Python
// built-in exceptions a name server call can raise, then "other".
const (
	oOK = iota
	oPyroError
	oCommunicationError
	oConnectionClosedError
	oTimeoutError
	oProtocolError
	oMessageTooLargeError
	oNamingError
	oDaemonError
	oSecurityError
	oSerializeError
	oTypeError
	oValueError
	oAttributeError
	oKeyError
	oOther
	numOutcomes
)

func outcomeNames() [numOutcomes]string {
	return [numOutcomes]string{"ok", "PyroError", "CommunicationError", "ConnectionClosedError",
		"TimeoutError", "ProtocolError", "MessageTooLargeError", "NamingError", "DaemonError",
		"SecurityError", "SerializeError", "TypeError", "ValueError", "AttributeError", "KeyError", "other"}
}

func outcomeLabel(i int) string { return outcomeNames()[i] }

// outcomeIndex takes the class with or without its module: the server has
// the qualified name ("Pyro4.errors.NamingError", "builtins.TypeError").
func outcomeIndex(outcome string) int {
	if i := strings.LastIndexByte(outcome, '.'); i >= 0 {
		outcome = outcome[i+1:]
	}
	switch outcome {
	case "", "ok":
		return oOK
	case "PyroError":
		return oPyroError
	case "CommunicationError":
		return oCommunicationError
	case "ConnectionClosedError":
		return oConnectionClosedError
	case "TimeoutError":
		return oTimeoutError
	case "ProtocolError":
		return oProtocolError
	case "MessageTooLargeError":
		return oMessageTooLargeError
	case "NamingError":
		return oNamingError
	case "DaemonError":
		return oDaemonError
	case "SecurityError":
		return oSecurityError
	case "SerializeError":
		return oSerializeError
	case "TypeError":
		return oTypeError
	case "ValueError":
		return oValueError
	case "AttributeError":
		return oAttributeError
	case "KeyError":
		return oKeyError
	}
	return oOther
}
