package dolttables

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dolthub/go-mysql-server/sql"
)

// query runs q on st in database db and returns its rows.
func query(t *testing.T, st *Store, q string) []sql.Row {
	t.Helper()
	ctx := context.Background()
	sess, err := st.NewSession(ctx, sql.NewBaseSession())
	if err != nil {
		t.Fatal(err)
	}
	c := sql.NewContext(ctx, sql.WithSession(sess))
	c.SetCurrentDatabase("db")
	_, iter, _, err := st.Engine().Query(c, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	var rows []sql.Row
	for {
		r, err := iter.Next(c)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		rows = append(rows, r)
	}
	if err := iter.Close(c); err != nil {
		t.Fatal(err)
	}
	return rows
}

// fill makes a table of a short and a long (out-of-row) text value in st.
func fill(t *testing.T, st *Store) {
	query(t, st, "CREATE TABLE t (a bigint primary key, s longtext)")
	query(t, st, "INSERT INTO t VALUES (1, 'short'), (2, REPEAT('x', 100000))")
}

// check reads fill's values back from st.
func check(t *testing.T, st *Store) {
	t.Helper()
	rows := query(t, st, "SELECT a, LENGTH(s), LEFT(s, 5) FROM t ORDER BY a")
	got := []string{}
	for _, r := range rows {
		got = append(got, strings.TrimSpace(strings.Join([]string{toString(r[0]), toString(r[1]), toString(r[2])}, " ")))
	}
	if want := "1 5 short|2 100000 xxxxx"; strings.Join(got, "|") != want {
		t.Fatalf("rows %q, want %q", strings.Join(got, "|"), want)
	}
}

func toString(v any) string {
	if w, ok := v.(sql.AnyWrapper); ok {
		v, _ = w.UnwrapAny(context.Background())
	}
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}

// TestFormats: a new tables directory is adaptive and says so; a directory of each format reads
// its own values back after a restart, one without the format file as addressed; stores of the
// two formats are not open at once.
func TestFormats(t *testing.T) {
	ctx := context.Background()
	base := t.TempDir()
	newDir, oldDir := filepath.Join(base, "new"), filepath.Join(base, "old")

	st, err := Open(ctx, newDir, "db", sql.EngineOverrides{})
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(newDir, formatFile)); strings.TrimSpace(string(b)) != string(formatAdaptive) {
		t.Fatalf("%s of a new directory: %q", formatFile, b)
	}
	fill(t, st)
	check(t, st)
	if _, err := open(ctx, oldDir, "db", sql.EngineOverrides{}, formatAddressed); err == nil || !strings.Contains(err.Error(), "open it in a process of its own") {
		t.Fatalf("an addressed store beside an adaptive one: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	old, err := open(ctx, oldDir, "db", sql.EngineOverrides{}, formatAddressed)
	if err != nil {
		t.Fatal(err)
	}
	fill(t, old)
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(oldDir, formatFile)); err != nil { // as wasql wrote it before the file
		t.Fatal(err)
	}
	for _, dir := range []string{oldDir, newDir} {
		st, err := Open(ctx, dir, "db", sql.EngineOverrides{})
		if err != nil {
			t.Fatal(err)
		}
		check(t, st)
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
