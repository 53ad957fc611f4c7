package commands

import (
	"context"
	"errors"
	"fmt"

	"github.com/pyro4/pyro4/locator"
	"github.com/pyro4/pyro4/wire"
)

// ResolveCmd resolves PYRONAME:, PYROMETA: and PYRO: URIs to PYRO: URIs.
type ResolveCmd struct {
	nsLocation `embed:""`
	JSON       bool     `name:"json" help:"Print a JSON array with one object per URI instead of bare URIs."`
	URIs       []string `arg:"" name:"uri" help:"URIs to resolve: PYRONAME:name[@host[:port]], PYROMETA:tag,...[@host[:port]] or PYRO:obj@location."`
}

// Help is the detailed help of pyro4 resolve.
func (c *ResolveCmd) Help() string {
	return `Prints one PYRO: URI per resolved argument on standard output, in order. A PYRONAME: URI is looked up, a PYROMETA: URI resolves to a random registration having all the tags, a PYRO: URI is printed unchanged.

A URI with a location (PYRONAME:x@host:port, PYRONAME:x@./u:socket) asks the name server there; one without asks the name server given by -n/-p/-u, or the one found as pyro4 locate finds it.

Exit status: 0 when every URI resolved; 1 when any failed, with one line per failure on standard error (invalid URI, unknown name, no name server); 2 for usage errors, a malformed PYRO_* item, or -k together with PYRO_HMAC_KEY.

With --json the output is one array, an object per argument, holding either the URI or the error:

    [{"input":"PYRONAME:x","uri":"PYRO:obj@host:5000"},{"input":"PYRONAME:y","error":"NamingError: unknown name: y"}]`
}

// resolveJSON is the --json shape of one resolved argument.
type resolveJSON struct {
	Input string `json:"input"`
	URI   string `json:"uri,omitempty"`
	Error string `json:"error,omitempty"`
}

// Run executes the command.
func (c *ResolveCmd) Run(io *IO) error {
	s, err := c.settings("resolve", io.Stderr)
	if err != nil {
		return err
	}
	opts, err := c.locateOptions("resolve", s)
	if err != nil {
		return err
	}
	r := &resolver{opts: opts, conns: map[string]*locator.NameServer{}}
	defer r.close()
	var out []resolveJSON
	failed := 0
	for _, arg := range c.URIs {
		res := resolveJSON{Input: arg}
		u, err := r.resolve(arg, s.Port)
		if err != nil {
			failed++
			res.Error = resolveErrorText(err)
			fmt.Fprintf(io.Stderr, "pyro4 resolve: %s: %s\n", arg, res.Error)
		} else {
			res.URI = u.String()
			if !c.JSON {
				fmt.Fprintln(io.Stdout, res.URI)
			}
		}
		out = append(out, res)
	}
	if c.JSON {
		if err := writeJSON(io.Stdout, out); err != nil {
			return err
		}
	}
	if failed > 0 {
		return &ExitError{Code: 1}
	}
	return nil
}

func resolveErrorText(err error) string {
	var le *locator.LocateError
	if errors.As(err, &le) {
		return locateFailure(err)
	}
	var e *wire.Exception
	if errors.As(err, &e) {
		return e.Error()
	}
	return err.Error()
}

// resolver keeps one connection per name server location, so that many
// URIs cost one locate.
type resolver struct {
	opts  locator.LocateOptions
	conns map[string]*locator.NameServer
	fails map[string]error
}

func (r *resolver) resolve(arg string, nsPort int) (wire.URI, error) {
	u, err := wire.ParseURIPort(arg, nsPort)
	if err != nil {
		return wire.URI{}, err
	}
	if u.Protocol == "PYRO" {
		return u, nil
	}
	opts := locator.LocationOf(u, r.opts)
	key := fmt.Sprintf("%s|%d", opts.Host, opts.Port)
	if err := r.fails[key]; err != nil {
		return wire.URI{}, err
	}
	ns := r.conns[key]
	if ns == nil {
		ns, _, err = locator.Locate(context.Background(), opts)
		if err != nil {
			if r.fails == nil {
				r.fails = map[string]error{}
			}
			r.fails[key] = err
			return wire.URI{}, err
		}
		r.conns[key] = ns
	}
	return ns.Resolve(u)
}

func (r *resolver) close() {
	for _, ns := range r.conns {
		ns.Close()
	}
}
