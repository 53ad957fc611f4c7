package persist

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pyro4/pyro4/internal/pypeer"
)

// sqliteSchema returns the CREATE statements sqlite keeps for the file.
func sqliteSchema(t *testing.T, path string) []string {
	t.Helper()
	dsn, err := sqlDSN(path)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(context.Background(), "SELECT type, name, coalesce(sql, '') FROM sqlite_master ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var typ, name, text string
		if err := rows.Scan(&typ, &name, &text); err != nil {
			t.Fatal(err)
		}
		out = append(out, typ+" "+name+": "+text)
	}
	return out
}

// TestSQLSchemaIsPyro4s makes a store file here and one with Pyro4's own
// SqlStorage: sqlite holds the same schema, statement text included.
func TestSQLSchemaIsPyro4s(t *testing.T) {
	pypeer.Require(t)
	dir := t.TempDir()
	ours, theirs := filepath.Join(dir, "ours.sqlite"), filepath.Join(dir, "theirs.sqlite")
	s, err := OpenSQL(ours)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	out, err := pypeer.Run(t, 30*time.Second, pypeer.Env(), "import sys\nfrom Pyro4.naming_storage import SqlStorage\nSqlStorage(sys.argv[1])", theirs)
	if err != nil {
		t.Fatalf("SqlStorage: %v\n%s", err, out)
	}
	got, want := sqliteSchema(t, ours), sqliteSchema(t, theirs)
	if !slices.Equal(got, want) || len(want) < 2 {
		t.Fatalf("schema\n got %q\nwant %q (Pyro4's)", got, want)
	}
}

// TestSQLUpgradesOldLayout opens a file of Pyro4's layout before metadata
// (pyro_names only): as SqlStorage does, the table is rebuilt with
// pyro_metadata beside it and every name kept, in row order.
func TestSQLUpgradesOldLayout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.sqlite")
	dsn, err := sqlDSN(path)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, st := range []string{
		"CREATE TABLE pyro_names (id integer PRIMARY KEY, name nvarchar NOT NULL UNIQUE, uri nvarchar NOT NULL)",
		"INSERT INTO pyro_names(name, uri) VALUES ('z.last', 'PYRO:z@h:1'), ('a.first', 'PYRO:a@h:1'), ('日本', 'PYRO:j@h:1')",
	} {
		if _, err := db.ExecContext(ctx, st); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	s, err := OpenSQL(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rangeNames(t, s, ""), []string{"z.last", "a.first", "日本"}; !slices.Equal(got, want) {
		t.Fatalf("upgraded store lists %q, want %q", got, want)
	}
	if err := s.SetMetadata("a.first", []string{"m"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	schema := sqliteSchema(t, path)
	want := []string{
		"table pyro_metadata: " + sqlCreateMetadata[:len(sqlCreateMetadata)-1],
		"table pyro_names: " + sqlCreateNames[:len(sqlCreateNames)-1],
		"index sqlite_autoindex_pyro_names_1: ",
	}
	slices.Sort(want)
	got := slices.Clone(schema)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("schema after the upgrade\n got %q\nwant %q", got, want)
	}
}
