package commands

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/etcdtest"
	"github.com/pyro4/pyro4/persist"
)

// TestMigrateEtcd moves a json backup into an etcd name space under the
// prefix of a config file's [etcd] table, in its order; refuses to copy
// over it again without --merge; and copies the name space back out to a
// file that is byte for byte the backup as the tool writes it.
func TestMigrateEtcd(t *testing.T) {
	etcdtest.Require(t)
	ec := etcdtest.Start(t, 1)
	dir := t.TempDir()
	backup := filepath.Join(dir, "backup.json")
	writeNsFile(t, backup, `[
  {"name": "svc.zeta", "uri": "PYRO:z@10.0.0.1:1", "metadata": ["a", "b"]},
  {"name": "svc.alpha", "uri": "PYRO:a@10.0.0.2:1", "metadata": []},
  {"name": "svc.mid", "uri": "PYRO:m@10.0.0.3:1", "metadata": ["x"]}
]
`)
	cfg := filepath.Join(dir, "nsctl.toml")
	writeNsFile(t, cfg, "[etcd]\nprefix = \"/migrated/\"\n")
	spec := "etcd:" + strings.Join(ec.Endpoints(), ",")

	code, out, errOut := runMigrate(t, "--config", cfg, "json:"+backup, spec)
	if code != 0 || !strings.Contains(out, "copied 3 registrations") {
		t.Fatalf("json -> etcd: exit %d\n%s%s", code, out, errOut)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	st, err := persist.OpenEtcd(ctx, persist.EtcdOptions{Endpoints: ec.Endpoints(), Prefix: "/migrated/"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	st.Range("", func(e persist.Entry) bool {
		got = append(got, e.Name+"="+e.URI+strings.Join(e.Metadata, ","))
		return true
	})
	st.Close()
	if want := "svc.zeta=PYRO:z@10.0.0.1:1a,b svc.alpha=PYRO:a@10.0.0.2:1 svc.mid=PYRO:m@10.0.0.3:1x"; strings.Join(got, " ") != want {
		t.Errorf("the cluster holds %q, want %q", got, want)
	}

	code, _, errOut = runMigrate(t, "--config", cfg, "json:"+backup, spec)
	if code != 1 || !strings.Contains(errOut, "holds 3 registrations already") {
		t.Errorf("second copy without --merge: exit %d %s", code, errOut)
	}
	// Without the config file the default prefix is another, empty, name space.
	back := filepath.Join(dir, "back.json")
	if code, out, errOut := runMigrate(t, spec, "json:"+back); code != 0 || !strings.Contains(out, "copied 0 registrations") {
		t.Errorf("the default prefix: exit %d %s %s", code, out, errOut)
	}
	code, out, errOut = runMigrate(t, "--config", cfg, spec, "json:"+filepath.Join(dir, "out.json"))
	if code != 0 {
		t.Fatalf("etcd -> json: exit %d\n%s%s", code, out, errOut)
	}
	// The tool's own json of the backup, to compare with byte for byte.
	canon := filepath.Join(dir, "canon.json")
	if code, out, errOut := runMigrate(t, "json:"+backup, "json:"+canon); code != 0 {
		t.Fatalf("json -> json: exit %d\n%s%s", code, out, errOut)
	}
	if a, b := fileText(t, canon), fileText(t, filepath.Join(dir, "out.json")); a != b {
		t.Errorf("round trip:\n%s\nwant\n%s", b, a)
	}
}

func fileText(t *testing.T, path string) string { return string(fileBytes(t, path)) }
