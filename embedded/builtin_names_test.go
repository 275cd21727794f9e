package embedded

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/dolthub/go-mysql-server/sql/expression/function"
	"github.com/jackc/pgx/v5"

	"github.com/wasql/wasql/internal/sqlstate"
	"github.com/wasql/wasql/proxy"
	"github.com/wasql/wasql/sqlfuncs"
)

// TestBuiltinNames: a wasm function may take the name of any go-mysql-server built-in. On each
// wire, CREATE either refuses the name with 0A000 (no call could reach the function: the name is
// an aggregate, a window function or grammar of its own, or the Postgres translation rewrites
// it), or succeeds, and then a call of that name runs the wasm function: add(40, 2) = 42, never
// the built-in's answer (the call is quoted where PostgreSQL's grammar reads the name itself).
func TestBuiltinNames(t *testing.T) {
	mod := module(t, "../udf/testdata/numeric.wasm")
	e := open(t)
	addr := servePG(t, e, proxy.Config{})
	c, err := pgConnect(t, addr, "app", "", pgx.QueryExecModeExec)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var names []string
	for _, f := range function.BuiltIns {
		if n := strings.ToLower(f.FunctionName()); !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	var refusedMySQL, refusedPG []string
	for _, n := range names {
		create := fmt.Sprintf("CREATE OR REPLACE FUNCTION `%s`(a bigint, b bigint) RETURNS bigint LANGUAGE wasm AS X'%x', 'add'", n, mod)
		if _, _, err := e.Query(e.NewContext(ctx), create); err != nil {
			if sqlstate.Of(err) != sqlstate.FeatureNotSupported || !sqlfuncs.Unreachable(n) {
				t.Errorf("MySQL wire: CREATE FUNCTION %s: %v", n, err)
			}
			refusedMySQL = append(refusedMySQL, n)
		} else {
			_, rows, err := e.Query(e.NewContext(ctx), fmt.Sprintf("SELECT %s(40, 2)", n))
			if err != nil || len(rows) != 1 || fmt.Sprint(rows[0][0]) != "42" {
				t.Errorf("MySQL wire: %s(40, 2) after CREATE FUNCTION %s: %v %v, want the wasm function's 42", n, n, rows, err)
			}
			if _, _, err := e.Query(e.NewContext(ctx), fmt.Sprintf("DROP FUNCTION `%s`", n)); err != nil {
				t.Fatal(err)
			}
		}
		create = fmt.Sprintf(`CREATE OR REPLACE FUNCTION "%s"(a bigint, b bigint) RETURNS bigint LANGUAGE wasm AS '\x%x', 'add'`, n, mod)
		if _, err := c.Exec(ctx, create); err != nil {
			if pgCode(err) != sqlstate.FeatureNotSupported {
				t.Errorf("Postgres wire: CREATE FUNCTION %s: %v", n, err)
			}
			refusedPG = append(refusedPG, n)
			continue
		}
		// A name PostgreSQL's grammar reads itself (user, time, json_array) is a syntax error
		// unquoted, as in PostgreSQL: then the quoted call must reach the function.
		var v any
		err := c.QueryRow(ctx, fmt.Sprintf("SELECT %s(40, 2)", n)).Scan(&v)
		if err != nil {
			err = c.QueryRow(ctx, fmt.Sprintf(`SELECT "%s"(40, 2)`, n)).Scan(&v)
		}
		if err != nil || fmt.Sprint(v) != "42" {
			t.Errorf("Postgres wire: %s(40, 2) after CREATE FUNCTION %s: %v %v, want the wasm function's 42", n, n, v, err)
		}
		if _, err := c.Exec(ctx, fmt.Sprintf(`DROP FUNCTION "%s"`, n)); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%d built-in names; refused on the MySQL wire (%d): %s", len(names), len(refusedMySQL), strings.Join(refusedMySQL, " "))
	t.Logf("refused on the Postgres wire (%d): %s", len(refusedPG), strings.Join(refusedPG, " "))
}
