package commands

import (
	"context"
	"errors"
	"fmt"
	stdio "io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/pyro4/pyro4/nameserver"
	"github.com/pyro4/pyro4/nameserver/config"
	"github.com/pyro4/pyro4/persist"
	"github.com/pyro4/pyro4/tlsconf"
)

// NsCmd runs a name server, as pyro4-ns does: the same options, the same
// PYRO_* items, the same startup lines. A flag that is not given leaves the
// setting to the PYRO_* item, then to the --config file, then to Pyro4's
// default; the pointers tell "not given" from a given zero.
type NsCmd struct {
	Host       *string `short:"n" name:"host" placeholder:"HOST" help:"hostname to bind server on"`
	Port       *int    `short:"p" name:"port" placeholder:"PORT" help:"port to bind server on (0=random)"`
	UnixSocket *string `short:"u" name:"unixsocket" placeholder:"UNIXSOCKET" help:"Unix domain socket name to bind server on"`
	Storage    *string `short:"s" name:"storage" placeholder:"STORAGE" help:"Storage system to use (memory, bolt:file, sql:file, etcd:ENDPOINT[,ENDPOINT...])"`
	BcHost     *string `name:"bchost" placeholder:"BCHOST" help:"hostname to bind broadcast server on (default is \"\")"`
	BcPort     *int    `name:"bcport" placeholder:"BCPORT" help:"port to bind broadcast server on (0=random)"`
	NatHost    *string `name:"nathost" placeholder:"NATHOST" help:"external hostname in case of NAT"`
	NatPort    *int    `name:"natport" placeholder:"NATPORT" help:"external port in case of NAT"`
	NoBc       bool    `short:"x" name:"nobc" help:"don't start a broadcast server"`
	Key        *string `short:"k" name:"key" placeholder:"KEY" help:"the HMAC key to use (deprecated)"`
	HTTP       *string `name:"http" placeholder:"ADDR" help:"serve metrics, health, the names API and a live registry page on HOST:PORT (off by default)"`
	LogFormat  *string `name:"log-format" placeholder:"FORMAT" help:"log format: text or json"`
	Config     string  `name:"config" type:"path" placeholder:"FILE" help:"TOML configuration file (see nsctl.toml.example); watched, and re-read on SIGHUP"`
	Check      bool    `name:"check" help:"Check the flags, the PYRO_* items and the --config file, print every setting in effect with where it came from, and exit (0 valid, 1 not); serves nothing"`
}

// Help is the detailed help of pyro4 ns.
func (c *NsCmd) Help() string {
	return `Settings are layered: a flag over its PYRO_* item, over the --config file, over Pyro4's default. --check prints the result with the source of each value (default, FILE:LINE, environment PYRO_X, flag -p).

Exit status: 0 after a clean shutdown (SIGINT, SIGTERM) or a passing --check; 1 when the server cannot start or stops on an error, or --check finds a problem; 2 for a usage error or a malformed setting (flag, PYRO_* item or config file).`
}

// Validate checks the port flags as they are parsed, as optparse checks
// an integer.
func (c *NsCmd) Validate() error {
	for _, p := range []struct {
		name string
		v    *int
	}{{"-p", c.Port}, {"--bcport", c.BcPort}, {"--natport", c.NatPort}} {
		if p.v != nil && (*p.v < 0 || *p.v > 65535) {
			return fmt.Errorf("option %s: port %d is out of range (0-65535)", p.name, *p.v)
		}
	}
	return nil
}

