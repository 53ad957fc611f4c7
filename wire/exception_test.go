package wire

import (
	"errors"
	"fmt"
	"testing"
)

func TestExceptionMatchesPyro4(t *testing.T) {
	for _, c := range loadGoldenValues(t).Exceptions {
		v, want := taggedValue(t, c[0]), jsonString(t, c[1])
		e, ok := ExceptionFromValue(v)
		if !ok {
			t.Fatalf("not recognised: %s", Repr(v))
		}
		if e.Text() != want {
			t.Errorf("Text() = %q, Python str(): %q", e.Text(), want)
		}
		if e.Error() != e.ShortClass()+": "+want {
			t.Errorf("Error() = %q", e.Error())
		}
		if got := e.Value(); !Equal(got, v) || Repr(got) != Repr(v) {
			t.Errorf("Value() = %s, Pyro4: %s", Repr(got), Repr(v))
		}
	}
}

func TestExceptionRoundTrip(t *testing.T) {
	tests := []*Exception{
		NewException(ClassNamingError, "unknown name: %s", "x"),
		{Class: ClassPyroError, Message: "100% literal"},
		{Class: ClassProtocolError, Args: Tuple{"a", int64(1)}},
		{Class: ClassPyroError, Args: Tuple{}},
		{Class: ClassValueError, Args: Tuple{int64(5)}},
		{Class: "mymodule.Custom", Message: "m", Attributes: dictOf("code", int64(3))},
		NewException(ClassNamingError, "x").WithTraceback([]string{"Traceback...\n", "NamingError: x\n"}),
	}
	for _, e := range tests {
		back, ok := ExceptionFromValue(e.Value())
		if !ok {
			t.Fatalf("%v: not recognised", e)
		}
		if back.Class != e.Class || back.Text() != e.Text() || !Equal(back.Value(), e.Value()) {
			t.Errorf("round trip %s -> %s", Repr(e.Value()), Repr(back.Value()))
		}
		if fmt.Sprint(back.Traceback()) != fmt.Sprint(e.Traceback()) {
			t.Errorf("traceback %q, want %q", back.Traceback(), e.Traceback())
		}
	}
}

func TestExceptionFromValueRecognition(t *testing.T) {
	tests := []struct {
		name string
		v    Value
		ok   bool
	}{
		{"pyro error without flag", dictOf("__class__", ClassNamingError, "args", List{"x"}), true},
		{"builtin without flag", dictOf("__class__", ClassValueError, "args", Tuple{"x"}), false},
		{"builtin with false flag", dictOf("__class__", ClassValueError, "__exception__", false), false},
		{"builtin with truthy flag", dictOf("__class__", ClassValueError, "__exception__", int64(1)), true},
		{"uri dict", URI{Protocol: "PYRONAME", Object: "x"}.Value(), false},
		{"class not a str", dictOf("__class__", int64(1), "__exception__", true), false},
		{"not a dict", List{}, false},
	}
	for _, tt := range tests {
		if _, ok := ExceptionFromValue(tt.v); ok != tt.ok {
			t.Errorf("%s: recognised = %v", tt.name, ok)
		}
	}
	e, _ := ExceptionFromValue(dictOf("__class__", ClassNamingError, "args", List{"from json"}))
	if e.Message != "from json" || e.Args != nil || e.Attributes != nil {
		t.Errorf("json form: %+v", e)
	}
}

func TestWithTraceback(t *testing.T) {
	orig := &Exception{Class: ClassNamingError, Message: "x", Attributes: dictOf("extra", int64(1))}
	tb := orig.WithTraceback([]string{"line 1\n", "line 2\n"})
	if orig.Traceback() != nil || orig.Attributes.Len() != 1 {
		t.Fatal("WithTraceback changed the original")
	}
	if fmt.Sprint(tb.Traceback()) != fmt.Sprint([]string{"line 1\n", "line 2\n"}) {
		t.Fatalf("traceback %q", tb.Traceback())
	}
	if v, _ := tb.Attributes.GetString("extra"); v != int64(1) {
		t.Fatal("other attributes lost")
	}
	again := tb.WithTraceback([]string{"new\n"})
	if fmt.Sprint(again.Traceback()) != "[new\n]" || again.Attributes.Len() != 2 {
		t.Fatalf("replacing the traceback: %s", Repr(again.Attributes))
	}
	if fmt.Sprint(tb.Traceback()) != fmt.Sprint([]string{"line 1\n", "line 2\n"}) {
		t.Fatal("replacing changed the earlier copy")
	}
	want := "{'__class__': 'Pyro4.errors.NamingError', '__exception__': True, 'args': ('x',), " +
		"'attributes': {'extra': 1, '_pyroTraceback': ['line 1\\n', 'line 2\\n']}}"
	if got := Repr(tb.Value()); got != want {
		t.Errorf("Value() = %s", got)
	}
}

func TestExceptionIsError(t *testing.T) {
	var err error = fmt.Errorf("lookup %q: %w", "x", NewException(ClassNamingError, "unknown name: x"))
	var e *Exception
	if !errors.As(err, &e) || e.ShortClass() != "NamingError" {
		t.Fatalf("errors.As: %v", err)
	}
	if err.Error() != `lookup "x": NamingError: unknown name: x` {
		t.Errorf("Error() = %q", err.Error())
	}
	if (&Exception{Class: "NoModule"}).ShortClass() != "NoModule" {
		t.Error("ShortClass without a module")
	}
}

func TestExceptionWrapper(t *testing.T) {
	e := NewException(ClassNamingError, "unknown name: x")
	w := e.WrapperValue()
	want := "{'__class__': 'Pyro4.futures._ExceptionWrapper', 'exception': " + Repr(e.Value()) + "}"
	if got := Repr(w); got != want {
		t.Fatalf("WrapperValue() = %s\nwant %s", got, want)
	}
	tests := []struct {
		name    string
		v       Value
		wrapped Value
		ok      bool
	}{
		{"wrapper", w, e.Value(), true},
		{"wrapper of a non-exception", dictOf("__class__", ExceptionWrapperClass, "exception", int64(1)), int64(1), true},
		{"exception itself", e.Value(), nil, false},
		{"other class", dictOf("__class__", "Pyro4.futures.FutureResult", "exception", e.Value()), nil, false},
		{"not a dict", List{ExceptionWrapperClass}, nil, false},
	}
	for _, tt := range tests {
		got, ok := UnwrapException(tt.v)
		if ok != tt.ok || !Equal(got, tt.wrapped) {
			t.Errorf("%s: UnwrapException = %s, %v; want %s, %v", tt.name, Repr(got), ok, Repr(tt.wrapped), tt.ok)
		}
	}
}
