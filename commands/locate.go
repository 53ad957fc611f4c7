package commands

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/pyro4/pyro4/locator"
	"github.com/pyro4/pyro4/nameserver/config"
)

// nsLocation are the flags nsc, resolve and locate share to say where the
// name server is, named as pyro4-nsc names them.
type nsLocation struct {
	Host       string `short:"n" placeholder:"HOST" help:"Host name or address of the name server (default: search as Pyro4's locateNS does)."`
	Port       int    `short:"p" placeholder:"PORT" help:"Port of the name server, or the broadcast port when no host is given."`
	Unixsocket string `short:"u" placeholder:"PATH" predictor:"file" help:"Unix domain socket of the name server."`
	Key        string `short:"k" placeholder:"KEY" help:"HMAC key (deprecated, visible to other users: set PYRO_HMAC_KEY instead)."`
}

// Validate checks -p as it is parsed.
func (f *nsLocation) Validate() error {
	if f.Port < 0 || f.Port > 65535 {
		return fmt.Errorf("option -p: port %d is out of range (0-65535)", f.Port)
	}
	return nil
}

// defaultDialTimeout bounds connecting when PYRO_COMMTIMEOUT is 0, so that
// an unreachable host does not hang a script for minutes.
const defaultDialTimeout = 10 * time.Second

// settings resolves a client command's settings: the PYRO_* environment
// and -k. The HMAC key rules are pyro4-nsc's: -k warns, and -k together
// with PYRO_HMAC_KEY is an error.
func (f *nsLocation) settings(cmd string, stderr io.Writer) (config.Settings, error) {
	env, err := config.EnvLayer(os.LookupEnv)
	if err != nil {
		return config.Settings{}, settingFail(cmd, err)
	}
	var flags config.Layer
	if f.Key != "" {
		fmt.Fprintf(stderr, "pyro4 %s: warning: using -k to supply the HMAC key on the command line is a security problem; set PYRO_HMAC_KEY instead\n", cmd)
		if env.HMACKey.Set {
			return config.Settings{}, &ExitError{Code: 2,
				Msg: fmt.Sprintf("pyro4 %s: error: don't use -k and PYRO_HMAC_KEY at the same time", cmd)}
		}
		flags.HMACKey = config.Given(config.Secret(f.Key), config.FlagSource("-k"))
	}
	r, err := config.Resolve(config.ForClient, env, flags)
	if err != nil {
		return config.Settings{}, settingFail(cmd, err)
	}
	return r.Settings(), nil
}

// locateOptions turns the flags and the resolved settings into the
// locator's options; an error is the command's exit (TLS material that
// does not load).
func (f *nsLocation) locateOptions(cmd string, s config.Settings) (locator.LocateOptions, error) {
	tlsCfg, err := clientTLS(cmd, s)
	if err != nil {
		return locator.LocateOptions{}, err
	}
	dial := s.CommTimeout
	if dial == 0 {
		dial = defaultDialTimeout
	}
	o := locator.LocateOptions{
		Options: locator.Options{
			Serializer:     s.Serializer,
			Timeout:        s.CommTimeout,
			DialTimeout:    dial,
			MaxMessageSize: s.MaxMessageSize,
			Compression:    s.Compression,
			HMACKey:        s.HMACKey,
			TLS:            tlsCfg,
		},
		Host:           f.Host,
		Port:           f.Port,
		NSHost:         s.NSHost,
		NSPort:         s.Port,
		BcPort:         s.BroadcastPort,
		BroadcastAddrs: s.BroadcastAddrs,
	}
	if f.Unixsocket != "" {
		o.Host = "./u:" + f.Unixsocket
	}
	return o, nil
}

// LocateCmd finds a name server and prints its URI.
type LocateCmd struct {
	nsLocation `embed:""`
	Verbose    bool `short:"v" help:"Tell on standard error every place tried and which step found the name server."`
	JSON       bool `name:"json" help:"Print a JSON object instead of the bare URI."`
}

// Help is the detailed help of pyro4 locate.
func (c *LocateCmd) Help() string {
	return `Finds a name server with Pyro4's algorithm and prints its PYRO: URI on standard output.

With -n (or -u) only that host (or Unix socket) is tried. Without, the steps are: PYRO_NS_HOST when it is a local address (localhost, 127.x, ::1) and then 127.0.1.1, a UDP broadcast of GET_NSURI to PYRO_BROADCAST_ADDRS on PYRO_NS_BCPORT (3 rounds of 0.7 s; an answer naming a name server that cannot be reached counts as none, where Pyro4 would fail at the first call), and last PYRO_NS_HOST:PYRO_NS_PORT directly.

Exit status: 0 when found, 1 when no name server answered (the places tried are on standard error), 2 for usage errors, a malformed PYRO_* item, or -k together with PYRO_HMAC_KEY.

With --json the output is one object:

    {"uri":"PYRO:Pyro.NameServer@host:9090","step":"local","location":"host:9090"}

where step is one of host, local, broadcast, ns-host.`
}

// locateJSON is the --json shape of pyro4 locate.
type locateJSON struct {
	URI      string `json:"uri"`
	Step     string `json:"step"`
	Location string `json:"location"`
}

// Run executes the command.
func (c *LocateCmd) Run(io *IO) error {
	s, err := c.settings("locate", io.Stderr)
	if err != nil {
		return err
	}
	opts, err := c.locateOptions("locate", s)
	if err != nil {
		return err
	}
	if c.Verbose {
		opts.OnAttempt = func(a locator.Attempt) {
			if a.Err != nil {
				fmt.Fprintf(io.Stderr, "pyro4 locate: not found: %s\n", a)
			}
		}
	}
	ns, step, err := locator.Locate(context.Background(), opts)
	if err != nil {
		return &ExitError{Code: 1, Msg: "pyro4 locate: " + locateFailure(err)}
	}
	defer ns.Close()
	uri := ns.URI()
	if c.Verbose {
		fmt.Fprintf(io.Stderr, "pyro4 locate: found by step %s at %s\n", step, uri.Location())
	}
	if c.JSON {
		return writeJSON(io.Stdout, locateJSON{URI: uri.String(), Step: step.String(), Location: uri.Location()})
	}
	fmt.Fprintln(io.Stdout, uri)
	return nil
}

// locateFailure is the one-line message for a failed Locate.
func locateFailure(err error) string {
	var le *locator.LocateError
	if errors.As(err, &le) {
		return le.Error()
	}
	return err.Error()
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