// check is --check: resolve every source, print what is in effect and from
// where, or the first problem.
func (c *NsCmd) check(io *IO) error {
	r, _, err := c.resolve(io)
	if err == nil {
		_, err = persist.ParseStorage(r.Settings().Storage)
		if err != nil {
			err = &ExitError{Code: 1, Msg: "pyro4 ns: storage: " + err.Error()}
		}
	}
	if err == nil {
		_, err = r.Settings().Options(nil, nil)
	}
	if err == nil {
		_, err = serverCerts(r.Settings())
	}
	if err != nil {
		var ee *ExitError
		if errors.As(err, &ee) {
			return &ExitError{Code: 1, Msg: ee.Msg}
		}
		return nsFail(err)
	}
	tw := tabwriter.NewWriter(io.Stdout, 0, 0, 2, ' ', 0)
	for _, st := range r.Report(config.ForServer) {
		v := st.Value
		if v == "" {
			v = `""`
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", st.Key, v, st.Source)
	}
	return tw.Flush()
}

// keyWarning is the text of Pyro4's deprecation warning for -k.
const keyWarning = "using -k to supply HMAC key on the command line is a security problem " +
	"and is deprecated since Pyro 4.72. See the documentation for an alternative."

// Run starts the name server and serves until SIGINT or SIGTERM (or the
// IO context) ends it.
func (c *NsCmd) Run(io *IO) error {
	ctx := io.Context
	if ctx == nil {
		ctx = context.Background()
	}
	if c.Check {
		return c.check(io)
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	settings, reloader, err := c.load(io)
	if err != nil {
		return err
	}
	certs, err := serverCerts(settings)
	if err != nil {
		return err
	}
	logs, err := openNsLogs(io, settings)
	if err != nil {
		return nsFail(err)
	}
	defer logs.close() // last: the server logs its shutdown
	// The endpoint is made before the store, so that an etcd store can
	// report other nodes' changes to its event stream.
	ops := newOpsEndpoint(settings)
	store, err := openStore(ctx, settings, logs.store, ops.remoteChangeFunc())
	if errors.Is(err, persist.ErrInvalidSpec) {
		return &ExitError{Code: 2, Msg: "pyro4 ns: storage: " + err.Error()}
	}
	if err != nil {
		return nsFail(fmt.Errorf("storage: %w", err))
	}
	closeStore := sync.OnceValue(store.Close)
	defer closeStore()
	opts, err := settings.Options(store, logs.server)
	if err != nil {
		return nsFail(err)
	}
	opts.AutoCleanUnreachable, opts.AutoCleanLoopDelay = autocleanUnreachable, autocleanLoopDelay
	if certs != nil {
		opts.TLS = certs.Config()
	}
	ops.instrument(&opts)
	if es, ok := store.(*etcdStore); ok && ops != nil {
		ops.cluster = es.cluster
	}
	srv, err := nameserver.New(opts)
	if err != nil {
		return nsFail(err)
	}
	defer srv.Close()
	if ops != nil {
		// The name server's own TLS configuration, so the endpoint follows
		// certificate rotation too.
		if err := ops.start(srv, settings, opts.TLS, logs.server); err != nil {
			return nsFail(err)
		}
		defer ops.close()
	}
	if reloader != nil {
		reloader.Logger = logs.reload
		if ops != nil {
			reloader.Reloaded = ops.metrics.ConfigReloaded
		}
		if err := reloader.Bind(config.ServerTarget(srv)); err != nil {
			return nsFail(err)
		}
	}
	if reloader != nil || certs != nil {
		// Before the startup lines, which tell a supervisor that SIGHUP
		// may be sent.
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		go followFiles(ctx, reloader, certs, hup, logs.reload)
	}
	if err := printStartup(io, srv, settings); err != nil {
		return nsFail(err)
	}
	if ops != nil {
		fmt.Fprintf(io.Stdout, "Operations endpoint on %s\n", ops.URL())
	}
	// The listeners are bound and connections queue until Serve accepts
	// them, so a supervisor may start clients now.
	if err := sdNotify("READY=1"); err != nil {
		logs.server.Warn(err.Error())
	}
	if err := srv.Serve(ctx); err != nil {
		return nsFail(err)
	}
	sdNotify("STOPPING=1")
	if err := ops.close(); err != nil {
		return nsFail(err)
	}
	if err := srv.Close(); err != nil {
		return nsFail(err)
	}
	if err := closeStore(); err != nil {
		return nsFail(fmt.Errorf("close storage: %w", err))
	}
	fmt.Fprintln(io.Stdout, "NS shut down.")
	return nil
}

func nsFail(err error) error { return &ExitError{Code: 1, Msg: "pyro4 ns: " + err.Error()} }

// flags is the command line's layer of settings: the flags given.
func (c *NsCmd) flags() config.Layer {
	l := config.Layer{
		Host:          config.Flag(c.Host, "-n"),
		Port:          config.Flag(c.Port, "-p"),
		UnixSocket:    config.Flag(c.UnixSocket, "-u"),
		Storage:       config.Flag(c.Storage, "-s"),
		BroadcastHost: config.Flag(c.BcHost, "--bchost"),
		BroadcastPort: config.Flag(c.BcPort, "--bcport"),
		NATHost:       config.Flag(c.NatHost, "--nathost"),
		NATPort:       config.Flag(c.NatPort, "--natport"),
		HTTPListen:    config.Flag(c.HTTP, "--http"),
		LogFormat:     config.Flag(c.LogFormat, "--log-format"),
	}
	if c.NoBc {
		l.Broadcast = config.Given(false, config.FlagSource("-x"))
	}
	// An empty -k is no -k, as in Pyro4.
	if c.Key != nil && *c.Key != "" {
		l.HMACKey = config.Given(config.Secret(*c.Key), config.FlagSource("-k"))
	}
	return l
}

// load resolves the settings from the config file (with a reloader for
// it), the PYRO_* items and the flags.
func (c *NsCmd) load(io *IO) (config.Settings, *config.Reloader, error) {
	r, reloader, err := c.resolve(io)
	if err != nil {
		return config.Settings{}, nil, err
	}
	return r.Settings(), reloader, nil
}

// resolve is load's resolution, with every value's source.
func (c *NsCmd) resolve(io *IO) (config.Resolved, *config.Reloader, error) {
	env, err := config.EnvLayer(os.LookupEnv)
	if err != nil {
		return config.Resolved{}, nil, settingFail("ns", err)
	}
	flags := c.flags()
	if flags.HMACKey.Set {
		fmt.Fprintln(io.Stderr, "UserWarning: "+keyWarning)
		if env.HMACKey.Set {
			return config.Resolved{}, nil, &ExitError{Code: 2, Msg: "error: don't use -k and PYRO_HMAC_KEY at the same time"}
		}
	}
	if c.Config == "" {
		r, err := config.Resolve(config.ForServer, env, flags)
		if err != nil {
			return config.Resolved{}, nil, settingFail("ns", err)
		}
		return r, nil, nil
	}
	reloader := &config.Reloader{Path: c.Config, Lookup: os.LookupEnv, Over: []config.Layer{env, flags}}
	r, err := reloader.Load()
	if err != nil {
		return config.Resolved{}, nil, settingFail("ns", err)
	}
	return r, reloader, nil
}

// settingFail is the exit of a command whose settings do not resolve: 2
// for a malformed setting, 1 for a file that cannot be read.
func settingFail(cmd string, err error) error {
	code := 1
	var fe *config.Error
	var se *config.SettingError
	var ee *config.EnvError
	if errors.As(err, &fe) || errors.As(err, &se) || errors.As(err, &ee) {
		code = 2
	}
	return &ExitError{Code: code, Msg: "pyro4 " + cmd + ": " + err.Error()}
}

// followFiles applies the config file (r) and re-reads the TLS
// certificate files (certs) when they change and on SIGHUP, until ctx is
// done; either may be nil.
func followFiles(ctx context.Context, r *config.Reloader, certs *tlsconf.Reloader, hup <-chan os.Signal, log *slog.Logger) {
	if r != nil {
		go func() {
			if err := r.Watch(ctx); err != nil {
				log.Error("not watching the config file (SIGHUP still reloads it)", "config", r.Path, "err", err)
			}
		}()
	}
	if certs != nil {
		go watchCerts(ctx, certs, log)
	}
	for {
		select {
		case <-hup:
			if r != nil {
				r.Reload()
			}
			if certs != nil {
				reloadCerts(certs, log)
			}
		case <-ctx.Done():
			return
		}
	}
}

// printStartup prints what pyro4-ns's startNSloop prints, line for line.
func printStartup(io *IO, srv *nameserver.Server, s config.Settings) error {
	out := io.Stdout
	hostIP := "Unix domain socket"
	if a, ok := srv.Addr().(*net.TCPAddr); ok {
		ip := a.IP
		hostIP = ip.String() // Python's getsockname()[0]
		switch {
		case ip.To4() == nil:
			fmt.Fprintln(out, "Not starting broadcast server for IPv6.")
		case ip.IsLoopback():
			fmt.Fprintln(out, "Not starting broadcast server for localhost.")
		}
		if bc := srv.BroadcastAddr(); bc != nil {
			fmt.Fprintf(out, "Broadcast server running on %s\n", broadcastLocation(bc, s))
		}
	}
	existing, err := srv.Registry().Store().Count()
	if err != nil {
		return fmt.Errorf("count registrations: %w", err)
	}
	// The name server's own entry is always there.
	if existing > 1 {
		fmt.Fprintf(out, "Persistent store contains %d existing registrations.\n", existing)
	}
	fmt.Fprintf(out, "NS running on %s (%s)\n", srv.InternalURI().Location(), hostIP)
	if len(s.HMACKey) == 0 {
		fmt.Fprintln(out, "Warning: HMAC key not set. Anyone can connect to this server!")
	}
	if s.NATHost != "" {
		fmt.Fprintf(out, "internal URI = %s\n", srv.InternalURI())
		fmt.Fprintf(out, "external URI = %s\n", srv.URI())
	} else {
		fmt.Fprintf(out, "URI = %s\n", srv.URI())
	}
	return nil
}

// broadcastLocation is Pyro4's BroadcastServer.locationStr: the configured
// host and port, or where the socket was bound when they were left open.
func broadcastLocation(bc net.Addr, s config.Settings) string {
	host, port := s.BroadcastHost, s.BroadcastPort
	if ua, ok := bc.(*net.UDPAddr); ok {
		if host == "" {
			host = ua.IP.String()
			if ua.IP.IsUnspecified() {
				host = "0.0.0.0"
			}
		}
		if port == 0 {
			port = ua.Port
		}
	}
	if strings.Contains(host, ":") {
		return "[" + host + "]:" + strconv.Itoa(port)
	}
	return host + ":" + strconv.Itoa(port)
}

// Test hooks: the autoclean timings, zero (Pyro4's 20 s and 2 s) except in
// tests that need a removal to happen within seconds.
var autocleanUnreachable, autocleanLoopDelay time.Duration

// nsLogs are the name server's two loggers, writing to one destination.
type nsLogs struct {
	server *slog.Logger // the nameserver package's log
	reload *slog.Logger // the config file follower's log
	// store is a shared store's log: etcd lost (a warning) and regained
	// (info, with how stale the index was), shown by default as both are.
	store *slog.Logger
	close func() error
}

// openNsLogs sets up logging from PYRO_LOGLEVEL and PYRO_LOGFILE. Unlike
// Pyro4, which logs nothing without PYRO_LOGLEVEL, the server always logs
// warnings and errors (autoclean removals among them) and the reloader what
// it changed; PYRO_LOGLEVEL sets one level for both. The log goes to stderr
// unless PYRO_LOGFILE names a file to append to (Pyro4's default is
// pyro.log in the working directory); "{stderr}" is stderr, as in Pyro4.
func openNsLogs(io *IO, s config.Settings) (nsLogs, error) {
	serverLevel, reloadLevel := slog.LevelWarn, slog.LevelInfo
	if s.LogLevel != "" {
		l, err := config.ParseLogLevel(s.LogLevel)
		if err != nil {
			return nsLogs{}, err
		}
		serverLevel, reloadLevel = l, l
	}
	var w stdio.Writer = io.Stderr
	closeFn := func() error { return nil }
	if f := s.LogFile; f != "" && f != "{stderr}" {
		file, err := os.OpenFile(f, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err == nil {
			w, closeFn = file, file.Close
		} else {
			// As Pyro4 does: a log file that cannot be written is no
			// reason not to serve. Said whatever the level.
			fmt.Fprintf(io.Stderr, "pyro4 ns: cannot write to PYRO_LOGFILE (%v); logging to stderr instead\n", err)
		}
	}
	handler := func(level slog.Level) slog.Handler {
		if s.LogFormat == "json" {
			return slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level})
		}
		return slog.NewTextHandler(w, &slog.HandlerOptions{Level: level})
	}
	return nsLogs{
		server: slog.New(handler(serverLevel)),
		reload: slog.New(handler(reloadLevel)),
		store:  slog.New(handler(reloadLevel)),
		close:  closeFn,
	}, nil
}
