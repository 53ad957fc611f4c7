package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/pyro4/pyro4/wire"
)

// loadModes are the workloads a load run can drive.
var loadModes = map[string]string{
	"lookup":     "persistent connections calling lookup(name) over N registered names",
	"churn":      "connect, handshake, lookup, close per operation (the PYRONAME pattern)",
	"register":   "persistent connections registering unique names",
	"list":       "persistent connections calling list(prefix) that matches -match of N names",
	"echo":       "a raw TCP echo server answering with a lookup-sized reply: the floor",
	"echo-churn": "the churn pattern against the echo server: the floor for connection set-up",
}

// Bounds on the arguments, so that a typo cannot start an unbounded run.
const (
	maxClients  = 100000
	maxDuration = time.Hour
	maxNames    = 10_000_000
)

// loadConfig is one load run.
type loadConfig struct {
	Mode         string
	Addr         string
	Spawn        bool
	InProc       bool
	Store        string
	Clients      int
	Duration     time.Duration
	Warmup       time.Duration
	Timeout      time.Duration
	Names        int
	Match        int
	Serializer   string
	Label        string
	JSON         bool
	Out          string
	AllowRemote  bool
	Src          []string
	ServerPID    int
	SetupClients int
	Batch        int
	Verify       bool
	Keep         bool
	CPUProfile   string
	ServerProf   string
	Pyro4        string
	Quiet        bool

	codec wire.Codec
	runID string
}

// isEcho reports the modes that drive the echo floor instead of a name server.
func isEcho(mode string) bool { return mode == "echo" || mode == "echo-churn" }

// srcList is a -src flag: comma-separated source addresses.
type srcList []string

func (s *srcList) String() string { return strings.Join(*s, ",") }
func (s *srcList) Set(v string) error {
	*s = nil
	for _, a := range strings.Split(v, ",") {
		if a = strings.TrimSpace(a); a != "" {
			*s = append(*s, a)
		}
	}
	return nil
}

// target flags shared by every command that talks to a server.
func (c *loadConfig) targetFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", "", "name server `host:port` to drive (loopback unless -allow-remote)")
	fs.BoolVar(&c.Spawn, "spawn", false, "start our name server as a child process (pyro4-bench serve) and drive it")
	fs.BoolVar(&c.InProc, "inproc", false, "run our name server inside this process (for -cpuprofile; with -s bolt:FILE it reports writes per commit)")
	fs.StringVar(&c.Store, "s", "memory", "storage of a -spawn or -inproc server: memory or bolt:FILE")
	fs.BoolVar(&c.AllowRemote, "allow-remote", false, "allow a target that is not a loopback address")
	fs.Var((*srcList)(&c.Src), "src", "comma-separated loopback source `addresses` to spread connections over (default: any)")
	fs.IntVar(&c.ServerPID, "server-pid", 0, "`pid` of the server process, to report its RSS and CPU time")
	fs.StringVar(&c.Serializer, "serializer", "serpent", "serializer for requests: serpent, json or marshal")
	fs.DurationVar(&c.Timeout, "timeout", 10*time.Second, "bound on connecting and on any single setup call")
	fs.StringVar(&c.ServerProf, "server-cpuprofile", "", "with -spawn: the child server writes a CPU profile to `file`")
	fs.StringVar(&c.CPUProfile, "cpuprofile", "", "write a CPU profile of this process to `file`")
	fs.StringVar(&c.Pyro4, "pyro4", "", "with -spawn: run `binary` ns (the pyro4 command) instead of pyro4-bench serve")
}

func newLoadFlags(mode string, c *loadConfig) *flag.FlagSet {
	fs := flag.NewFlagSet(mode, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.Mode = mode
	c.targetFlags(fs)
	fs.IntVar(&c.Clients, "c", 1, "concurrent clients")
	fs.DurationVar(&c.Duration, "d", 5*time.Second, "measured duration")
	fs.DurationVar(&c.Warmup, "warmup", time.Second, "load before measuring starts (not counted)")
	fs.IntVar(&c.Names, "names", 10000, "names registered before the run (lookup, churn, list)")
	fs.IntVar(&c.Match, "match", 100, "names one list(prefix) returns; names are grouped by this size")
	fs.StringVar(&c.Label, "label", "", "name of the server in reports (python-thread, ours, ...)")
	fs.BoolVar(&c.JSON, "json", false, "print the result as JSON instead of text")
	fs.StringVar(&c.Out, "o", "", "append the JSON result as a line to `file`")
	fs.IntVar(&c.SetupClients, "setup-c", 4, "connections registering the names before the run")
	fs.IntVar(&c.Batch, "batch", 500, "registrations per batch call while setting up")
	fs.BoolVar(&c.Verify, "verify", false, "decode and check every reply, not just the first per connection")
	fs.BoolVar(&c.Keep, "keep", false, "register: leave the registered names in place")
	fs.BoolVar(&c.Quiet, "q", false, "no progress messages on stderr")
	return fs
}

// parseLoad reads and checks the arguments of a load mode.
func parseLoad(mode string, args []string) (*loadConfig, error) {
	if _, ok := loadModes[mode]; !ok {
		return nil, fmt.Errorf("unknown mode %q", mode)
	}
	c := &loadConfig{}
	fs := newLoadFlags(mode, c)
	if err := fs.Parse(args); err != nil {
		return nil, fmt.Errorf("%s: %w", mode, err)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("%s: unexpected argument %q", mode, fs.Arg(0))
	}
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", mode, err)
	}
	return c, nil
}

