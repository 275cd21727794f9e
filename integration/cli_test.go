//go:build integration

package integration

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/wasql/wasql/udf"
)

// cli runs the wasql binary with args and returns its stdout, its stderr and its error.
func cli(t *testing.T, dir string, stdin string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(wasqlBin, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "WASQL_DSN=")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	return out.String(), errb.String(), err
}

// mustCLI is cli that fails the test on an error.
func mustCLI(t *testing.T, dir string, args ...string) string {
	t.Helper()
	out, stderr, err := cli(t, dir, "", args...)
	if err != nil {
		t.Fatalf("wasql %s: %v\n%s%s", strings.Join(args, " "), err, out, stderr)
	}
	return out
}

// initAndBuild runs wasql init --lang lang name in a fresh directory outside the repository and
// make in the project, with wasql on PATH and no network for Go, and returns the module's path.
func initAndBuild(t *testing.T, dir, lang, name string) string {
	t.Helper()
	need(t, "make", "apt-get install -y make")
	out := mustCLI(t, dir, "init", "--lang", lang, name)
	if !strings.Contains(out, "make") {
		t.Errorf("init printed %q", out)
	}
	proj := filepath.Join(dir, name)
	for _, f := range []string{"README.md", "Makefile", "wasql-sdk"} {
		if _, err := os.Stat(filepath.Join(proj, f)); err != nil {
			t.Errorf("the %s project has no %s: %v", lang, f, err)
		}
	}
	make := exec.Command("make")
	make.Dir = proj
	make.Env = append(os.Environ(), "PATH="+filepath.Dir(wasqlBin)+string(os.PathListSeparator)+os.Getenv("PATH"),
		"GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off")
	if b, err := make.CombinedOutput(); err != nil {
		t.Fatalf("make in the %s project: %v\n%s", lang, err, b)
	}
	wasm := filepath.Join(proj, name+".wasm")
	bin, err := os.ReadFile(wasm)
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := udf.Signatures(bin)
	if err != nil {
		t.Fatal(err)
	}
	want := name + "(s text) RETURNS text STRICT IMMUTABLE PARALLEL SAFE"
	if len(sigs) != 1 || sigs[0].String() != want {
		t.Errorf("the %s project's signatures: %v, want [%s]", lang, sigs, want)
	}
	return wasm
}

var (
	cliModuleOnce sync.Once
	cliModule     string
	cliModuleErr  string
)

// cliCModule is the C template's module, named cli_shout, built once.
func cliCModule(t *testing.T) string {
	cliModuleOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wasql-cli")
		if err != nil {
			cliModuleErr = err.Error()
			return
		}
		atExit = append(atExit, func() { os.RemoveAll(dir) })
		ok := t.Run("build", func(t *testing.T) { cliModule = initAndBuild(t, dir, "c", "cli_shout") })
		if !ok {
			cliModuleErr = "building the C template failed"
		}
	})
	if cliModuleErr != "" {
		t.Fatal(cliModuleErr)
	}
	return cliModule
}

// Each template builds outside the repository with make, carries its signature, and runs: C
// and Go, and Rust and AssemblyScript as soon as their SDKs are in sdk/ (wasql init must then
// carry them: sdk/embed.go).
func TestCLIInit(t *testing.T) {
	langs := []string{"c", "go"}
	for _, l := range []string{"rust", "assemblyscript"} {
		if _, err := os.Stat(filepath.Join("..", "sdk", l)); err == nil {
			langs = append(langs, l)
		}
	}
	for _, lang := range langs {
		t.Run(lang, func(t *testing.T) {
			name := "init_" + lang
			wasm := initAndBuild(t, t.TempDir(), lang, name)
			out := mustCLI(t, "", "eval", "--module", wasm, "--function", name, "héllo, World", "NULL")
			if out != "HéLLO, WORLD\nNULL\n" && out != "HÉLLO, WORLD\nNULL\n" {
				t.Errorf("eval of the %s template: %q", lang, out)
			}
		})
	}
	// A name no template can take, an unknown language, a directory in use.
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"init", "--lang", "c", "Bad-Name"}, "is not a function name"},
		{[]string{"init", "--lang", "c", "select"}, "reserved"},
		{[]string{"init", "--lang", "cobol", "f"}, "want rust, go, c or assemblyscript"},
		{[]string{"init", "--lang", "c", "f", "."}, "not empty"},
	} {
		os.WriteFile(filepath.Join(dir, "x"), nil, 0o644)
		_, stderr, err := cli(t, dir, "", c.args...)
		if err == nil || !strings.Contains(stderr, c.want) {
			t.Errorf("wasql %s: %v %q, want an error with %q", strings.Join(c.args, " "), err, stderr, c.want)
		}
	}
}

