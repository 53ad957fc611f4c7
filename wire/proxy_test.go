package wire

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func mustParseURI(s string) URI {
	u, err := ParseURI(s)
	if err != nil {
		panic(err)
	}
	return u
}

// goldenProxy is the proxy of the gen scripts' "proxy" cases.
func goldenProxy(uri string) Proxy {
	return Proxy{URI: mustParseURI(uri), Oneway: []string{"shutdown"}, Methods: []string{"ping"}, Attrs: []string{"name"},
		Timeout: 2.5, HMACKey: []byte("secret"), Handshake: dictOf("token", int64(42)), MaxRetries: 3, Serializer: "json"}
}

// defaultProxy is a proxy as Pyro4.core.Proxy(uri) makes it.
func defaultProxy(uri string) Proxy { return Proxy{URI: mustParseURI(uri), Handshake: "hello"} }

// TestProxyFromGolden reads the proxies the real Pyro4 serialized.
func TestProxyFromGolden(t *testing.T) {
	files := map[string]Proxy{
		"serpent/proxy.serpent":         goldenProxy("PYRO:obj_5b1e@127.0.0.1:51234"),
		"serpent/proxy_default.serpent": defaultProxy("PYRO:obj@localhost:9090"),
	}
	for _, codec := range []string{"json", "marshal", "msgpack"} {
		files[codec+"/proxy.bin"] = goldenProxy("PYRO:obj_123@localhost:51234")
		files[codec+"/proxy_default.bin"] = defaultProxy("PYRO:obj@localhost:9090")
	}
	for file, want := range files {
		data, err := os.ReadFile(filepath.Join("testdata", "golden", file))
		if err != nil {
			t.Fatal(err)
		}
		codec := cgCodecFor(t, filepath.Dir(file))
		v, err := codec.Unmarshal(data)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		got, err := ProxyFromValue(v)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if !got.URI.Equal(want.URI) || !slices.Equal(got.Oneway, want.Oneway) || !slices.Equal(got.Methods, want.Methods) ||
			!slices.Equal(got.Attrs, want.Attrs) || got.Timeout != want.Timeout || string(got.HMACKey) != string(want.HMACKey) ||
			!Equal(got.Handshake, want.Handshake) || got.MaxRetries != want.MaxRetries || got.Serializer != want.Serializer {
			t.Errorf("%s: got %+v\nwant %+v", file, got, want)
		}
	}
}

func TestProxyValueRoundTrip(t *testing.T) {
	p := Proxy{URI: mustParseURI("PYRO:obj@[::1]:9090"), Oneway: []string{"shutdown"}, Methods: []string{"a", "b"},
		Attrs: []string{}, Timeout: 2.5, HMACKey: []byte("k\x00y"), Handshake: dictOf("token", int64(1)),
		MaxRetries: 3, Serializer: "json"}
	got, err := ProxyFromValue(p.Value())
	if err != nil {
		t.Fatal(err)
	}
	if !got.URI.Equal(p.URI) || !slices.Equal(got.Oneway, p.Oneway) || !slices.Equal(got.Methods, p.Methods) ||
		len(got.Attrs) != 0 || got.Timeout != 2.5 || string(got.HMACKey) != "k\x00y" || !Equal(got.Handshake, p.Handshake) ||
		got.MaxRetries != 3 || got.Serializer != "json" {
		t.Fatalf("round trip: %+v", got)
	}
	bare, err := ProxyFromValue(Proxy{URI: p.URI}.Value())
	if err != nil || bare.HMACKey != nil || bare.Serializer != "" {
		t.Fatalf("bare proxy: %+v, %v", bare, err)
	}
	for _, bad := range []Value{"PYRO:x@h:1", uriValue("PYRO:x@h:1"), clsDict(ClassProxy, "state", List{"PYRO:o@h:1"}),
		clsDict(ClassProxy, "state", clsProxyState(1, List{int64(1)}))} {
		if p, err := ProxyFromValue(bad); err == nil {
			t.Errorf("ProxyFromValue(%s) = %+v", Repr(bad), p)
		}
	}
}
