// Command wasql runs WebAssembly SQL functions.
//
//	wasql serve [--data-dir ./wasql-data] [--mysql-addr 127.0.0.1:3307] [--config wasql.yaml]
//	wasql eval --module f.wasm --export add --args bigint,bigint --returns bigint 1,2 3,4
//	wasql function create|replace|drop|list|show --dsn postgres://... (function.go)
//	wasql init --lang c NAME (init.go)
//	wasql sign f.wasm 'f(s text) RETURNS text'
//	wasql version
//	wasql help [COMMAND]
//
// serve runs the embedded engine (serve.go). eval loads one function the way CREATE FUNCTION
// does, runs it over the rows given on the
// command line (one argument per row, or values separated by commas, NULL for NULL) and
// prints one result per line. Errors print with their SQLSTATE.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
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
  wasql function COMMAND ...     create, replace, drop, list or show functions on a server (wasql function --help)
  wasql init --lang L NAME [DIR] scaffold a function project in rust, go, c or assemblyscript (wasql init --help)
  wasql sign FILE.wasm LINE...   append a wasql_signatures section with the LINEs to a module
  wasql version                  print the version (also wasql --version)
  wasql help [COMMAND]           this text, or a command's flags
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
	case "function", "functions":
		return function(ctx, args[1:], out)
	case "init":
		return initProject(args[1:], out)
	case "sign":
		return sign(args[1:], out)
	case "help", "--help", "-help", "-h":
		if len(args) > 1 && (args[1] == "serve" || args[1] == "eval" || args[1] == "function" || args[1] == "init" || args[1] == "sign") {
			return run(ctx, []string{args[1], "--help"}, out)
		}
		fmt.Fprint(out, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q (want serve, eval, function, init, sign, version or help)\n\n%s", args[0], usage)
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
