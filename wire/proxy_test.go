package wire_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pyro4/pyro4/wire"
	_ "github.com/pyro4/pyro4/wire/codecs"
	"github.com/pyro4/pyro4/wire/internal/codectest"
)

// TestProxyFromGolden reads the proxies the real Pyro4 serialized.
func TestProxyFromGolden(t *testing.T) {
	files := map[string]wire.Proxy{
		"serpent/testdata/golden/proxy.serpent":         codectest.GoldenProxy("PYRO:obj_5b1e@127.0.0.1:51234"),
		"serpent/testdata/golden/proxy_default.serpent": codectest.DefaultProxy("PYRO:obj@localhost:9090"),
	}
	for _, codec := range []string{"json", "marshal", "msgpack"} {
		files[codec+"/testdata/golden/proxy.bin"] = codectest.GoldenProxy("PYRO:obj_123@localhost:51234")
		files[codec+"/testdata/golden/proxy_default.bin"] = codectest.DefaultProxy("PYRO:obj@localhost:9090")
	}
	for file, want := range files {
		data, err := os.ReadFile(filepath.FromSlash(file))
		if err != nil {
			t.Fatal(err)
		}
		codec := codectest.CodecFor(t, strings.SplitN(file, "/", 2)[0])
		v, err := codec.Unmarshal(data)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		got, err := wire.ProxyFromValue(v)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if !got.URI.Equal(want.URI) || !slices.Equal(got.Oneway, want.Oneway) || !slices.Equal(got.Methods, want.Methods) ||
			!slices.Equal(got.Attrs, want.Attrs) || got.Timeout != want.Timeout || string(got.HMACKey) != string(want.HMACKey) ||
			!wire.Equal(got.Handshake, want.Handshake) || got.MaxRetries != want.MaxRetries || got.Serializer != want.Serializer {
			t.Errorf("%s: got %+v\nwant %+v", file, got, want)
		}
	}
}

func TestProxyValueRoundTrip(t *testing.T) {
	p := wire.Proxy{URI: codectest.MustParseURI("PYRO:obj@[::1]:9090"), Oneway: []string{"shutdown"}, Methods: []string{"a", "b"},
		Attrs: []string{}, Timeout: 2.5, HMACKey: []byte("k\x00y"), Handshake: codectest.DictOf("token", int64(1)),
		MaxRetries: 3, Serializer: "json"}
	got, err := wire.ProxyFromValue(p.Value())
	if err != nil {
		t.Fatal(err)
	}
	if !got.URI.Equal(p.URI) || !slices.Equal(got.Oneway, p.Oneway) || !slices.Equal(got.Methods, p.Methods) ||
		len(got.Attrs) != 0 || got.Timeout != 2.5 || string(got.HMACKey) != "k\x00y" || !wire.Equal(got.Handshake, p.Handshake) ||
		got.MaxRetries != 3 || got.Serializer != "json" {
		t.Fatalf("round trip: %+v", got)
	}
	bare, err := wire.ProxyFromValue(wire.Proxy{URI: p.URI}.Value())
	if err != nil || bare.HMACKey != nil || bare.Serializer != "" {
		t.Fatalf("bare proxy: %+v, %v", bare, err)
	}
	for _, bad := range []wire.Value{"PYRO:x@h:1", codectest.URIValue("PYRO:x@h:1"), codectest.ClassDict(wire.ClassProxy, "state", wire.List{"PYRO:o@h:1"}),
		codectest.ClassDict(wire.ClassProxy, "state", codectest.ProxyState(1, wire.List{int64(1)}))} {
		if p, err := wire.ProxyFromValue(bad); err == nil {
			t.Errorf("ProxyFromValue(%s) = %+v", wire.Repr(bad), p)
		}
	}
}
