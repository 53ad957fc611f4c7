package commands

import (
	"context"
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
	"time"

	"github.com/pyro4/pyro4/nameserver"
	"github.com/pyro4/pyro4/nameserver/config"
	"github.com/pyro4/pyro4/persist"
)

// NsCmd runs a name server, as pyro4-ns does: the same options, the same
// PYRO_* items, the same startup lines. A flag that is not given leaves the
// setting to the PYRO_* item, then to the --config file, then to Pyro4's
// default; the pointers tell "not given" from a given zero.
type NsCmd struct {
	Host       *string `short:"n" name:"host" placeholder:"HOST" help:"hostname to bind server on"`
	Port       *int    `short:"p" name:"port" placeholder:"PORT" help:"port to bind server on (0=random)"`
	UnixSocket *string `short:"u" name:"unixsocket" placeholder:"UNIXSOCKET" help:"Unix domain socket name to bind server on"`
	Storage    *string `short:"s" name:"storage" placeholder:"STORAGE" help:"Storage system to use (memory, bolt:file)"`
	BcHost     *string `name:"bchost" placeholder:"BCHOST" help:"hostname to bind broadcast server on (default is \"\")"`
	BcPort     *int    `name:"bcport" placeholder:"BCPORT" help:"port to bind broadcast server on (0=random)"`
	NatHost    *string `name:"nathost" placeholder:"NATHOST" help:"external hostname in case of NAT"`
	NatPort    *int    `name:"natport" placeholder:"NATPORT" help:"external port in case of NAT"`
	NoBc       bool    `short:"x" name:"nobc" help:"don't start a broadcast server"`
	Key        *string `short:"k" name:"key" placeholder:"KEY" help:"the HMAC key to use (deprecated)"`
	Config     string  `name:"config" type:"path" placeholder:"FILE" help:"TOML configuration file (see nsctl.toml.example); watched, and re-read on SIGHUP"`
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
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	env, err := LoadPyroEnv(os.LookupEnv)
	if err != nil {
		return nsFail(err)
	}
	logs, err := openNsLogs(io, env)
	if err != nil {
		return nsFail(err)
	}
	defer logs.close() // last: the server logs its shutdown
	settings, reloader, err := c.load(io, env, logs.reload)
	if err != nil {
		return err
	}
	store, err := persist.Open(settings.Storage)
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
	srv, err := nameserver.New(opts)
	if err != nil {
		return nsFail(err)
	}
	defer srv.Close()
	if reloader != nil {
		if err := reloader.Bind(config.ServerTarget(srv)); err != nil {
			return nsFail(err)
		}
		// Before the startup lines, which tell a supervisor that SIGHUP
		// may be sent.
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		go followConfig(ctx, reloader, hup, logs.reload)
	}
	if err := printStartup(io, srv, settings); err != nil {
		return nsFail(err)
	}
	if err := srv.Serve(ctx); err != nil {
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

// load layers the settings: Pyro4's defaults, the config file (with a
// reloader for it), the PYRO_* items, the flags.
func (c *NsCmd) load(io *IO, env PyroEnv, log *slog.Logger) (config.Settings, *config.Reloader, error) {
	if c.Key != nil && *c.Key != "" {
		fmt.Fprintln(io.Stderr, "UserWarning: "+keyWarning)
		if env.HMACKeySet {
			return config.Settings{}, nil, &ExitError{Code: 1, Msg: "error: don't use -k and PYRO_HMAC_KEY at the same time"}
		}
	}
	resolve := func(file *config.Config) (config.Settings, error) {
		s := config.Defaults()
		file.Apply(&s)
		applyPyroEnv(&s, env, os.LookupEnv)
		c.apply(&s)
		return s, nil
	}
	if c.Config == "" {
		s, err := resolve(nil)
		if err != nil {
			return config.Settings{}, nil, nsFail(err)
		}
		return s, nil, nil
	}
	r := &config.Reloader{Path: c.Config, Lookup: os.LookupEnv, Resolve: resolve, Logger: log}
	s, err := r.Load()
	if err != nil {
		return config.Settings{}, nil, nsFail(err)
	}
	return s, r, nil
}

// followConfig applies the config file when it changes and on SIGHUP,
// until ctx is done.
func followConfig(ctx context.Context, r *config.Reloader, hup <-chan os.Signal, log *slog.Logger) {
	go func() {
		if err := r.Watch(ctx); err != nil {
			log.Error(fmt.Sprintf("not watching the config file (SIGHUP still reloads it): %v", err))
		}
	}()
	for {
		select {
		case <-hup:
			r.Reload()
		case <-ctx.Done():
			return
		}
	}
}

// applyPyroEnv overlays the PYRO_* items that are set in the environment.
func applyPyroEnv(s *config.Settings, env PyroEnv, lookup func(string) (string, bool)) {
	set := func(name string) bool {
		_, ok := lookup("PYRO_" + name)
		return ok
	}
	overlay(set("HOST"), &s.Host, env.Host)
	overlay(set("NS_PORT"), &s.Port, env.NSPort)
	overlay(set("NS_BCHOST"), &s.BroadcastHost, env.NSBcHost)
	overlay(set("NS_BCPORT"), &s.BroadcastPort, env.NSBcPort)
	overlay(set("NATHOST"), &s.NATHost, env.NATHost)
	overlay(set("NATPORT"), &s.NATPort, env.NATPort)
	if set("SERIALIZERS_ACCEPTED") {
		s.SerializersAccepted = nil
		for _, n := range ParseAddresses(env.SerializersAccepted) {
			if n != "" {
				s.SerializersAccepted = append(s.SerializersAccepted, n)
			}
		}
	}
	overlay(set("COMMTIMEOUT"), &s.CommTimeout, env.CommTimeout)
	overlay(set("MAX_MESSAGE_SIZE"), &s.MaxMessageSize, env.MaxMessageSize)
	overlay(set("COMPRESSION"), &s.Compression, env.Compression)
	overlay(set("NS_AUTOCLEAN"), &s.AutoClean, env.NSAutoclean)
	if env.HMACKeySet {
		// Set but empty means no key, as in Pyro4.
		s.HMACKey = []byte(env.HMACKey)
		if env.HMACKey == "" {
			s.HMACKey = nil
		}
	}
}

// apply overlays the flags that were given.
func (c *NsCmd) apply(s *config.Settings) {
	overlayFlag(&s.Host, c.Host)
	overlayFlag(&s.Port, c.Port)
	overlayFlag(&s.UnixSocket, c.UnixSocket)
	overlayFlag(&s.Storage, c.Storage)
	overlayFlag(&s.BroadcastHost, c.BcHost)
	overlayFlag(&s.BroadcastPort, c.BcPort)
	overlayFlag(&s.NATHost, c.NatHost)
	overlayFlag(&s.NATPort, c.NatPort)
	if c.NoBc {
		s.Broadcast = false
	}
	// An empty -k is no -k, as in Pyro4.
	if c.Key != nil && *c.Key != "" {
		s.HMACKey = []byte(*c.Key)
	}
}

// overlay sets *dst to v when the item is set.
func overlay[T any](set bool, dst *T, v T) {
	if set {
		*dst = v
	}
}

// overlayFlag sets *dst to the flag's value when the flag was given.
func overlayFlag[T any](dst *T, flag *T) {
	if flag != nil {
		*dst = *flag
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
	close  func() error
}

// openNsLogs sets up logging from PYRO_LOGLEVEL and PYRO_LOGFILE. Unlike
// Pyro4, which logs nothing without PYRO_LOGLEVEL, the server always logs
// warnings and errors (autoclean removals among them) and the reloader what
// it changed; PYRO_LOGLEVEL sets one level for both. The log goes to stderr
// unless PYRO_LOGFILE names a file to append to (Pyro4's default is
// pyro.log in the working directory); "{stderr}" is stderr, as in Pyro4.
func openNsLogs(io *IO, env PyroEnv) (nsLogs, error) {
	serverLevel, reloadLevel := slog.LevelWarn, slog.LevelInfo
	if env.LogLevel != "" {
		l, err := parseLogLevel(env.LogLevel)
		if err != nil {
			return nsLogs{}, err
		}
		serverLevel, reloadLevel = l, l
	}
	var w stdio.Writer = io.Stderr
	closeFn := func() error { return nil }
	if f := env.LogFile; f != "" && f != "{stderr}" {
		file, err := os.OpenFile(f, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
		if err == nil {
			w, closeFn = file, file.Close
		} else {
			// As Pyro4 does: a log file that cannot be written is no
			// reason not to serve. Said whatever the level.
			fmt.Fprintf(io.Stderr, "pyro4 ns: cannot write to PYRO_LOGFILE (%v); logging to stderr instead\n", err)
		}
	}
	return nsLogs{
		server: slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: serverLevel})),
		reload: slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: reloadLevel})),
		close:  closeFn,
	}, nil
}

// parseLogLevel maps the names of Python's logging levels, which
// PYRO_LOGLEVEL takes, to slog levels.
func parseLogLevel(name string) (slog.Level, error) {
	switch strings.ToUpper(strings.TrimSpace(name)) {
	case "DEBUG", "NOTSET":
		return slog.LevelDebug, nil
	case "INFO":
		return slog.LevelInfo, nil
	case "WARNING", "WARN":
		return slog.LevelWarn, nil
	case "ERROR":
		return slog.LevelError, nil
	case "CRITICAL", "FATAL":
		return slog.LevelError + 4, nil
	}
	return 0, fmt.Errorf("PYRO_LOGLEVEL=%q: not a log level (DEBUG, INFO, WARNING, ERROR or CRITICAL)", name)
}