// cliTarget is one server the function commands talk to.
type cliTarget struct {
	name    string
	dsn     string
	options bool // the wire lists WITH options and the module's size
	call    func(t *testing.T, query string) string
}

// wasql function create/list/show/replace/drop over the Postgres wire, the MySQL wire and in
// proxy mode, and the functions run.
func TestCLIFunction(t *testing.T) {
	wasm := cliCModule(t)
	numeric, err := filepath.Abs("../udf/testdata/numeric.wasm")
	if err != nil {
		t.Fatal(err)
	}
	s := startServer(t, t.TempDir())
	r := rig(t)
	pgCall := func(url string) func(t *testing.T, q string) string {
		return func(t *testing.T, q string) string {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			c, err := pgx.Connect(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close(ctx)
			var v string
			if err := c.QueryRow(ctx, q).Scan(&v); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			return v
		}
	}
	myDSN := fmt.Sprintf("mysql://root@%s:%s/wasql", s.host, s.port)
	targets := []cliTarget{
		{"postgres", fmt.Sprintf("postgres://app@%s:%s/wasql?sslmode=disable", s.pgHost, s.pgPort), false,
			pgCall(fmt.Sprintf("postgres://app@%s:%s/wasql?sslmode=disable", s.pgHost, s.pgPort))},
		{"mysql", myDSN, true, func(t *testing.T, q string) string {
			db, err := sql.Open("mysql", "root@tcp("+s.addr+")/wasql")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			var v string
			if err := db.QueryRow(q).Scan(&v); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			return v
		}},
		{"proxy", r.proxyURL("postgres"), true, pgCall(r.proxyURL("postgres"))},
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			dsn := "--dsn=" + tg.dsn
			mustCLI(t, "", "function", "drop", "--if-exists", dsn, "cli_shout", "cli_plus")
			out := mustCLI(t, "", "function", "create", dsn, wasm)
			if !strings.Contains(out, "CREATE FUNCTION") || !strings.Contains(out, "cli_shout") {
				t.Errorf("create printed %q", out)
			}
			if got := tg.call(t, "SELECT cli_shout('abc')"); got != "ABC" {
				t.Errorf("cli_shout('abc') = %q", got)
			}
			// The module without a section, with --sig and --export; the environment's DSN.
			cmd := exec.Command(wasqlBin, "function", "create", "--sig", "cli_plus(a bigint, b bigint) RETURNS bigint IMMUTABLE", "--export", "add", numeric)
			cmd.Env = append(os.Environ(), "WASQL_DSN="+tg.dsn)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("create --sig with WASQL_DSN: %v\n%s", err, b)
			}
			q := "SELECT cli_plus(40, 2)::text"
			if tg.name == "mysql" {
				q = "SELECT CAST(cli_plus(40, 2) AS CHAR)"
			}
			if got := tg.call(t, q); got != "42" {
				t.Errorf("cli_plus(40, 2) = %q", got)
			}
			list := mustCLI(t, "", "function", "list", dsn)
			for _, want := range []string{
				"NAME", "ARGUMENTS", "RESULT", "OPTIONS",
				"cli_shout  s text", "text    STRICT IMMUTABLE PARALLEL SAFE",
				"cli_plus   a bigint, b bigint  bigint  STRICT IMMUTABLE PARALLEL UNSAFE",
			} {
				if !strings.Contains(list, want) {
					t.Errorf("list has no %q:\n%s", want, list)
				}
			}
			// Again: the server's SQLSTATE and message, exit status 1.
			_, stderr, err := cli(t, "", "", "function", "create", dsn, wasm)
			if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(stderr, "ERROR 42723") || !strings.Contains(stderr, "already exists") {
				t.Errorf("create of an existing function: %v %q", err, stderr)
			}
			mustCLI(t, "", "function", "replace", dsn, "--with", "timeout=300ms", wasm, "cli_shout")
			show := mustCLI(t, "", "function", "show", dsn, "cli_shout")
			for _, want := range []string{"cli_shout(s text) RETURNS text", "STRICT IMMUTABLE PARALLEL SAFE", "export:  cli_shout", "module:  sha256:"} {
				if !strings.Contains(show, want) {
					t.Errorf("show has no %q:\n%s", want, show)
				}
			}
			if tg.options {
				bin, _ := os.ReadFile(wasm)
				for _, want := range []string{"WITH (timeout = '300ms')", fmt.Sprintf(", %d bytes", len(bin))} {
					if !strings.Contains(show, want) {
						t.Errorf("show has no %q:\n%s", want, show)
					}
				}
			}
			// A module without the section needs --sig; a name the module does not declare.
			if _, stderr, err := cli(t, "", "", "function", "create", dsn, numeric); err == nil || !strings.Contains(stderr, "--sig") {
				t.Errorf("create of a module without signatures: %v %q", err, stderr)
			}
			if _, stderr, err := cli(t, "", "", "function", "create", dsn, wasm, "nope"); err == nil || !strings.Contains(stderr, "declares no function nope (it declares cli_shout)") {
				t.Errorf("create of an undeclared name: %v %q", err, stderr)
			}
			mustCLI(t, "", "function", "drop", dsn, "cli_shout", "cli_plus")
			if list := mustCLI(t, "", "function", "list", dsn); strings.Contains(list, "cli_shout") || strings.Contains(list, "cli_plus") {
				t.Errorf("list after drop:\n%s", list)
			}
			if _, stderr, err := cli(t, "", "", "function", "show", dsn, "cli_shout"); err == nil || !strings.Contains(stderr, "ERROR 42883") {
				t.Errorf("show of a dropped function: %v %q", err, stderr)
			}
			_, stderr, err = cli(t, "", "", "function", "drop", dsn, "cli_shout")
			if err == nil || !strings.Contains(stderr, "ERROR 42883") {
				t.Errorf("drop of a dropped function: %v %q", err, stderr)
			}
		})
	}
	if _, stderr, err := cli(t, "", "", "function", "list"); err == nil || !strings.Contains(stderr, "WASQL_DSN") {
		t.Errorf("list without a DSN: %v %q", err, stderr)
	}
	if _, stderr, err := cli(t, "", "", "function", "list", "--dsn", "postgres://app@127.0.0.1:1/wasql"); err == nil || !strings.Contains(stderr, "connecting to") {
		t.Errorf("list with no server: %v %q", err, stderr)
	}
}

