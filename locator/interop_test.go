package locator

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
	"github.com/pyro4/pyro4/wire"
)

// pyNS starts the reference pyro4-ns on 127.0.0.1 with the given extra
// environment and returns a client connected to it.
func pyNS(t *testing.T, opts Options, env ...string) (*NameServer, int) {
	t.Helper()
	_, port := pypeer.StartPythonNS(t, pypeer.Env(env...))
	ns, err := DialNameServer(context.Background(), NameServerURI("127.0.0.1", port, ""), opts)
	if err != nil {
		t.Fatalf("connect to pyro4-ns: %v", err)
	}
	t.Cleanup(func() { ns.Close() })
	return ns, port
}

func mustNil(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func entryNames(es []Entry) string {
	names := make([]string, len(es))
	for i, e := range es {
		names[i] = e.Name
	}
	return strings.Join(names, ",")
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// TestNameServerClientAgainstPython drives every method of the typed client
// against pyro4-ns, once per serializer.
func TestNameServerClientAgainstPython(t *testing.T) {
	pypeer.Require(t)
	for _, ser := range []string{"serpent", "json", "marshal", "msgpack"} {
		t.Run(ser, func(t *testing.T) {
			if _, ok := wire.CodecByName(ser); !ok {
				t.Fatalf("codec %s not registered", ser)
			}
			ns, port := pyNS(t, Options{Serializer: ser, Timeout: 10 * time.Second},
				"PYRO_SERIALIZERS_ACCEPTED=serpent,json,marshal,msgpack")
			exerciseNameServer(t, ns, port, ser)
		})
	}
}

func exerciseNameServer(t *testing.T, ns *NameServer, port int, ser string) {
	// Pyro4's marshal serializer cannot send the (URI, metadata) tuple of
	// lookup(return_metadata=True); the name server raises ValueError and
	// pyro4-nsc prints it. Metadata is read through list() there instead.
	lookupMeta := ns.LookupMeta
	if ser == "marshal" {
		_, _, err := ns.LookupMeta(NameServerObject)
		wantException(t, err, wire.ClassValueError, "unmarshallable object")
		lookupMeta = func(name string) (wire.URI, []string, error) {
			es, err := ns.List(ListOptions{Regex: regexp.QuoteMeta(name) + "$", ReturnMetadata: true})
			if err != nil || len(es) != 1 {
				return wire.URI{}, nil, fmt.Errorf("list %s: %v %v", name, es, err)
			}
			u, err := wire.ParseURI(es[0].URI)
			return u, es[0].Metadata, err
		}
	}
	mustNil(t, "ping", ns.Ping())
	if n, err := ns.Count(); err != nil || n != 1 {
		t.Fatalf("count = %d, %v; want 1", n, err)
	}
	if m := ns.Conn().Metadata(); !slices.Contains(m.Methods, "lookup") || !slices.Contains(m.Methods, "list") {
		t.Fatalf("handshake metadata methods %v", m.Methods)
	}
	self, meta, err := lookupMeta(NameServerObject)
	mustNil(t, "lookup self", err)
	if want := fmt.Sprintf("PYRO:Pyro.NameServer@127.0.0.1:%d", port); self.String() != want || !slices.Equal(meta, []string{"class:Pyro4.naming.NameServer"}) {
		t.Fatalf("self = %s %v", self, meta)
	}

	mustNil(t, "register a", ns.Register("a.one", "PYRO:a@h:1", true, []string{"t1", "t2"}))
	wantException(t, ns.Register("a.one", "PYRO:x@h:2", true, nil), wire.ClassNamingError, "name already registered: a.one")
	mustNil(t, "register b", ns.Register("b.two", "PYRO:b@./u:/tmp/sock", false, nil))
	mustNil(t, "re-register b", ns.Register("b.two", "PYRO:b@[::1]:5", false, []string{"t2"}))
	wantException(t, ns.Register("c", "not a uri", false, nil), wire.ClassPyroError, "invalid uri")

	u, err := ns.Lookup("b.two")
	mustNil(t, "lookup b", err)
	if u.String() != "PYRO:b@[::1]:5" || u.Host != "::1" || u.Port != 5 {
		t.Fatalf("lookup b = %#v", u)
	}
	_, err = ns.Lookup("nope")
	wantException(t, err, wire.ClassNamingError, "unknown name: nope")
	_, meta, err = lookupMeta("a.one")
	mustNil(t, "lookupmeta a", err)
	if !slices.Equal(sortedCopy(meta), []string{"t1", "t2"}) {
		t.Fatalf("metadata of a.one = %v", meta)
	}

	list := func(lo ListOptions) []Entry {
		t.Helper()
		es, err := ns.List(lo)
		mustNil(t, fmt.Sprintf("list %+v", lo), err)
		return es
	}
	if got := entryNames(list(ListOptions{})); got != "Pyro.NameServer,a.one,b.two" {
		t.Fatalf("list all = %s", got)
	}
	if es := list(ListOptions{Prefix: "a."}); len(es) != 1 || es[0].URI != "PYRO:a@h:1" || es[0].Metadata != nil {
		t.Fatalf("list prefix = %+v", es)
	}
	if got := entryNames(list(ListOptions{Regex: "[ab]\\."})); got != "a.one,b.two" {
		t.Fatalf("list regex = %s", got)
	}
	if got := entryNames(list(ListOptions{Regex: "one"})); got != "" {
		t.Fatalf("list regex is anchored at the start, got %s", got)
	}
	if got := entryNames(list(ListOptions{MetadataAll: []string{"t1", "t2"}})); got != "a.one" {
		t.Fatalf("list metadata_all = %s", got)
	}
	es := list(ListOptions{MetadataAny: []string{"t2", "zz"}, ReturnMetadata: true})
	if entryNames(es) != "a.one,b.two" || !slices.Equal(sortedCopy(es[0].Metadata), []string{"t1", "t2"}) || !slices.Equal(es[1].Metadata, []string{"t2"}) {
		t.Fatalf("list metadata_any = %+v", es)
	}
	_, err = ns.List(ListOptions{Regex: "["})
	wantException(t, err, wire.ClassNamingError, "invalid regex: ")
	_, err = ns.List(ListOptions{Prefix: "a", Regex: "b"})
	wantException(t, err, wire.ClassValueError, "you can only filter on one thing at a time")

	mustNil(t, "setmeta", ns.SetMetadata("b.two", []string{"x"}))
	if _, meta, _ := lookupMeta("b.two"); !slices.Equal(meta, []string{"x"}) {
		t.Fatalf("metadata after set = %v", meta)
	}
	mustNil(t, "clear meta", ns.SetMetadata("b.two", nil))
	if _, meta, _ := lookupMeta("b.two"); len(meta) != 0 {
		t.Fatalf("metadata after clear = %v", meta)
	}
	wantException(t, ns.SetMetadata("nope", nil), wire.ClassNamingError, "unknown name: nope")

	for _, n := range []string{"p.1", "p.2", "q.1", "q.2", "q.3"} {
		mustNil(t, "register "+n, ns.Register(n, "PYRO:o@h:1", false, nil))
	}
	removed := func(what string, n int, err error, want int) {
		t.Helper()
		if err != nil || n != want {
			t.Fatalf("%s removed %d, %v; want %d", what, n, err, want)
		}
	}
	n, err := ns.Remove("a.one")
	removed("remove a.one", n, err, 1)
	n, err = ns.Remove("a.one")
	removed("remove a.one again", n, err, 0)
	n, err = ns.Remove(NameServerObject)
	removed("remove the name server", n, err, 0)
	n, err = ns.RemovePrefix("p.")
	removed("remove prefix", n, err, 2)
	n, err = ns.RemoveRegex("q\\.[12]")
	removed("remove regex", n, err, 2)
	n, err = ns.RemoveRegex(".*")
	removed("remove everything", n, err, 2)
	if n, err := ns.Count(); err != nil || n != 1 {
		t.Fatalf("count at the end = %d, %v", n, err)
	}
}

func TestBatchAgainstPython(t *testing.T) {
	ns, _ := pyNS(t, Options{})
	res, err := ns.Conn().InvokeBatch([]BatchCall{
		{Method: "count"},
		{Method: "register", Args: []wire.Value{"x", "PYRO:x@h:1"}},
		{Method: "count"},
	})
	mustNil(t, "batch", err)
	if len(res) != 3 || res[0] != int64(1) || res[1] != nil || res[2] != int64(2) {
		t.Fatalf("batch results %s", wire.Repr(wire.List(res)))
	}
	res, err = ns.Conn().InvokeBatch([]BatchCall{
		{Method: "ping"},
		{Method: "lookup", Args: []wire.Value{"nope"}},
		{Method: "count"},
	})
	wantException(t, err, wire.ClassNamingError, "unknown name: nope")
	if len(res) != 1 {
		t.Fatalf("results before the failing call: %d", len(res))
	}
	// the connection stays usable after an exception inside a batch
	mustNil(t, "ping after batch", ns.Ping())
}

func TestHMACAgainstPython(t *testing.T) {
	pypeer.Require(t)
	for _, how := range []string{"env", "flag"} {
		t.Run(how, func(t *testing.T) {
			var port int
			if how == "env" {
				_, port = pypeer.StartPythonNS(t, pypeer.Env("PYRO_HMAC_KEY=sesame"))
			} else {
				_, port = pypeer.StartPythonNS(t, pypeer.Env(), "-k", "sesame")
			}
			uri := NameServerURI("127.0.0.1", port, "")
			ns, err := DialNameServer(context.Background(), uri, Options{HMACKey: []byte("sesame")})
			mustNil(t, "dial with the key", err)
			defer ns.Close()
			mustNil(t, "ping with the key", ns.Ping())
			mustNil(t, "register with the key", ns.Register("k", "PYRO:k@h:1", true, nil))

			_, err = DialNameServer(context.Background(), uri, Options{HMACKey: []byte("wrong"), DialTimeout: 5 * time.Second})
			wantException(t, err, wire.ClassCommunicationError, "hmac")
			_, err = DialNameServer(context.Background(), uri, Options{DialTimeout: 5 * time.Second})
			wantException(t, err, wire.ClassCommunicationError, "hmac")
		})
	}
}

func TestUnixSocketAgainstPython(t *testing.T) {
	pypeer.Require(t)
	sock := filepath.Join(t.TempDir(), "ns.sock")
	p := pypeer.Start(t, pypeer.Env(), pypeer.NS(t), "-u", sock)
	p.WaitLine(t, "URI =", 20*time.Second)
	ns, err := DialNameServer(context.Background(), NameServerURI("", 0, sock), Options{})
	mustNil(t, "dial unix socket", err)
	defer ns.Close()
	self, err := ns.Lookup(NameServerObject)
	mustNil(t, "lookup", err)
	if self.String() != "PYRO:Pyro.NameServer@./u:"+sock {
		t.Fatalf("name server registered as %s", self)
	}
	ns2, step, err := Locate(context.Background(), LocateOptions{Host: "./u:" + sock})
	mustNil(t, "locate ./u:", err)
	defer ns2.Close()
	if step != StepHost || ns2.URI().Sockname != sock {
		t.Fatalf("located %s by %s", ns2.URI(), step)
	}
}

func TestCompressedRepliesFromPython(t *testing.T) {
	ns, _ := pyNS(t, Options{Compression: true}, "PYRO_COMPRESSION=true")
	for i := range 60 {
		mustNil(t, "register", ns.Register(fmt.Sprintf("name.%03d", i), fmt.Sprintf("PYRO:obj%d@host.example:%d", i, 1000+i), false, []string{"tag"}))
	}
	es, err := ns.List(ListOptions{ReturnMetadata: true})
	mustNil(t, "list", err)
	if len(es) != 61 || es[60].Name != "name.059" || es[60].URI != "PYRO:obj59@host.example:1059" {
		t.Fatalf("list of %d entries, last %+v", len(es), es[len(es)-1])
	}
}

func TestDialUnknownObjectAgainstPython(t *testing.T) {
	_, port := pyNS(t, Options{})
	_, err := Dial(context.Background(), wire.URI{Protocol: "PYRO", Object: "nope", Host: "127.0.0.1", Port: port}, Options{})
	wantException(t, err, wire.ClassCommunicationError, fmt.Sprintf("connection to 127.0.0.1:%d rejected: unknown object", port))
	// a refused serializer is answered in marshal, whatever the request used
	_, err = Dial(context.Background(), NameServerURI("127.0.0.1", port, ""), Options{Serializer: "msgpack"})
	wantException(t, err, wire.ClassCommunicationError, "rejected: message used serializer that is not accepted: 6")
}
