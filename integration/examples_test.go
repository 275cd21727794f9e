//go:build integration

package integration

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wasql/wasql/udf"
)

// An example of the library (examples/NAME, see examples/README.md): built with its Makefile,
// registered from the signatures its module carries, its cases.sql checked through wasql.
type example struct {
	name, dir string
	module    []byte
	sigs      []udf.Signature
	cases     []exampleCase
}

// exampleCase is one statement of cases.sql and the rows it must give (want nil: it must
// succeed), or the error it must fail with (wantErr "CODE: text").
type exampleCase struct {
	line    int
	sql     string
	want    []string
	wantErr string
}

var (
	examplesOnce sync.Once
	examplesAll  []*example
	examplesErr  error
)

// examples builds every example once per test run.
func examples(t *testing.T) []*example {
	t.Helper()
	examplesOnce.Do(func() { examplesAll, examplesErr = buildExamples() })
	if examplesErr != nil {
		t.Fatal(examplesErr)
	}
	return examplesAll
}

func buildExamples() ([]*example, error) {
	dirs, err := filepath.Glob("../examples/*/cases.sql")
	if err != nil {
		return nil, err
	}
	var out []*example
	for _, cases := range dirs {
		dir := filepath.Dir(cases)
		ex := &example{name: filepath.Base(dir), dir: dir}
		if b, err := exec.Command("make", "-C", dir).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("make -C %s: %v\n%s", dir, err, b)
		}
		if ex.module, err = os.ReadFile(filepath.Join(dir, ex.name+".wasm")); err != nil {
			return nil, fmt.Errorf("make -C %s built no %s.wasm: %v", dir, ex.name, err)
		}
		if ex.sigs, err = udf.Signatures(ex.module); err != nil || len(ex.sigs) == 0 {
			return nil, fmt.Errorf("%s.wasm: no function signatures (%v)", ex.name, err)
		}
		if ex.cases, err = readCases(cases); err != nil {
			return nil, err
		}
		out = append(out, ex)
	}
	return out, nil
}

// readCases parses a cases.sql: statements ending with ; at the end of a line, each followed by
// its expected rows ("--> a|b") or error ("--> ERROR 38000: text"); other -- lines are comments.
func readCases(path string) ([]exampleCase, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var cases []exampleCase
	var cur *exampleCase
	var stmt strings.Builder
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "-->"):
			if cur == nil || stmt.Len() > 0 {
				return nil, fmt.Errorf("%s:%d: an expected row with no statement before it", path, n)
			}
			row := strings.TrimPrefix(strings.TrimPrefix(trimmed, "-->"), " ")
			if e, ok := strings.CutPrefix(row, "ERROR "); ok {
				cur.wantErr = e
			} else {
				cur.want = append(cur.want, row)
			}
		case strings.HasPrefix(trimmed, "--"), trimmed == "" && stmt.Len() == 0:
		default:
			if stmt.Len() == 0 {
				cases = append(cases, exampleCase{line: n})
				cur = &cases[len(cases)-1]
			}
			stmt.WriteString(line + "\n")
			if strings.HasSuffix(trimmed, ";") {
				cur.sql = strings.TrimSpace(stmt.String())
				stmt.Reset()
			}
		}
	}
	if stmt.Len() > 0 {
		return nil, fmt.Errorf("%s: the last statement has no ;", path)
	}
	if len(cases) == 0 {
		return nil, fmt.Errorf("%s: no statements", path)
	}
	return cases, sc.Err()
}

// register creates the example's functions on c from the signatures in their module, the way
// a user does: CREATE FUNCTION name LANGUAGE wasm AS $1.
func (ex *example) register(ctx context.Context, c *pgx.Conn) error {
	for _, s := range ex.sigs {
		if _, err := c.Exec(ctx, "CREATE OR REPLACE FUNCTION "+s.Name+" LANGUAGE wasm AS $1", ex.module); err != nil {
			return fmt.Errorf("register %s from %s.wasm: %w", s.Name, ex.name, err)
		}
	}
	return nil
}