// wasql eval over CSV rows, from a file and from stdin, with the module's signature.
func TestCLIEvalCSV(t *testing.T) {
	wasm := cliCModule(t)
	dir := t.TempDir()
	csv := "s\nabc\n\"x, \"\"y\"\"\"\n\n\"\"\n\"multi\nline\"\n"
	if err := os.WriteFile(filepath.Join(dir, "in.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	out := mustCLI(t, dir, "eval", "--module", wasm, "--function", "cli_shout", "--csv", "in.csv", "--header")
	if want := "ABC\nX, \"Y\"\nNULL\n\nMULTI\nLINE\n"; out != want {
		t.Errorf("eval --csv: %q, want %q", out, want)
	}
	out, stderr, err := cli(t, dir, csv, "eval", "--module", wasm, "--function", "cli_shout", "--csv", "-", "--header", "--out", "csv")
	if want := "ABC\n\"X, \"\"Y\"\"\"\n\n\"\"\n\"MULTI\nLINE\"\n"; err != nil || out != want {
		t.Errorf("eval --csv - --out csv: %v %q, want %q (%s)", err, out, want, stderr)
	}
	// The numeric module, with its signature given, over CSV with two columns.
	numeric, _ := filepath.Abs("../udf/testdata/numeric.wasm")
	out, stderr, err = cli(t, dir, "1,2\n,3\n40,2\n", "eval", "--module", numeric, "--export", "add", "--args", "bigint,bigint", "--returns", "bigint", "--csv", "-")
	if err != nil || out != "3\nNULL\n42\n" {
		t.Errorf("eval add over CSV: %v %q %s", err, out, stderr)
	}
	_, stderr, err = cli(t, dir, "1\n", "eval", "--module", numeric, "--export", "add", "--args", "bigint,bigint", "--returns", "bigint", "--csv", "-")
	if err == nil || !strings.Contains(stderr, "row 1 has 1 values, the function takes 2") {
		t.Errorf("eval of a short CSV row: %v %q", err, stderr)
	}
}

// eval prints values as PostgreSQL 15 does: the same values through the upstream of the proxy
// rig print the same text.
func TestCLIEvalMatchesPostgres(t *testing.T) {
	r := rig(t)
	numeric, _ := filepath.Abs("../udf/testdata/numeric.wasm")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, r.directURL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	for _, k := range []struct {
		export, args, returns string
		rows                  []string // CSV rows
		sql                   string   // PostgreSQL's text of $1, $2 as the function computes it
	}{
		{"mulf", "double precision,double precision", "double precision",
			[]string{"1e14,1", "1e15,1", "1234567890123456789,1", "0.0001,1", "0.00001,1", "1.5e-7,1", "0.1,3", "-0,1", "1e300,10", "Infinity,-1", "NaN,1", "2.5,"},
			"SELECT ($1::float8 * $2::float8)::text"},
		{"halff", "real", "real", []string{"200000", "2000000", "6.28318", "1e-3", "3.4e38"}, "SELECT ($1::real / 2::real)::text"},
		{"not", "boolean", "boolean", []string{"yes", "f", "on"}, "SELECT format('%s', NOT $1::boolean)"},
		{"plus_hour", "timestamp", "timestamp", []string{"2024-02-29 23:30:00.5", "1999-12-31 23:00:00", "2024-01-01"}, "SELECT ($1::timestamp + interval '1 hour')::text"},
		{"next_day", "date", "date", []string{"2024-02-28", "1970-01-01"}, "SELECT ($1::date + 1)::text"},
	} {
		out, stderr, err := cli(t, "", strings.Join(k.rows, "\n")+"\n", "eval", "--module", numeric, "--export", k.export, "--args", k.args, "--returns", k.returns, "--csv", "-")
		if err != nil {
			t.Errorf("eval %s: %v %s", k.export, err, stderr)
			continue
		}
		got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		if len(got) != len(k.rows) {
			t.Errorf("eval %s: %d lines for %d rows: %q", k.export, len(got), len(k.rows), out)
			continue
		}
		for i, row := range k.rows {
			var args []any
			for _, v := range strings.Split(row, ",") {
				if v == "" {
					args = append(args, nil)
				} else {
					args = append(args, v)
				}
			}
			var want *string
			if err := c.QueryRow(ctx, k.sql, args...).Scan(&want); err != nil {
				t.Fatalf("%s %v: %v", k.sql, args, err)
			}
			w := "NULL"
			if want != nil {
				w = *want
			}
			if got[i] != w {
				t.Errorf("%s(%s) prints %q, PostgreSQL %q", k.export, row, got[i], w)
			}
		}
	}
}
