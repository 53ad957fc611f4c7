package commands

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/posener/complete"
)

// completionPredictors name the value completions a flag or argument can ask
// for with a `predictor:"file"` or `predictor:"dir"` tag. Without one, the
// shell offers nothing for a value: `complete -C` does not fall back to
// file names.
var completionPredictors = map[string]complete.Predictor{
	"file": complete.PredictFiles("*"),
	"dir":  complete.PredictDirs("*"),
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
