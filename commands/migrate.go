package commands

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/pyro4/pyro4/persist"
)

// MigrateCmd copies every registration from one store to another.
type MigrateCmd struct {
	From   string `arg:"" name:"FROM" help:"Store to copy from: sql:FILE, dbm:FILE, bolt:FILE, json:FILE or etcd:ENDPOINT[,ENDPOINT...]. It is only read."`
	To     string `arg:"" name:"TO" help:"Store to copy to: sql:FILE, bolt:FILE, json:FILE or etcd:ENDPOINT[,ENDPOINT...]; created when missing."`
	Merge  bool   `help:"Add to a destination that already holds registrations (a name in both takes the source's URI and metadata)."`
	Config string `name:"config" type:"path" placeholder:"FILE" help:"a name server's config file whose [etcd] table (prefix, timeouts, TLS, user) an etcd: store is reached with"`
}

// Help is the long help of migrate.
func (c *MigrateCmd) Help() string {
	return `Copies every registration (name, URI, metadata, order) from FROM to TO.
The source is only read: its file is left byte for byte as it was. A store
that a running name server holds is refused, as is a destination that holds
registrations already, unless --merge. json:FILE is the shape of
'pyro4 nsc --json list', for backups people and tools can read; restore one
with 'pyro4 migrate json:FILE bolt:FILE'. dbm:FILE is Pyro4's dbm store
(Berkeley DB hash, FILE.db), which has no metadata; it can only be a source.
etcd:ENDPOINT[,ENDPOINT...] is the name space of the name servers on an
etcd cluster, under the [etcd] prefix of --config (default /pyro4/); it is
written one registration at a time, so that the cluster keeps the order.

The count printed includes Pyro.NameServer when the source holds it (every
store a name server ran on does); a name server started on the destination
replaces that entry with its own.

Exit status: 0 copied, 1 refused or failed (the reason on stderr), 2 usage.`
}

// progressEvery is how many registrations pass between progress lines.
const progressEvery = 100000

// Run executes the command.
func (c *MigrateCmd) Run(stdio *IO) error {
	fail := func(err error) error { return &ExitError{Code: 1, Msg: "pyro4 migrate: " + err.Error()} }
	from, err := parseMigrateStore(c.From, c.Config)
	if err != nil {
		return &ExitError{Code: 2, Msg: "pyro4 migrate: " + err.Error()}
	}
	to, err := parseMigrateStore(c.To, c.Config)
	if err != nil {
		return &ExitError{Code: 2, Msg: "pyro4 migrate: " + err.Error()}
	}
	if l, ok := to.(persist.Location); ok && l.Kind == "dbm" {
		return &ExitError{Code: 2, Msg: "pyro4 migrate: " + to.String() + ": Pyro4's dbm store can only be a source; copy into bolt:, sql: or json:"}
	}
	if from.String() == to.String() {
		return &ExitError{Code: 2, Msg: "pyro4 migrate: source and destination are the same store"}
	}
	entries, err := from.Read()
	if err != nil {
		return fail(fmt.Errorf("read %s: %w", from, err))
	}
	// The destination is checked by reading it, so a refusal writes nothing.
	exists, err := to.Exists()
	if err != nil {
		return fail(err)
	}
	if exists {
		held, err := to.Read()
		if err != nil {
			return fail(fmt.Errorf("destination %s: %w", to, err))
		}
		if len(held) > 0 && !c.Merge {
			return fail(fmt.Errorf("destination %s holds %d registrations already; use --merge to add to them, or give a new file", to, len(held)))
		}
	}
	progress := progressPrinter(stdio.Stderr, len(entries))
	if err := to.Write(entries, progress); err != nil {
		if errors.Is(err, persist.ErrInUse) {
			return fail(fmt.Errorf("destination %s: %w (stop that name server first)", to, err))
		}
		return fail(fmt.Errorf("write %s: %w", to, err))
	}
	fmt.Fprintf(stdio.Stdout, "copied %d registrations from %s to %s (%s)\n", len(entries), from, to, nameServerNote(entries))
	return nil
}

// nameServerNote says whether the count includes the name server's own entry.
func nameServerNote(entries []persist.Entry) string {
	for _, e := range entries {
		if e.Name == "Pyro.NameServer" {
			return "including Pyro.NameServer, which a name server replaces with its own at start"
		}
	}
	return "Pyro.NameServer not among them"
}

// progressPrinter reports on large copies, every progressEvery entries
// and at the end, with the rate so far.
func progressPrinter(w io.Writer, total int) func(int) {
	if total < progressEvery {
		return nil
	}
	start, next := time.Now(), progressEvery
	return func(done int) {
		if done < next && done < total {
			return
		}
		for next <= done {
			next += progressEvery
		}
		rate := float64(done) / max(time.Since(start).Seconds(), 1e-3)
		fmt.Fprintf(w, "copied %d of %d registrations (%.0f/s)\n", done, total, rate)
	}
}