// check runs the example's cases on c with the simple protocol, so values arrive as PostgreSQL's
// text format prints them.
func (ex *example) check(ctx context.Context, t *testing.T, c *pgx.Conn) {
	for _, k := range ex.cases {
		got, err := simpleRows(ctx, c, k.sql)
		where := fmt.Sprintf("%s/cases.sql:%d: %s", ex.name, k.line, k.sql)
		if k.wantErr != "" {
			code, text, _ := strings.Cut(k.wantErr, ": ")
			var pe *pgconn.PgError
			if !errors.As(err, &pe) || pe.Code != code || !strings.Contains(pe.Message, text) {
				t.Errorf("%s\n  got %q, %v\n  want ERROR %s", where, got, err, k.wantErr)
			}
			continue
		}
		if err != nil || (k.want != nil && !slices.Equal(got, k.want)) {
			t.Errorf("%s\n  got  %q, %v\n  want %q", where, got, err, k.want)
		}
	}
}

// simpleRows runs sql with the simple protocol and renders each row of its last result as its
// text values joined by |, NULL as NULL.
func simpleRows(ctx context.Context, c *pgx.Conn, sql string) ([]string, error) {
	results, err := c.PgConn().Exec(ctx, sql).ReadAll()
	if err != nil {
		return nil, err
	}
	var rows []string
	if len(results) > 0 {
		for _, r := range results[len(results)-1].Rows {
			vals := make([]string, len(r))
			for i, v := range r {
				if v == nil {
					vals[i] = "NULL"
				} else {
					vals[i] = string(v)
				}
			}
			rows = append(rows, strings.Join(vals, "|"))
		}
	}
	return rows, nil
}

// The examples library: every example builds, registers from its module's signatures and
// answers its cases on the embedded engine's Postgres wire and through proxy mode in front of
// PostgreSQL 15.
func TestExamples(t *testing.T) {
	exs := examples(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	embedded := startServer(t, t.TempDir())
	modes := []struct{ name, url string }{
		{"embedded", fmt.Sprintf("postgres://root@%s:%s/wasql?sslmode=disable", embedded.pgHost, embedded.pgPort)},
	}
	r := rig(t)
	db := r.newDatabase(t, "examples")
	dir := t.TempDir()
	proxy, err := launchProxy(r.pg.URL(db), dir)
	if err != nil {
		t.Fatal(err)
	}
	defer proxy.halt()
	modes = append(modes, struct{ name, url string }{"proxy", fmt.Sprintf("postgres://root:unused-with-trust@%s:%s/%s?sslmode=disable", proxy.pgHost, proxy.pgPort, db)})
	for _, m := range modes {
		c, err := pgx.Connect(ctx, m.url)
		if err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
		defer c.Close(context.Background())
		for _, ex := range exs {
			t.Run(ex.name+"/"+m.name, func(t *testing.T) {
				if err := ex.register(ctx, c); err != nil {
					t.Fatal(err)
				}
				ex.check(ctx, t, c)
			})
		}
	}
}

// The library has the ten functions the README promises, in all four SDK languages.
func TestExamplesLibrary(t *testing.T) {
	exs := examples(t)
	want := []string{"slugify", "haversine_km", "json_extract", "url_part", "email_normalize", "geohash_encode", "luhn_check", "sha256_hex", "xxhash64", "semver_compare", "levenshtein"}
	var have []string
	langs := map[string]bool{}
	for _, ex := range exs {
		for _, s := range ex.sigs {
			have = append(have, s.Name)
		}
		for file, lang := range map[string]string{"Cargo.toml": "rust", "go.mod": "go", "package.json": "assemblyscript", "Makefile": ""} {
			if _, err := os.Stat(filepath.Join(ex.dir, file)); err == nil && lang != "" {
				langs[lang] = true
			}
		}
		if matches, _ := filepath.Glob(filepath.Join(ex.dir, "*.c")); len(matches) > 0 {
			langs["c"] = true
		}
	}
	for _, w := range want {
		if !slices.Contains(have, w) {
			t.Errorf("no example declares %s (have %v)", w, have)
		}
	}
	if len(langs) != 4 {
		t.Errorf("examples in %v, want rust, go, c and assemblyscript", langs)
	}
}
