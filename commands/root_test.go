package commands

import (
	"io"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

// TestEveryFlagHasHelp walks the whole command model: every command,
// flag and positional argument says what it is for.
func TestEveryFlagHasHelp(t *testing.T) {
	var cli CLI
	parser, err := NewParser(&cli, io.Discard, io.Discard, func(int) {})
	if err != nil {
		t.Fatal(err)
	}
	var walk func(n *kong.Node)
	walk = func(n *kong.Node) {
		if n.Type == kong.CommandNode && strings.TrimSpace(n.Help) == "" {
			t.Errorf("command %q has no help", n.FullPath())
		}
		for _, f := range n.Flags {
			if strings.TrimSpace(f.Help) == "" {
				t.Errorf("%s: flag --%s has no help", n.FullPath(), f.Name)
			}
		}
		for _, p := range n.Positional {
			if strings.TrimSpace(p.Help) == "" {
				t.Errorf("%s: argument <%s> has no help", n.FullPath(), p.Name)
			}
		}
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(parser.Model.Node)
}

// readmeCommandFlags reads the README's command table: for each row's
// `pyro4 SUB` command, the flags named in backquotes in that row.
func readmeCommandFlags(t *testing.T) map[string][]string {
	t.Helper()
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n## Commands\n")
	if !ok {
		t.Fatal(`README.md has no "## Commands" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	row := regexp.MustCompile("(?m)^\\| `pyro4 ([a-z-]+)[^`]*`.*$")
	code := regexp.MustCompile("`[^`]*`")
	flag := regexp.MustCompile(`(?:^|[\s/])(--?[a-z][a-z-]*)`)
	flags := map[string][]string{}
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		sub := m[1]
		flags[sub] = []string{}
		for _, span := range code.FindAllString(m[0], -1) {
			for _, f := range flag.FindAllStringSubmatch(strings.Trim(span, "`"), -1) {
				flags[sub] = append(flags[sub], f[1])
			}
		}
	}
	return flags
}

func TestReadmeFlagsAreInHelp(t *testing.T) {
	rows := readmeCommandFlags(t)
	for _, sub := range []string{"ns", "nsc", "resolve", "locate", "install-links", "install-completions"} {
		if _, ok := rows[sub]; !ok {
			t.Errorf("README's command table has no row for pyro4 %s", sub)
		}
	}
	if len(rows["ns"]) < 10 || len(rows["nsc"]) < 5 {
		t.Fatalf("README table rows name too few flags to be read right: %q", rows)
	}
	for sub, flags := range rows {
		code, help, errOut := runMain(t, sub, "--help")
		if code != 0 {
			t.Errorf("pyro4 %s --help: exit %d, %s", sub, code, errOut)
			continue
		}
		_, flagHelp, _ := strings.Cut(help, "\nFlags:\n")
		for _, f := range flags {
			if !regexp.MustCompile(`(?m)(?:^|[\s,])` + regexp.QuoteMeta(f) + `(?:[=,\s]|$)`).MatchString(flagHelp) {
				t.Errorf("README names %s for pyro4 %s; its --help has no such flag:\n%s", f, sub, flagHelp)
			}
		}
	}
}
