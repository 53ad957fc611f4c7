// Package commands is the pyro4 command line: one file per subcommand, all
// parsed by kong from one model, so help, completion and the README's
// reference come from the same struct tags.
package commands

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"

	"github.com/alecthomas/kong"
	"github.com/willabides/kongplete"
)

// Build information, set by the release build through -ldflags -X. A
// binary from go install or go build has them from its build info instead
// (versionText).
var (
	Version = "dev"
	Commit  = "none"
	Date    = "unknown"
)

// versionText is what --version prints.
func versionText() string {
	bi, _ := debug.ReadBuildInfo()
	return buildVersion(Version, Commit, Date, bi)
}

// buildVersion fills what -ldflags left at its default from what the Go
// toolchain recorded: the module version (a tag, or a pseudo-version from
// the commit) and, when built in a git checkout, the commit and its time.
func buildVersion(version, commit, date string, bi *debug.BuildInfo) string {
	if bi != nil {
		vcs := map[string]string{}
		for _, s := range bi.Settings {
			vcs[s.Key] = s.Value
		}
		if v := bi.Main.Version; version == "dev" && v != "" && v != "(devel)" {
			version = v
		}
		if rev := vcs["vcs.revision"]; commit == "none" && rev != "" {
			commit = rev
			if vcs["vcs.modified"] == "true" {
				commit += "-dirty"
			}
		}
		if t := vcs["vcs.time"]; date == "unknown" && t != "" {
			date = t
		}
	}
	return fmt.Sprintf("pyro4 %s (commit %s, built %s)", version, commit, date)
}

// CLI is the whole command-line model.
type CLI struct {
	Version kong.VersionFlag `help:"Print version information and exit."`

	Ns                 NsCmd                 `cmd:"" help:"Run a Pyro4 name server (pyro4-ns)."`
	Nsc                NscCmd                `cmd:"" help:"Control a running name server (pyro4-nsc)."`
	Resolve            ResolveCmd            `cmd:"" help:"Resolve PYRONAME:, PYROMETA: or PYRO: URIs to PYRO: URIs."`
	Locate             LocateCmd             `cmd:"" help:"Find a name server and print its URI."`
	InstallLinks       InstallLinksCmd       `cmd:"" name:"install-links" help:"Create the pyro4-ns and pyro4-nsc symlinks."`
	InstallCompletions InstallCompletionsCmd `cmd:"" name:"install-completions" help:"Print the shell code that enables completion for bash, zsh or fish."`
	Migrate            MigrateCmd            `cmd:"" help:"Copy every registration from one store to another (sql:, dbm:, bolt:, json:)."`
}

// IO carries the process's standard streams to the commands, so tests can run
// a command in-process and read what it printed.
type IO struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Context ends a long-running command (the name server) as a signal
	// would; nil means never.
	Context context.Context
}

// ExitError ends a command with a specific exit status; its message, if any,
// has already been printed or is printed by Main.
type ExitError struct {
	Code int
	Msg  string
}

func (e *ExitError) Error() string { return e.Msg }

// multicallNames are the subcommands a link may be named after
// (pyro4-ns, pyro4-nsc, ...), as the release's links are.
var multicallNames = []string{"ns", "nsc", "resolve", "locate"}

// multicallSub is the subcommand a binary named pyro4-<sub> runs, or "" for
// any other name: pyro4-linux-amd64 or pyro4-1.0 is plain pyro4.
func multicallSub(argv0 string) string {
	base := strings.TrimSuffix(filepath.Base(argv0), ".exe")
	if sub, ok := strings.CutPrefix(base, "pyro4-"); ok && slices.Contains(multicallNames, sub) {
		return sub
	}
	return ""
}

// multicallArgs turns "pyro4-ns -p 1" into "ns -p 1": a link named
// pyro4-<sub> runs <sub>.
func multicallArgs(argv []string) []string {
	if len(argv) == 0 {
		return nil
	}
	if sub := multicallSub(argv[0]); sub != "" {
		return append([]string{sub}, argv[1:]...)
	}
	return argv[1:]
}

