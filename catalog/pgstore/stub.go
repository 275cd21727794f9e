package pgstore

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/wasql/wasql/catalog"
)

// StubSQLState is the SQLSTATE a stub raises: feature_not_supported.
const StubSQLState = "0A000"

// pgTypes maps the catalog's canonical type names (udf.Type's String) to PostgreSQL's. Only
// these get stubs: the mapping is one to one, so two overloads never share a stub.
var pgTypes = map[string]string{
	"smallint":         "smallint",
	"integer":          "integer",
	"bigint":           "bigint",
	"real":             "real",
	"double precision": "double precision",
	"boolean":          "boolean",
	"text":             "text",
	"bytea":            "bytea",
	"json":             "json",
	"date":             "date",
	"timestamp":        "timestamp without time zone",
}

// stub is the PostgreSQL function standing in for a wasm function.
type stub struct {
	signature string // wasql."name"(type, type): what DROP FUNCTION and COMMENT ON name
	params    string // the parameter list with names, as CREATE FUNCTION takes it
	returns   string
	create    string // CREATE OR REPLACE FUNCTION ...
	comment   string // COMMENT ON FUNCTION ...
}

// reservedStubs are the names of wasql's own functions in schema wasql whose signatures a stub
// could take: a wasm function of such a name gets no stub (its CREATE OR REPLACE would replace
// wasql's function).
var reservedStubs = map[string]bool{"reset_stats": true}

// stubFor returns fn's stub, or false if fn gets none: a function in a schema of its own (see
// the package documentation), one with a type outside pgTypes, a name longer than PostgreSQL's
// identifiers (it would be truncated, and could collide with another), or one of reservedStubs.
func (s *Store) stubFor(fn *catalog.Function) (stub, bool) {
	if fn.Schema != "" || len(fn.Name) > s.ident || reservedStubs[fn.Name] {
		return stub{}, false
	}
	ret, ok := pgTypes[fn.ReturnType]
	if !ok {
		return stub{}, false
	}
	types := make([]string, len(fn.ArgTypes))
	for i, t := range fn.ArgTypes {
		if types[i], ok = pgTypes[t]; !ok {
			return stub{}, false
		}
	}
	// Parameter names only when PostgreSQL takes them all as given: unique, short enough, and
	// none spelled like PL/pgSQL's positional names ($1), which it declares too.
	named := true
	seen := map[string]bool{}
	for _, n := range fn.ArgNames {
		if n != "" && (seen[n] || len(n) > s.ident || positional(n)) {
			named = false
		}
		seen[n] = true
	}
	params := make([]string, len(types))
	for i, t := range types {
		params[i] = t
		if named && fn.ArgNames[i] != "" {
			params[i] = quoteIdent(fn.ArgNames[i]) + " " + t
		}
	}
	st := stub{
		signature: Schema + "." + quoteIdent(fn.Name) + "(" + strings.Join(types, ", ") + ")",
		params:    strings.Join(params, ", "),
		returns:   ret,
	}
	message := fn.Key().String() + " is a wasm function: call it through wasql"
	body := "BEGIN RAISE EXCEPTION USING ERRCODE = '" + StubSQLState + "', MESSAGE = " + quoteLiteral(message) + "; END"
	tag := "$wasql$"
	for i := 0; strings.Contains(body, tag); i++ {
		tag = "$wasql" + strconv.Itoa(i) + "$"
	}
	var attrs strings.Builder
	switch fn.Volatility {
	case "IMMUTABLE", "STABLE", "VOLATILE":
		attrs.WriteString(" " + fn.Volatility)
	}
	switch fn.Parallel {
	case "SAFE", "RESTRICTED", "UNSAFE":
		attrs.WriteString(" PARALLEL " + fn.Parallel)
	}
	if fn.Cost > 0 && !math.IsInf(fn.Cost, 0) {
		attrs.WriteString(" COST " + strconv.FormatFloat(fn.Cost, 'g', -1, 64))
	}
	st.create = "CREATE OR REPLACE FUNCTION " + Schema + "." + quoteIdent(fn.Name) + "(" + st.params + ") RETURNS " + ret +
		" LANGUAGE plpgsql" + attrs.String() + " AS " + tag + body + tag
	owner := fn.Owner
	if owner == "" {
		owner = "(none)"
	}
	st.comment = "COMMENT ON FUNCTION " + st.signature + " IS " + quoteLiteral(fmt.Sprintf(
		"wasm function %s: module sha256:%s (%d bytes), export %q, owner %s, version %d; a stub: call it through wasql",
		fn.Key(), fn.ModuleHash, fn.ModuleSize, fn.Export, owner, fn.Version))
	return st, true
}

// putStub creates, replaces or drops the stub as fn replaces old (nil for a new function), in
// the write's transaction. PostgreSQL's CREATE OR REPLACE cannot change a function's return
// type or parameter names, so a stub that changes them is dropped and created again (which
// fails, with PostgreSQL's error, if some view or function depends on it).
func (s *Store) putStub(ctx context.Context, tx pgx.Tx, old, fn *catalog.Function) error {
	st, ok := s.stubFor(fn)
	if old != nil {
		if prev, had := s.stubFor(old); had && (!ok || prev.returns != st.returns || prev.params != st.params) {
			if _, err := tx.Exec(ctx, "DROP FUNCTION IF EXISTS "+prev.signature); err != nil {
				return fmt.Errorf("drop stub %s: %w", prev.signature, err)
			}
		}
	}
	if !ok {
		return nil
	}
	if _, err := tx.Exec(ctx, st.create); err != nil {
		return fmt.Errorf("create stub %s: %w", st.signature, err)
	}
	if _, err := tx.Exec(ctx, st.comment); err != nil {
		return fmt.Errorf("comment on stub %s: %w", st.signature, err)
	}
	return nil
}

// dropStub drops fn's stub, if it has one and it is still there.
func (s *Store) dropStub(ctx context.Context, tx pgx.Tx, fn *catalog.Function) error {
	st, ok := s.stubFor(fn)
	if !ok {
		return nil
	}
	if _, err := tx.Exec(ctx, "DROP FUNCTION IF EXISTS "+st.signature); err != nil {
		return fmt.Errorf("drop stub %s: %w", st.signature, err)
	}
	return nil
}

// quoteIdent quotes a PostgreSQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// quoteLiteral quotes a string constant so that it reads the same whatever
// standard_conforming_strings says: an escape string with backslashes and quotes doubled.
func quoteLiteral(s string) string {
	return "E'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `'`, `''`) + "'"
}

// positional reports whether name is $ and digits.
func positional(name string) bool {
	if len(name) < 2 || name[0] != '$' {
		return false
	}
	for _, c := range name[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
