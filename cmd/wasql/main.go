// Command wasql runs WebAssembly SQL functions.
//
//	wasql serve [--data-dir ./wasql-data] [--mysql-addr 127.0.0.1:3307] [--config wasql.yaml]
//	wasql eval --module f.wasm --export add --args bigint,bigint --returns bigint 1,2 3,4
//	wasql version
//	wasql help [serve|eval]
//
// serve runs the embedded engine (serve.go). eval loads one function the way CREATE FUNCTION
// does, runs it over the rows given on the
// command line (one argument per row, or values separated by commas, NULL for NULL) and
// prints one result per line. Errors print with their SQLSTATE.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/wasql/wasql/internal/sqlstate"
	"github.com/wasql/wasql/udf"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "wasql:", err)
		os.Exit(1)
	}
}

// usage is what wasql help prints.
const usage = `wasql runs WebAssembly functions in SQL.

usage:
  wasql serve [flags]            run the server: MySQL wire and Postgres wire (wasql serve --help)
  wasql eval [flags] ROW...      run one function over rows given on the command line (wasql eval --help)
  wasql version                  print the version (also wasql --version)
  wasql help [serve|eval]        this text, or a command's flags
`

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New("no command given\n\n" + usage)
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], out)
	case "version", "--version", "-version", "-v":
		fmt.Fprintln(out, "wasql", version)
		return nil
	case "eval":
		return eval(ctx, args[1:], out)
	case "help", "--help", "-help", "-h":
		if len(args) > 1 && (args[1] == "serve" || args[1] == "eval") {
			return run(ctx, []string{args[1], "--help"}, out)
		}
		fmt.Fprint(out, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q (want serve, eval, version or help)\n\n%s", args[0], usage)
}

// evalUsage heads wasql eval --help, before the flags.
const evalUsage = `usage: wasql eval --module F.wasm --export NAME --args TYPES --returns TYPE [flags] ROW...

Loads one function as CREATE FUNCTION does and runs it over the ROWs, printing one result per
line. Each ROW is one call: the whole argument when the function takes one argument, otherwise
its values separated by commas. NULL is NULL. Errors print with their SQLSTATE.

  wasql eval --module udf/testdata/numeric.wasm --export add --args bigint,bigint --returns bigint 1,2 40,2

flags:
`

func eval(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	module := fs.String("module", "", "path of the .wasm module (required)")
	export := fs.String("export", "", "export name: the function, or its wasql_batch_ wrapper (required)")
	argTypes := fs.String("args", "", "comma-separated SQL argument types, e.g. bigint,text (empty: no arguments)")
	returns := fs.String("returns", "", "SQL result type (required)")
	calledOnNull := fs.Bool("called-on-null-input", false, "pass NULLs to the function (default STRICT)")
	with := fs.String("with", "", "options as in WITH (...), e.g. timeout=200ms,memory=16MB")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(out, evalUsage)
			fs.SetOutput(out)
			fs.PrintDefaults()
			return nil
		}
		return fmt.Errorf("eval: %w (wasql eval --help)", err)
	}
	for _, req := range []struct{ flag, val string }{{"module", *module}, {"export", *export}, {"returns", *returns}} {
		if req.val == "" {
			return fmt.Errorf("eval: --%s is required (wasql eval --help)", req.flag)
		}
	}
	bin, err := os.ReadFile(*module)
	if err != nil {
		return err
	}
	def := udf.Definition{Name: *export, Module: bin, Export: *export}
	if *calledOnNull {
		def.OnNull = udf.CalledOnNull
	}
	if def.Result, err = udf.ParseType(*returns); err != nil {
		return err
	}
	for _, t := range strings.Split(*argTypes, ",") {
		if strings.TrimSpace(t) == "" {
			continue
		}
		typ, err := udf.ParseType(t)
		if err != nil {
			return err
		}
		def.Args = append(def.Args, typ)
	}
	for _, kv := range strings.Split(*with, ",") {
		if k, v, ok := strings.Cut(kv, "="); ok {
			if err := def.SetOption(strings.TrimSpace(k), strings.TrimSpace(v)); err != nil {
				return withState(err)
			}
		}
	}
	rows := fs.Args()
	cols := make([]udf.Column, len(def.Args))
	for k, t := range def.Args {
		cols[k] = udf.NewColumn(t, len(rows))
	}
	for i, row := range rows {
		vals := []string{row} // one argument: the whole row, commas included
		if len(def.Args) != 1 {
			vals = strings.Split(row, ",")
		}
		if len(vals) != len(def.Args) {
			return fmt.Errorf("row %d has %d values, the function takes %d", i+1, len(vals), len(def.Args))
		}
		for k, v := range vals {
			if err := cols[k].Set(i, v); err != nil {
				return fmt.Errorf("row %d, argument %d: %w", i+1, k+1, err)
			}
		}
	}
	rt, err := udf.NewRuntime(ctx, udf.NewConfig())
	if err != nil {
		return err
	}
	defer rt.Close(ctx)
	fn, err := rt.Load(ctx, def)
	if err != nil {
		return withState(err)
	}
	ctx, endLog := withGuestLog(ctx, os.Stderr)
	res, err := fn.Eval(ctx, len(rows), cols...)
	endLog()
	if err != nil {
		return withState(err)
	}
	for i := range rows {
		if (res.Type == udf.Text || res.Type == udf.JSON) && !res.IsNull(i) {
			fmt.Fprintf(out, "%s\n", res.Bytes[i])
			continue
		}
		fmt.Fprintln(out, res.Format(i))
	}
	return nil
}

func withState(err error) error {
	msg := fmt.Sprintf("ERROR %s: %v", sqlstate.Of(err), err)
	var e *udf.Error
	if errors.As(err, &e) && e.Detail != "" {
		msg += "\nDETAIL: " + e.Detail
	}
	if h := sqlstate.Hint(err); h != "" {
		msg += "\nHINT: " + h
	}
	return errors.New(msg)
}
