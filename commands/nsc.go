package commands

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/pyro4/pyro4/locator"
	"github.com/pyro4/pyro4/wire"
)

// NscCmd is pyro4-nsc: it runs one command against a name server and prints
// what Pyro4 4.82's pyro4-nsc prints.
type NscCmd struct {
	nsLocation `embed:""`
	Verbose    bool     `short:"v" help:"Verbose output."`
	Yes        bool     `short:"y" help:"removematching: remove without asking for confirmation."`
	JSON       bool     `name:"json" help:"list*, lookup: print JSON instead of pyro4-nsc's text (shapes below)."`
	Command    string   `arg:"" enum:"ping,list,listmatching,lookup,register,remove,removematching,setmeta,listmeta_all,listmeta_any" help:"One of: ${enum}."`
	Args       []string `arg:"" optional:"" help:"Arguments of the command."`
}

// Help is the detailed help of pyro4 nsc.
func (c *NscCmd) Help() string {
	return `Commands:

    ping                      check that the name server answers
    list [PREFIX]             list the registrations (whose names start with PREFIX)
    listmatching REGEX        list the registrations whose names match REGEX (anchored at the start)
    listmeta_all TAG...       list the registrations having all of the metadata tags
    listmeta_any TAG...       list the registrations having any of the metadata tags
    lookup NAME               print the URI registered under NAME, and its metadata
    register NAME URI         register URI under NAME (fails if NAME is taken)
    remove NAME               remove the registration of NAME
    removematching REGEX      remove every registration matching REGEX (asks first, unless -y)
    setmeta NAME [TAG...]     set (or, without tags, clear) the metadata of NAME

Standard output is what Pyro4 4.82's pyro4-nsc prints for the same name server, metadata tags in the order the server sends them. The HMAC key comes from PYRO_HMAC_KEY or -k, not both.

Exit status: 0 on success; 1 when the command failed or no name server was found (the "Error: ..." line is still printed on standard output; pyro4-nsc exits 0 there); 2 for usage errors (checked before the name server is located), a malformed PYRO_* item, or -k together with PYRO_HMAC_KEY.

With --json, list, listmatching, listmeta_all and listmeta_any print an array sorted by name, and lookup one object; metadata is a sorted array, empty when there is none; errors go to standard error:

    [{"name":"Pyro.NameServer","uri":"PYRO:Pyro.NameServer@localhost:9090","metadata":["class:Pyro4.naming.NameServer"]}]
    {"name":"x","uri":"PYRO:obj@host:5000","metadata":[]}`
}

// nscArgCheck is each command's argument rule and pyro4-nsc's message for
// breaking it.
var nscArgCheck = map[string]struct {
	min, max int // max -1: no limit
	msg      string
}{
	"ping":           {0, -1, ""},
	"list":           {0, -1, ""},
	"listmatching":   {1, 1, "requires one argument: pattern"},
	"lookup":         {1, 1, "requires one argument: name"},
	"register":       {2, 2, "requires two arguments: name uri"},
	"remove":         {1, 1, "requires one argument: name"},
	"removematching": {1, 1, "requires one argument: pattern"},
	"setmeta":        {1, -1, "requires at least 2 arguments: uri and zero or more meta tags"},
	"listmeta_all":   {1, -1, "requires at least one metadata tag argument"},
	"listmeta_any":   {1, -1, "requires at least one metadata tag argument"},
}

func nscUsage(format string, a ...any) error {
	return &ExitError{Code: 2, Msg: "pyro4 nsc: " + fmt.Sprintf(format, a...)}
}

// Run executes the command.
func (c *NscCmd) Run(io *IO) error {
	check, ok := nscArgCheck[c.Command]
	if !ok {
		return nscUsage("invalid or missing command")
	}
	if n := len(c.Args); n < check.min || check.max >= 0 && n > check.max {
		return nscUsage("%s: %s", c.Command, check.msg)
	}
	if c.JSON && c.Command != "lookup" && !strings.HasPrefix(c.Command, "list") {
		return nscUsage("--json applies to list, listmatching, listmeta_all, listmeta_any and lookup, not %s", c.Command)
	}
	s, err := c.settings("nsc", io.Stderr)
	if err != nil {
		return err
	}
	opts, err := c.locateOptions("nsc", s)
	if err != nil {
		return err
	}
	// in JSON mode standard output holds nothing but the JSON
	out, info := io.Stdout, io.Stdout
	if c.JSON {
		info = io.Stderr
	}
	if c.Verbose {
		fmt.Fprintln(info, "Locating name server...")
	}
	ns, _, err := locator.Locate(context.Background(), opts)
	if err != nil {
		fmt.Fprintln(info, "Error: Failed to locate the nameserver")
		return &ExitError{Code: 1, Msg: "pyro4 nsc: " + locateFailure(err)}
	}
	defer ns.Close()
	if c.Verbose {
		fmt.Fprintf(info, "Name server found: %s\n", ns.URI())
	}
	err = c.handle(ns, io, out)
	if err != nil {
		fmt.Fprintf(info, "Error: %s\n", nscErrorText(err))
	}
	if c.Verbose {
		fmt.Fprintln(info, "Done.")
	}
	if err != nil {
		return &ExitError{Code: 1}
	}
	return nil
}

