package wire

// This file holds the Python exception classes that Pyro4 peers send and
// the class check and the pickle codec recreate: Pyro4's own, Python 3.11's
// builtins and the subset Python 2 shares. The tables are read-only.

// IsPyroErrorClass reports whether name is a class of Pyro4.errors.
func IsPyroErrorClass(name string) bool { return pyroErrorClasses[name] }

// IsBuiltinException reports whether name is a builtin exception class of
// Python 3.11, the exception groups excepted.
func IsBuiltinException(name string) bool { return builtinExceptions[name] }

// IsPython2Exception reports whether name is a builtin exception class that
// Python 2 has too.
func IsPython2Exception(name string) bool { return python2Exceptions[name] }

// pyroErrorClasses are the classes of Pyro4.errors.
var pyroErrorClasses = nameSet("PyroError", "CommunicationError", "ConnectionClosedError", "TimeoutError",
	"ProtocolError", "MessageTooLargeError", "NamingError", "DaemonError", "SecurityError", "SerializeError")

// builtinExceptions are Python 3.11's builtin exception classes (without the
// exception groups, whose constructor takes more than plain args).
var builtinExceptions = nameSet("ArithmeticError", "AssertionError", "AttributeError", "BaseException",
	"BlockingIOError", "BrokenPipeError", "BufferError", "BytesWarning", "ChildProcessError",
	"ConnectionAbortedError", "ConnectionError", "ConnectionRefusedError", "ConnectionResetError",
	"DeprecationWarning", "EOFError", "EncodingWarning", "EnvironmentError", "Exception", "FileExistsError",
	"FileNotFoundError", "FloatingPointError", "FutureWarning", "GeneratorExit", "IOError", "ImportError",
	"ImportWarning", "IndentationError", "IndexError", "InterruptedError", "IsADirectoryError", "KeyError",
	"KeyboardInterrupt", "LookupError", "MemoryError", "ModuleNotFoundError", "NameError",
	"NotADirectoryError", "NotImplementedError", "OSError", "OverflowError", "PendingDeprecationWarning",
	"PermissionError", "ProcessLookupError", "RecursionError", "ReferenceError", "ResourceWarning",
	"RuntimeError", "RuntimeWarning", "StopAsyncIteration", "StopIteration", "SyntaxError", "SyntaxWarning",
	"SystemError", "SystemExit", "TabError", "TimeoutError", "TypeError", "UnboundLocalError",
	"UnicodeDecodeError", "UnicodeEncodeError", "UnicodeError", "UnicodeTranslateError", "UnicodeWarning",
	"UserWarning", "ValueError", "Warning", "ZeroDivisionError")

// python2Exceptions are the builtin exceptions Python 2 has too; Python 3's
// protocol 2 pickler names them in the "exceptions" module so that Python 2
// finds them, and Python 3 maps that name back on load.
var python2Exceptions = nameSet("ArithmeticError", "AssertionError", "AttributeError", "BaseException",
	"BufferError", "BytesWarning", "DeprecationWarning", "EOFError", "EnvironmentError", "Exception",
	"FloatingPointError", "FutureWarning", "GeneratorExit", "IOError", "ImportError", "ImportWarning",
	"IndentationError", "IndexError", "KeyError", "KeyboardInterrupt", "LookupError", "MemoryError",
	"NameError", "NotImplementedError", "OSError", "OverflowError", "PendingDeprecationWarning",
	"ReferenceError", "RuntimeError", "RuntimeWarning", "StopIteration", "SyntaxError", "SyntaxWarning",
	"SystemError", "SystemExit", "TabError", "TypeError", "UnboundLocalError", "UnicodeDecodeError",
	"UnicodeEncodeError", "UnicodeError", "UnicodeTranslateError", "UnicodeWarning", "UserWarning",
	"ValueError", "Warning", "ZeroDivisionError")

// nameSet builds one of the read-only name tables of this file.
func nameSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}