// invokedName rewrites "pyro4 <sub>" in text to the name the binary was
// invoked as (pyro4-ns for "pyro4 ns"), so usage lines and error prefixes
// name what the user typed.
func invokedName(argv []string, text string) string {
	if len(argv) == 0 {
		return text
	}
	sub := multicallSub(argv[0])
	if sub == "" {
		return text
	}
	re := regexp.MustCompile(`\bpyro4 ` + regexp.QuoteMeta(sub) + `\b`)
	return re.ReplaceAllString(text, "pyro4-"+sub)
}

// exitStatusHelp is the one exit-status rule that every command's help
// states, in these words or in its own detail.
const exitStatusHelp = "Exit status: 0 on success; 1 on failure; 2 for a usage error or a malformed setting (flag, PYRO_* item or config file)."

// NewParser builds the kong parser for the CLI model.
func NewParser(cli *CLI, stdout, stderr io.Writer, exit func(int)) (*kong.Kong, error) {
	return newParser(cli, nil, stdout, stderr, exit)
}

// newParser is NewParser for a binary invoked as argv[0]: help names it.
func newParser(cli *CLI, argv []string, stdout, stderr io.Writer, exit func(int)) (*kong.Kong, error) {
	return kong.New(cli,
		kong.Help(func(o kong.HelpOptions, ctx *kong.Context) error {
			var b strings.Builder
			out := ctx.Stdout
			ctx.Stdout = &b
			err := kong.DefaultHelpPrinter(o, ctx)
			ctx.Stdout = out
			if _, werr := io.WriteString(out, invokedName(argv, b.String())); err == nil {
				err = werr
			}
			return err
		}),
		kong.Name("pyro4"),
		kong.Description("A Pyro4 name server and its tools, wire-compatible with Pyro4 4.x (protocol 48)."),
		kong.UsageOnError(),
		kong.Writers(stdout, stderr),
		kong.Exit(exit),
		kong.Vars{"version": versionText()},
	)
}

// Main runs the command line and returns the process exit status.
func Main(argv []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	return MainContext(context.Background(), argv, stdin, stdout, stderr)
}

// MainContext is Main with a context that stops a long-running command when
// it is done, so tests can run the name server in-process and end it.
func MainContext(ctx context.Context, argv []string, stdin io.Reader, stdout, stderr io.Writer) (code int) {
	var cli CLI
	exited := false
	exit := func(c int) { exited, code = true, c; panic(exitSignal{}) }
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(exitSignal); !ok || !exited {
				panic(r)
			}
		}
	}()
	parser, err := newParser(&cli, argv, stdout, stderr, exit)
	if err != nil {
		fmt.Fprintln(stderr, "pyro4:", err)
		return 2
	}
	rewriteMulticallCompletion()
	kongplete.Complete(parser, kongplete.WithPredictors(completionPredictors))
	kctx, err := parser.Parse(multicallArgs(argv))
	if err != nil {
		usageError(stderr, argv, err)
		return 2
	}
	err = kctx.Run(&IO{Stdin: stdin, Stdout: stdout, Stderr: stderr, Context: ctx})
	var ee *ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if ee.Msg != "" {
			fmt.Fprintln(stderr, invokedName(argv, ee.Msg))
		}
		return ee.Code
	default:
		fmt.Fprintln(stderr, "pyro4:", err)
		return 1
	}
}

// usageError prints a parse error as optparse does: a usage line, a blank
// line, then "NAME: error: MESSAGE", with the name invoked.
func usageError(w io.Writer, argv []string, err error) {
	name, summary, msg := "pyro4", "pyro4 <command> [flags]", err.Error()
	var pe *kong.ParseError
	if errors.As(err, &pe) && pe.Context != nil {
		if n := pe.Context.Selected(); n != nil {
			name, summary = "pyro4 "+n.Path(), "pyro4 "+n.Summary()
			// A Validate error comes prefixed with the command's path.
			msg = strings.TrimPrefix(msg, n.Path()+": ")
		}
	}
	fmt.Fprintf(w, "%s\n\n%s: error: %s\n", invokedName(argv, "Usage: "+summary), invokedName(argv, name), msg)
}

// exitSignal unwinds kong's exit callback (help, version, parse errors) back
// into Main, so Main returns a status instead of ending the process: tests
// call Main directly.
type exitSignal struct{}
