package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pyro4/pyro4/persist"
)

func noEnv(string) (string, bool) { return "", false }

// TestExampleFileParses parses nsctl.toml.example and checks what it sets.
func TestExampleFileParses(t *testing.T) {
	path := filepath.Join("..", "..", "nsctl.toml.example")
	c, err := Load(path, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	s := layered(c.Layer()).Settings()
	// The example documents the defaults and, being the packaged
	// /etc/pyro4/nsctl.toml, publishes no names: applying it changes nothing.
	if want := Defaults(); !reflect.DeepEqual(s, want) {
		t.Fatalf("example file gives\n%+v\nwant\n%+v", s, want)
	}
	if c.Storage == nil || *c.Storage != "memory" || c.BroadcastEnabled == nil || !*c.BroadcastEnabled {
		t.Fatalf("example sets storage %v, broadcast.enabled %v", c.Storage, c.BroadcastEnabled)
	}

	// Its commented-out [[registration]] examples are valid once uncommented.
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	c, err = Parse(path, uncommentRegistrations(t, string(text)), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	s = layered(c.Layer()).Settings()
	wantStatic := []persist.Entry{
		{Name: "example.greeting", URI: "PYRO:greeting@greeter.example.com:9999", Metadata: []string{"class:example.Greeting", "team:web"}},
		{Name: "example.archive", URI: "PYRO:archive@./u:/run/archive.sock"},
	}
	if !reflect.DeepEqual(s.Static, wantStatic) {
		t.Fatalf("uncommented examples give\n%+v\nwant\n%+v", s.Static, wantStatic)
	}
}

// uncommentRegistrations removes the "# " before every line from the first
// commented-out [[registration]] table on, as a user enabling them would.
func uncommentRegistrations(t *testing.T, text string) []byte {
	t.Helper()
	head, tail, ok := strings.Cut(text, "\n# [[registration]]\n")
	if !ok {
		t.Fatal("nsctl.toml.example has no commented-out [[registration]] table")
	}
	lines := strings.Split("# [[registration]]\n"+tail, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(strings.TrimPrefix(l, "#"), " ")
	}
	return []byte(head + "\n" + strings.Join(lines, "\n"))
}

// TestExampleDocumentsEveryKey checks that every key the parser knows
// appears in the example, set or commented out, after a comment.
func TestExampleDocumentsEveryKey(t *testing.T) {
	text, err := os.ReadFile(filepath.Join("..", "..", "nsctl.toml.example"))
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	var walk func(prefix string, typ reflect.Type)
	walk = func(prefix string, typ reflect.Type) {
		for f := range typ.Fields() {
			tag := f.Tag.Get("toml")
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[seconds]() {
				walk(prefix+tag+".", ft)
				continue
			}
			keys = append(keys, prefix+tag)
		}
	}
	walk("", reflect.TypeFor[model]())
	// The model holds registrations as maps; the parser's list of their
	// keys stands in for the fields.
	for _, k := range registrationKeys {
		keys = append(keys, "registration."+k)
	}
	table := ""
	found := map[string]bool{}
	lines := strings.Split(string(text), "\n")
	// A table may be commented out, as an example not in force.
	header := regexp.MustCompile(`^(?:# ?)?\[\[?([a-z_]+)\]\]?$`)
	assign := regexp.MustCompile(`^#? ?([a-z_]+) = `)
	for i, l := range lines {
		if m := header.FindStringSubmatch(l); m != nil {
			table = m[1] + "."
			found[m[1]] = true
			continue
		}
		if m := assign.FindStringSubmatch(l); m != nil && !found[table+m[1]] {
			// The first occurrence is explained by a comment above it or
			// above its table's header.
			if i == 0 || !strings.HasPrefix(lines[i-1], "#") && !header.MatchString(lines[i-1]) {
				t.Errorf("line %d: %s has no comment above it", i+1, m[1])
			}
			found[table+m[1]] = true
		}
	}
	for _, k := range keys {
		if !found[k] {
			t.Errorf("key %s is not documented in nsctl.toml.example", k)
		}
	}
}

func TestParseValues(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "ns.key")
	if err := os.WriteFile(keyFile, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "ns.toml")
	c, err := Parse(path, []byte(`
host = "127.0.0.1"
port = 0
storage = "bolt:data/ns.db"
serializers_accepted = ["json", "msgpack"]
comm_timeout = 1.5
autoclean = "1m30s"
max_message_size = 1048576
compression = true
hmac_key_file = "ns.key"
reply_budget = 1000000
scan_timeout = "250ms"
max_connections = 100
[broadcast]
enabled = false
host = "127.0.0.2"
port = 0
[nat]
host = "ext.example"
port = 5555
[[registration]]
name = "a"
uri = "PYRO:a@h:1"
metadata = ["x", "y"]
`), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	s := layered(c.Layer()).Settings()
	want := Settings{
		Host: "127.0.0.1", Port: 0,
		Storage:   "bolt:" + filepath.Join(dir, "data", "ns.db"),
		Broadcast: false, BroadcastHost: "127.0.0.2", BroadcastPort: 0,
		NATHost: "ext.example", NATPort: 5555,
		SerializersAccepted: []string{"json", "msgpack"},
		CommTimeout:         1500 * time.Millisecond, AutoClean: 90 * time.Second,
		MaxMessageSize: 1 << 20, Compression: true, HMACKey: []byte("s3cret"),
		ReplyBudget: 1000000, ScanTimeout: 250 * time.Millisecond, MaxConnections: 100,
		Static: []persist.Entry{{Name: "a", URI: "PYRO:a@h:1", Metadata: []string{"x", "y"}}},
		// What the file cannot set keeps its default.
		NSHost: "localhost", BroadcastAddrs: []string{"<broadcast>", "0.0.0.0"}, Serializer: "serpent",
		LogFormat: "text",
		Etcd:      Etcd{Prefix: "/pyro4/", DialTimeout: 5 * time.Second, RequestTimeout: 5 * time.Second},
	}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("got\n%+v\nwant\n%+v", s, want)
	}
}

func TestParseRelativeSocket(t *testing.T) {
	c, err := Parse("/etc/pyro4/ns.toml", []byte(`unixsocket = "ns.sock"`), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if *c.UnixSocket != "/etc/pyro4/ns.sock" {
		t.Fatalf("unixsocket %q", *c.UnixSocket)
	}
	c, err = Parse("ns.toml", []byte(`unixsocket = "/run/ns.sock"`), noEnv)
	if err != nil || *c.UnixSocket != "/run/ns.sock" {
		t.Fatalf("absolute unixsocket: %v %v", c, err)
	}
}

func TestParseDurations(t *testing.T) {
	for _, tc := range []struct {
		text string
		want time.Duration
	}{
		{"30", 30 * time.Second},
		{"0", 0},
		{"0.25", 250 * time.Millisecond},
		{`"2m"`, 2 * time.Minute},
		{`"1.5s"`, 1500 * time.Millisecond},
	} {
		c, err := Parse("t.toml", []byte("comm_timeout = "+tc.text+"\n"), noEnv)
		if err != nil {
			t.Fatalf("%s: %v", tc.text, err)
		}
		if *c.CommTimeout != tc.want {
			t.Errorf("%s: %v, want %v", tc.text, *c.CommTimeout, tc.want)
		}
	}
}

func TestParseHMACKeyEnv(t *testing.T) {
	lookup := func(name string) (string, bool) {
		if name == "NS_KEY" {
			return "from-env", true
		}
		return "", false
	}
	c, err := Parse("t.toml", []byte(`hmac_key_env = "NS_KEY"`), lookup)
	if err != nil {
		t.Fatal(err)
	}
	if string(c.HMACKey) != "from-env" {
		t.Fatalf("key %q", c.HMACKey)
	}
}

func TestParseEmptyFile(t *testing.T) {
	c, err := Parse("t.toml", nil, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	s := layered(c.Layer()).Settings()
	if !reflect.DeepEqual(s, Defaults()) {
		t.Fatalf("empty file changed the defaults: %+v", s)
	}
}

// TestParseErrors checks that every kind of mistake is reported with the
// file, the right line and a reason.
func TestParseErrors(t *testing.T) {
	twoRegs := "[[registration]]\nname = \"a\"\nuri = \"PYRO:a@h:1\"\n\n[[registration]]\nname = \"b\"\n"
	for _, tc := range []struct {
		name, text string
		line       int
		want       string
	}{
		{"syntax", "port = 9090\nhost = \n", 2, "expected value"},
		{"unterminated string", "host = \"x\n", 1, "strings cannot contain newlines"},
		{"unclosed header", "port = 5\n[[registration]\nname = \"a\"\n", 2, "expected end of table array name delimiter"},
		{"unclosed array", "port = 5\nserializers_accepted = [\"json\",\n", 2, "unexpected EOF"},
		{"unknown key", "port = 1\nprot = 2\n", 2, `unknown key "prot"`},
		{"unknown key in table", "[nat]\nhost = \"h\"\nhots = \"x\"\n", 3, `unknown key "nat.hots"`},
		{"unknown table", "[natt]\nhost = \"h\"\n", 1, `unknown key "natt"`},
		{"more unknown keys", "a = 1\nb = 2\n", 1, `unknown key "a" (and 1 more)`},
		{"wrong type", "host = \"x\"\nport = \"9090\"\n", 2, "port: incompatible types"},
		{"wrong type in table", "[broadcast]\nenabled = \"no\"\n", 2, "broadcast.enabled: incompatible types"},
		{"port range", "\nport = 70000\n", 2, "port 70000 is out of range"},
		{"nat port range", "[nat]\nhost = \"h\"\nport = -1\n", 3, "nat.port: port -1 is out of range"},
		{"bcport range", "[broadcast]\nport = 65536\n", 2, "broadcast.port: port 65536"},
		{"storage dbm", "storage = \"dbm:ns.dbm\"\n", 1, "pyro4 migrate dbm:ns.dbm"},
		{"storage bogus", "\n\nstorage = \"foo\"\n", 3, "invalid storage type 'foo'"},
		{"serializer", "serializers_accepted = [\"serpent\", \"dill\"]\n", 1, "serializer 'dill' is unknown or not available"},
		{"no serializers", "serializers_accepted = []\n", 1, "serializer '' is unknown or not available"},
		{"autoclean minimum", "autoclean = 1\n", 1, "below the minimum of 3s"},
		{"log format", "port = 1\nlog_format = \"xml\"\n", 2, `log_format: "xml" is not a log format (text or json)`},
		{"http listen without port", "[http]\nlisten = \"localhost\"\n", 2, `http.listen: "localhost" is not HOST:PORT`},
		{"http listen port range", "[http]\nlisten = \":70000\"\n", 2, `http.listen: ":70000": port "70000" out of range`},
		{"negative timeout", "comm_timeout = -1\n", 1, "out of range"},
		{"bad duration", "comm_timeout = \"soon\"\n", 1, `"soon" is not a duration`},
		{"bad duration later", "port = 1\n\nautoclean = \"later\"\n", 3, `autoclean: "later" is not a duration`},
		{"duration type", "comm_timeout = true\n", 1, "want a number of seconds"},
		{"max message size", "max_message_size = -5\n", 1, "max_message_size: -5 is out of range"},
		{"reply budget", "\nreply_budget = -1\n", 2, "reply_budget: -1 is out of range (0 means unlimited)"},
		{"max connections", "max_connections = -3\n", 1, "max_connections: -3 is out of range"},
		{"scan timeout", "scan_timeout = \"never\"\n", 1, `scan_timeout: "never" is not a duration`},
		{"both keys", "hmac_key_file = \"k\"\nhmac_key_env = \"K\"\n", 2, "either hmac_key_file or hmac_key_env"},
		{"key env missing", "\nhmac_key_env = \"NO_SUCH_VAR\"\n", 2, "NO_SUCH_VAR is not set"},
		{"key file missing", "hmac_key_file = \"/nonexistent/key\"\n", 1, "no such file"},
		{"key file is a device", "hmac_key_file = \"/dev/zero\"\n", 1, "/dev/zero is not a regular file"},
		{"nat port without host", "[nat]\nport = 5\n", 2, "needs nat.host"},
		{"nat with socket", "unixsocket = \"/tmp/s\"\n[nat]\nhost = \"h\"\n", 3, "cannot use NAT together with unixsocket"},
		{"bad uri", twoRegs + "uri = \"PYRO:b@h:notaport\"\n", 7, `registration "b": invalid uri "PYRO:b@h:notaport"`},
		{"bad uri protocol", twoRegs + "uri = \"HTTP:b\"\n", 7, `invalid uri "HTTP:b"`},
		{"missing uri", twoRegs + "metadata = []\n", 5, `registration "b": missing uri`},
		{"missing name", "[[registration]]\nuri = \"PYRO:a@h:1\"\n", 1, "registration: missing name"},
		{"empty name", "[[registration]]\nname = \"\"\nuri = \"PYRO:a@h:1\"\n", 2, "name is empty"},
		{"name type", "[[registration]]\nname = 5\nuri = \"PYRO:a@h:1\"\n", 2, "name must be a string"},
		{"uri type", "[[registration]]\nname = \"a\"\nuri = 5\n", 3, "uri must be a string"},
		{"own name", "[[registration]]\nname = \"Pyro.NameServer\"\nuri = \"PYRO:a@h:1\"\n", 2, "the name server's own name"},
		{"duplicate", twoRegs + "uri = \"PYRO:a@h:1\"\n[[registration]]\nname = \"a\"\nuri = \"PYRO:a@h:2\"\n", 9, `"a": name already configured at line 2`},
		{"unknown registration key", twoRegs + "uri = \"PYRO:b@h:1\"\nmetdata = [\"x\"]\n", 8, `registration: unknown key "metdata"`},
		{"metadata type", twoRegs + "uri = \"PYRO:b@h:1\"\nmetadata = \"x\"\n", 8, "metadata must be an array of strings"},
		{"metadata item", twoRegs + "uri = \"PYRO:b@h:1\"\nmetadata = [\"x\", 1]\n", 8, "metadata must be an array of strings"},
		{"inline tables", "port = 1\nregistration = [\n  {name = \"a\", uri = \"PYRO:a@h:1\"},\n  {name = \"b\", uri = \"bad\"},\n]\n", 4, `registration "b": invalid uri "bad"`},
		{"inline tables, missing uri", "registration = [{name = \"a\", uri = \"PYRO:a@h:1\"}, {name = \"b\"}]\n", 1, `registration "b": missing uri`},
		{"inline tables, unknown key", "registration = [{name = \"a\", uri = \"PYRO:a@h:1\"},\n {name = \"b\", url = \"x\"}]\n", 2, `unknown key "url"`},
		{"after multi-line array", "serializers_accepted = [\n  \"json\",\n]\n[[registration]]\nname = \"a\"\nuri = \"bad\"\n", 6, `invalid uri "bad"`},
		{"after multi-line string", "host = \"\"\"\nport = 1\n\"\"\"\nport = 99999\n", 4, "port 99999"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("ns.toml", []byte(tc.text), noEnv)
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("error %v (%T), want *Error", err, err)
			}
			if ce.File != "ns.toml" || ce.Line != tc.line || !strings.Contains(ce.Msg, tc.want) {
				t.Fatalf("got %q (line %d), want line %d containing %q", err, ce.Line, tc.line, tc.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err)
			}
		})
	}
}

func TestKeyLine(t *testing.T) {
	text := []byte("a = 1\n[[r]]\nx = 1\n[[r]]\ny = \"\"\"\nx = 2\n\"\"\"\n[[r]]\nx = [\n 1,\n]\n" +
		"'q.k' = { \"in\\u0041\" = 1, d.e = [{f = 1}] }\nt = 1979-05-27 07:32:00Z\nz = 2\n")
	pos := scanKeys(text)
	for _, tc := range []struct {
		key  []string
		nth  int
		line int
	}{
		{[]string{"a"}, 1, 1},
		{[]string{"r"}, 1, 2},
		{[]string{"r"}, 2, 4},
		{[]string{"r"}, 3, 8},
		{[]string{"r", "x"}, 1, 3},
		{[]string{"r", "x"}, 2, 9}, // the "x = 2" on line 6 is inside a string
		{[]string{"r", "x"}, 3, 0},
		{[]string{"r", "y"}, 1, 5},
		{[]string{"r", "q.k"}, 1, 12},
		{[]string{"r", "q.k", "inA"}, 1, 12},
		{[]string{"r", "q.k", "d", "e", "f"}, 1, 12},
		{[]string{"r", "t"}, 1, 13},
		{[]string{"r", "z"}, 1, 14}, // after a date with a space
		{[]string{"b"}, 1, 0},
		{[]string{"a"}, 0, 0},
	} {
		if got := keyLine(pos, tc.key, tc.nth); got != tc.line {
			t.Errorf("keyLine(%v, %d) = %d, want %d", tc.key, tc.nth, got, tc.line)
		}
	}
}

// TestKeyLineLargeFile: finding a line costs one pass, however long the
// values before it.
func TestKeyLineLargeFile(t *testing.T) {
	text := "serializers_accepted = [\n" + strings.Repeat("  \"json\",\n", 20000) + "]\nbogus = 1\n"
	_, err := Parse("big.toml", []byte(text), noEnv)
	if err == nil || err.Error() != `big.toml:20003: unknown key "bogus"` {
		t.Fatalf("error %v", err)
	}
}

func TestNeedRestart(t *testing.T) {
	a := layered()
	if got := needRestart(a, layered()); got != nil {
		t.Fatalf("same settings need a restart: %v", got)
	}
	var l Layer
	src := FileSource("f:1")
	l.Port = Given(9999, src)
	l.Storage = Given("bolt:/x", src)
	l.HMACKey = Given(Secret("secret"), src)
	l.NATHost = Given("ext", src)                                          // live
	l.Static = Given([]persist.Entry{{Name: "a", URI: "PYRO:a@h:1"}}, src) // live
	l.NSHost = Given("elsewhere", src)                                     // not the server's
	got := needRestart(a, layered(l))
	want := []restart{{"port", "9090", "9999", false}, {"storage", "memory", "bolt:/x", false}, {"hmac_key", "(none)", "(set, 6 bytes)", true}}
	if !slices.Equal(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestOptions(t *testing.T) {
	s := Defaults()
	s.Broadcast = false
	s.HMACKey = []byte("k")
	o, err := s.Options(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.Host != "localhost" || o.Port != 9090 || !o.NoBroadcast || string(o.HMACKey) != "k" || len(o.Accepted) != 3 {
		t.Fatalf("options %+v", o)
	}
	s.SerializersAccepted = []string{"nope"}
	if _, err := s.Options(nil, nil); err == nil {
		t.Fatal("unknown serializer accepted")
	}
}
