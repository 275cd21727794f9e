package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestEval(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string // output, or the start of the error
	}{
		{[]string{"eval", "--module", "../../udf/testdata/numeric.wasm", "--export", "add", "--args", "bigint,bigint", "--returns", "bigint", "1,2", "NULL,3"}, "3\nNULL\n"},
		{[]string{"eval", "--module", "../../udf/testdata/guests/c_funcs.wasm", "--export", "slugify", "--args", "text", "--returns", "text", "Hello, World!"}, "hello-world\n"},
		{[]string{"eval", "--module", "../../udf/testdata/numeric.wasm", "--export", "next_day", "--args", "date", "--returns", "date", "2024-02-28", "2024-02-29"}, "2024-02-29\n2024-03-01\n"},
		{[]string{"eval", "--module", "../../udf/testdata/fib.wasm", "--export", "spin", "--args", "bigint", "--returns", "bigint", "--with", "timeout=50ms,fuel=1000000000000", "1"}, "ERROR 57014: spin: canceling statement due to wasm function timeout (50ms)\nHINT: the function's timeout is 50ms per guest call (one batch of rows); raise it with WITH (timeout = '100ms')"},
		{[]string{"eval", "--module", "../../udf/testdata/numeric.wasm", "--export", "add", "--args", "bigint", "--returns", "bigint", "1"}, "ERROR 42P13: add: export \"add\" takes 2 parameters"},
		{[]string{"eval", "--module", "../../udf/testdata/numeric.wasm", "--export", "add", "--args", "bigint,bigint", "--returns", "bigint", "--with", "speed=fast"}, "ERROR 22023: add: unknown option \"speed\""},
		{[]string{"version"}, "wasql dev\n"},
		{[]string{"--version"}, "wasql dev\n"},
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{}, "no command given"},
		{[]string{"eval", "--export", "add", "--returns", "bigint"}, "eval: --module is required"},
		{[]string{"eval", "--module", "../../udf/testdata/numeric.wasm", "--returns", "bigint"}, "eval: --export is required"},
		{[]string{"eval", "--bogus"}, "eval: flag provided but not defined: -bogus"},
	} {
		var out bytes.Buffer
		err := run(context.Background(), c.args, &out)
		got := out.String()
		if err != nil {
			got = err.Error()
		}
		if !strings.HasPrefix(got, c.want) {
			t.Errorf("wasql %s:\ngot  %q\nwant %q", strings.Join(c.args, " "), got, c.want)
		}
	}
}

// help, --help, -h and help COMMAND succeed and print usage to stdout; eval's usage says what
// its positional arguments are.
func TestHelp(t *testing.T) {
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"help"}, []string{"wasql serve [flags]", "wasql eval [flags] ROW..."}},
		{[]string{"--help"}, []string{"wasql serve [flags]"}},
		{[]string{"-h"}, []string{"wasql version"}},
		{[]string{"help", "serve"}, []string{"--mysql-addr", "--log-level", "users"}},
		{[]string{"serve", "--help"}, []string{"--pg-addr", "empty to disable"}},
		{[]string{"eval", "-h"}, []string{"ROW...", "Each ROW is one call", "-module"}},
		{[]string{"help", "eval"}, []string{"ROW..."}},
	} {
		var out bytes.Buffer
		if err := run(context.Background(), c.args, &out); err != nil {
			t.Errorf("wasql %s: %v", strings.Join(c.args, " "), err)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(out.String(), w) {
				t.Errorf("wasql %s: no %q in\n%s", strings.Join(c.args, " "), w, out.String())
			}
		}
	}
}
