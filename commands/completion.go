package commands

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/posener/complete"
	"github.com/riywo/loginshell"
)

// completionPredictors name the value completions a flag or argument can ask
// for with a `predictor:"file"`, `predictor:"dir"` or `predictor:"shell"` tag. Without one, the
// shell offers nothing for a value: `complete -C` does not fall back to
// file names.
var completionPredictors = map[string]complete.Predictor{
	"file":  complete.PredictFiles("*"),
	"dir":   complete.PredictDirs("*"),
	"shell": complete.PredictSet("bash", "zsh", "fish"),
}

// Environment of the bash completion protocol (complete -C): the line typed
// so far and the cursor position in it.
const (
	envCompLine  = "COMP_LINE"
	envCompPoint = "COMP_POINT"
)

// rewriteMulticallCompletion makes `complete -C pyro4 pyro4-nsc` complete
// the nsc subcommand. The shell passes the line as typed, starting with the
// link's name, while the completion model is rooted at pyro4, so
// "pyro4-nsc li" becomes "pyro4 nsc li". Outside completion it does nothing.
func rewriteMulticallCompletion() {
	line, ok := os.LookupEnv(envCompLine)
	if !ok || line == "" {
		return
	}
	if point, err := strconv.Atoi(os.Getenv(envCompPoint)); err == nil && point >= 0 && point < len(line) {
		line = line[:point]
	}
	line = strings.TrimLeft(line, " \t")
	first, rest, found := strings.Cut(line, " ")
	if !found {
		return // still typing the command name itself
	}
	sub, ok := strings.CutPrefix(strings.TrimSuffix(filepath.Base(first), ".exe"), "pyro4-")
	if !ok || sub == "" {
		return
	}
	line = "pyro4 " + sub + " " + rest
	// Setenv fails only on invalid names; these are constants.
	_ = os.Setenv(envCompLine, line)
	_ = os.Setenv(envCompPoint, strconv.Itoa(len(line)))
}

// InstallCompletionsCmd prints the shell code that makes a shell ask this
// binary for completions (the `complete -C` protocol above). It writes
// nothing itself: where a snippet belongs differs per user and shell.
type InstallCompletionsCmd struct {
	Shell string `arg:"" optional:"" predictor:"shell" placeholder:"bash|zsh|fish" help:"Shell to print the snippet for: bash, zsh or fish (default: the shell named by $SHELL, else your login shell)."`
}

// Help is the detailed help of pyro4 install-completions.
func (c *InstallCompletionsCmd) Help() string {
	return `Prints shell code that makes the shell complete pyro4's subcommands, flags and arguments; the shell then asks this binary (by its absolute path) for the candidates. Nothing is installed: load the code into the running shell, or add it to the shell's startup file:

    eval "$(pyro4 install-completions)"     # this bash or zsh session
    pyro4 install-completions bash >> ~/.bashrc
    pyro4 install-completions zsh >> ~/.zshrc
    pyro4 install-completions fish > ~/.config/fish/completions/pyro4.fish

The snippet completes the command pyro4. For the pyro4-ns and pyro4-nsc links, also run (bash, zsh): complete -C "$(command -v pyro4)" pyro4-ns pyro4-nsc

Exit status: 0 when a snippet was printed; 1 when no shell was named and $SHELL (or the login shell) is none of bash, zsh, fish; 2 for an unknown shell argument.`
}

// completionShells are the snippets by shell, given the binary's path;
// each quotes it as its shell reads quotes.
var completionShells = map[string]func(exe string) string{
	"bash": func(exe string) string {
		return "complete -C " + shQuote(exe) + " pyro4\n"
	},
	// bashcompinit's complete needs compdef, which only compinit defines;
	// a ~/.zshrc without a framework has not run it.
	"zsh": func(exe string) string {
		return "(( ${+functions[compdef]} )) || { autoload -U +X compinit && compinit }\n" +
			"autoload -U +X bashcompinit && bashcompinit\n" +
			"complete -C " + shQuote(exe) + " pyro4\n"
	},
	// fish has no complete -C protocol: this function sets COMP_LINE from
	// the command line (with the space after a finished word) and runs us.
	"fish": func(exe string) string {
		return "function __complete_pyro4\n" +
			"    set -lx COMP_LINE (commandline -cp)\n" +
			"    test -z (commandline -ct)\n" +
			"    and set COMP_LINE \"$COMP_LINE \"\n" +
			"    " + fishQuote(exe) + "\n" +
			"end\n" +
			"complete -f -c pyro4 -a \"(__complete_pyro4)\"\n"
	},
}

// Run prints the snippet.
func (c *InstallCompletionsCmd) Run(stdio *IO) error {
	shell := c.Shell
	if shell == "" {
		var err error
		if shell, err = defaultShell(); err != nil {
			return &ExitError{Code: 1, Msg: "pyro4 install-completions: " + err.Error()}
		}
	}
	snippet, ok := completionShells[shell]
	if !ok {
		return &ExitError{Code: 2, Msg: fmt.Sprintf("pyro4 install-completions: no completion for shell %q: name one of bash, zsh, fish", shell)}
	}
	exe, err := executable()
	if err != nil {
		return fmt.Errorf("install-completions: locate the running binary: %w", err)
	}
	if exe, err = filepath.Abs(exe); err != nil {
		return fmt.Errorf("install-completions: %w", err)
	}
	_, err = io.WriteString(stdio.Stdout, snippet(exe))
	return err
}

// defaultShell is the base name of $SHELL, or else of the login shell, when
// it is one we have a snippet for.
func defaultShell() (string, error) {
	path, from := os.Getenv("SHELL"), "$SHELL"
	if path == "" {
		var err error
		if path, err = loginshell.Shell(); err != nil {
			return "", fmt.Errorf("$SHELL is not set and the login shell is unknown (%v); name the shell: pyro4 install-completions bash|zsh|fish", err)
		}
		from = "the login shell"
	}
	shell := filepath.Base(path)
	if _, ok := completionShells[shell]; !ok {
		return "", fmt.Errorf("%s is %s, which has no completion snippet; name the shell: pyro4 install-completions bash|zsh|fish", from, path)
	}
	return shell, nil
}

// shQuote quotes s for bash and zsh: single quotes, each ' inside closed, escaped and reopened.
func shQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// fishQuote quotes s for fish, where \ and ' are escaped inside single
// quotes.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}