// nscErrorText is what pyro4-nsc prints after "Error: ": the exception's
// class name and its str().
func nscErrorText(err error) string {
	var e *wire.Exception
	if errors.As(err, &e) {
		return e.ShortClass() + " - " + e.Text()
	}
	return "PyroError - " + err.Error()
}

func (c *NscCmd) handle(ns *locator.NameServer, io *IO, out io.Writer) error {
	args := c.Args
	switch c.Command {
	case "ping":
		if err := ns.Ping(); err != nil {
			return err
		}
		fmt.Fprintln(out, "Name server ping ok.")
	case "list":
		if len(args) == 0 {
			return c.printList(out, ns, locator.ListOptions{}, "")
		}
		return c.printList(out, ns, locator.ListOptions{Prefix: args[0]}, fmt.Sprintf("- prefix '%s'", args[0]))
	case "listmatching":
		return c.printList(out, ns, locator.ListOptions{Regex: args[0]}, fmt.Sprintf("- regex '%s'", args[0]))
	case "listmeta_all":
		return c.printList(out, ns, locator.ListOptions{MetadataAll: uniqueSorted(args)}, " - searched by metadata")
	case "listmeta_any":
		return c.printList(out, ns, locator.ListOptions{MetadataAny: uniqueSorted(args)}, " - searched by metadata")
	case "lookup":
		return c.lookup(out, ns, args[0])
	case "register":
		if err := ns.Register(args[0], args[1], true, nil); err != nil {
			return err
		}
		fmt.Fprintf(out, "Registered %s\n", args[0])
	case "remove":
		n, err := ns.Remove(args[0])
		if err != nil {
			return err
		}
		if n > 0 {
			fmt.Fprintf(out, "Removed %s\n", args[0])
		} else {
			fmt.Fprintln(out, "Nothing removed")
		}
	case "removematching":
		return c.removeMatching(out, io.Stdin, ns, args[0])
	case "setmeta":
		meta := uniqueSorted(args[1:])
		if err := ns.SetMetadata(args[0], meta); err != nil {
			return err
		}
		if len(meta) > 0 {
			fmt.Fprintln(out, "Metadata updated")
		} else {
			fmt.Fprintln(out, "Metadata cleared")
		}
	}
	return nil
}

// removeMatching asks as pyro4-nsc does: the prompt without a newline on
// standard output, one line read from standard input, y or Y to go ahead.
func (c *NscCmd) removeMatching(out io.Writer, in io.Reader, ns *locator.NameServer, regex string) error {
	if !c.Yes {
		fmt.Fprint(out, "Potentially removing lots of items from the Name server. Are you sure (y/n)?")
		if in == nil {
			in = strings.NewReader("")
		}
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && (!errors.Is(err, io.EOF) || line == "") {
			return &wire.Exception{Class: wire.ClassEOFError, Message: "EOF when reading a line"}
		}
		if sure := strings.TrimSpace(line); sure != "y" && sure != "Y" {
			return nil
		}
	}
	n, err := ns.RemoveRegex(regex)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%d items removed.\n", n)
	return nil
}

// nscEntryJSON is the --json shape of one registration.
type nscEntryJSON struct {
	Name     string   `json:"name"`
	URI      string   `json:"uri"`
	Metadata []string `json:"metadata"`
}

func (c *NscCmd) printList(out io.Writer, ns *locator.NameServer, lo locator.ListOptions, title string) error {
	lo.ReturnMetadata = true
	entries, err := ns.List(lo)
	if err != nil {
		return err
	}
	if c.JSON {
		js := make([]nscEntryJSON, len(entries))
		for i, e := range entries {
			js[i] = nscEntryJSON{e.Name, e.URI, uniqueSorted(e.Metadata)}
		}
		return writeJSON(out, js)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "--------START LIST %s\n", title)
	for _, e := range entries {
		fmt.Fprintf(&b, "%s --> %s\n", e.Name, e.URI)
		if len(e.Metadata) > 0 {
			fmt.Fprintf(&b, "    metadata: %s\n", metaListRepr(e.Metadata))
		}
	}
	fmt.Fprintf(&b, "--------END LIST %s\n", title)
	_, err = io.WriteString(out, b.String())
	return err
}

func (c *NscCmd) lookup(out io.Writer, ns *locator.NameServer, name string) error {
	uri, meta, err := ns.LookupMeta(name)
	if err != nil {
		return err
	}
	if c.JSON {
		return writeJSON(out, nscEntryJSON{name, uri.String(), uniqueSorted(meta)})
	}
	fmt.Fprintln(out, uri)
	if len(meta) > 0 {
		fmt.Fprintf(out, "metadata: %s\n", metaListRepr(meta))
	}
	return nil
}

// metaListRepr prints metadata as the Python list pyro4-nsc prints: the
// server's list as it came, so that both tools print the same lines for the
// same server (Pyro4's server sends its set in hash order, ours sorted).
func metaListRepr(meta []string) string {
	return wire.Repr(wire.StrList(meta))
}

// uniqueSorted returns the tags sorted without duplicates, as a set of them
// is; never nil.
func uniqueSorted(tags []string) []string {
	s := append([]string{}, tags...)
	slices.Sort(s)
	return slices.Compact(s)
}