func (c *loadConfig) validate() error {
	switch {
	case c.Clients < 1 || c.Clients > maxClients:
		return fmt.Errorf("-c %d: want 1..%d clients", c.Clients, maxClients)
	case c.Duration <= 0 || c.Duration > maxDuration:
		return fmt.Errorf("-d %v: want a duration in (0, %v]", c.Duration, maxDuration)
	case c.Warmup < 0 || c.Warmup > maxDuration:
		return fmt.Errorf("-warmup %v: want a duration in [0, %v]", c.Warmup, maxDuration)
	case c.Names < 1 || c.Names > maxNames:
		return fmt.Errorf("-names %d: want 1..%d", c.Names, maxNames)
	case c.Match < 1 || c.Match > c.Names:
		return fmt.Errorf("-match %d: want 1..%d (-names)", c.Match, c.Names)
	case c.SetupClients < 1 || c.SetupClients > 256:
		return fmt.Errorf("-setup-c %d: want 1..256", c.SetupClients)
	case c.Batch < 1 || c.Batch > 100000:
		return fmt.Errorf("-batch %d: want 1..100000", c.Batch)
	}
	return c.validateTarget()
}

// validateTarget checks the server choice, the loopback guard and the serializer.
func (c *loadConfig) validateTarget() error {
	if c.Timeout <= 0 || c.Timeout > maxDuration {
		return fmt.Errorf("-timeout %v: want a duration in (0, %v]", c.Timeout, maxDuration)
	}
	chosen := 0
	for _, b := range []bool{c.Addr != "", c.Spawn, c.InProc} {
		if b {
			chosen++
		}
	}
	switch {
	case chosen > 1:
		return errors.New("give only one of -addr, -spawn and -inproc")
	case chosen == 0 && !isEcho(c.Mode):
		return errors.New("give -addr host:port, -spawn or -inproc")
	case c.ServerPID < 0:
		return fmt.Errorf("-server-pid %d: not a process id", c.ServerPID)
	case c.ServerProf != "" && !c.Spawn:
		return errors.New("-server-cpuprofile needs -spawn (use -cpuprofile with -inproc)")
	case c.Pyro4 != "" && !c.Spawn:
		return errors.New("-pyro4 needs -spawn")
	case c.Pyro4 != "" && c.ServerProf != "":
		return errors.New("-server-cpuprofile profiles pyro4-bench serve; drop -pyro4")
	}
	if c.Addr != "" {
		if err := checkTarget(c.Addr, c.AllowRemote); err != nil {
			return err
		}
	}
	if err := checkSources(c.Src, c.AllowRemote); err != nil {
		return err
	}
	if _, err := persistSpec(c.Store); err != nil {
		return err
	}
	codec, ok := wire.CodecByName(c.Serializer)
	if !ok || (codec.ID() != wire.SerpentID && codec.ID() != wire.JSONID && codec.ID() != wire.MarshalID) {
		return fmt.Errorf("-serializer %q: want serpent, json or marshal (what a name server accepts by default)", c.Serializer)
	}
	c.codec = codec
	return nil
}

// checkTarget is the loopback guard: a load run floods its target, so
// unless explicitly allowed it may only be pointed at this machine, and
// naming it must not need a DNS query.
func checkTarget(addr string, allowRemote bool) error { return checkAddr(addr, allowRemote, 1) }

// checkListen is the guard for an address to listen on, where port 0 picks one.
func checkListen(addr string, allowRemote bool) error { return checkAddr(addr, allowRemote, 0) }

func checkAddr(addr string, allowRemote bool, minPort int) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %w", addr, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p < minPort || p > 65535 {
		return fmt.Errorf("address %q: port %q is not %d..65535", addr, port, minPort)
	}
	if allowRemote || isLoopbackHost(host) {
		return nil
	}
	return fmt.Errorf("address %q is not a loopback address; refusing to load another machine (pass -allow-remote to mean it)", addr)
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	host, _, _ = strings.Cut(host, "%")
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkSources accepts source address literals only, loopback ones unless
// remote targets are allowed.
func checkSources(src []string, allowRemote bool) error {
	for _, s := range src {
		ip := net.ParseIP(s)
		switch {
		case ip == nil:
			return fmt.Errorf("-src %q: not an IP address", s)
		case !ip.IsLoopback() && !allowRemote:
			return fmt.Errorf("-src %q: not a loopback address", s)
		}
	}
	return nil
}
