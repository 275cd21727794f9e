package sqlfuncs

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression/function"

	"github.com/wasql/wasql/udf"
)

// NativeNameCollision is MySQL's ER_NATIVE_FCT_NAME_COLLISION, the note CREATE FUNCTION leaves
// when a function takes the name of a built-in one.
const NativeNameCollision = 1585

// builtins are go-mysql-server's functions, by lower-case name.
var builtins = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range function.BuiltIns {
		m[strings.ToLower(f.FunctionName())] = true
	}
	return m
}()

// IsBuiltin reports whether name is one of go-mysql-server's built-in functions.
func IsBuiltin(name string) bool { return builtins[strings.ToLower(name)] }

// unreachable are the built-ins whose calls never ask for a function by name: aggregates, window
// functions and the calls go-mysql-server's grammar reads itself (NOW, CHAR, EXTRACT, VALUES...).
// A wasm function by one of these names could be created but never called, so CREATE refuses
// it. The list is what TestBuiltinNames measures: every other built-in's name, taken by a wasm
// function, calls the wasm function.
var unreachable = map[string]bool{}

func init() {
	for _, n := range strings.Fields(`any_value avg bit_and bit_or bit_xor char count current_date
		current_time current_timestamp current_user dense_rank extract first first_value get_format
		group_concat json_arrayagg json_objectagg json_table lag last last_value lead load_file
		localtime localtimestamp max min now ntile percent_rank rank row_number schema std stddev
		stddev_pop stddev_samp sum timestampdiff utc_timestamp values var_pop var_samp variance`) {
		unreachable[n] = true
	}
}

// Unreachable reports whether a call of name can never reach a wasm function of that name.
func Unreachable(name string) bool { return unreachable[strings.ToLower(name)] }

// unreachableError is CREATE's refusal of a name no call can reach.
func unreachableError(name string) error {
	return &udf.Error{Kind: udf.KindUnsupported, Function: name, Row: -1, Message: fmt.Sprintf(
		"a wasm function named %s cannot be called: %s(...) always runs the built-in aggregate or statement of that name; choose another name", name, name)}
}

// warnShadow leaves a note when a new wasm function takes the name of a built-in one: wasm
// functions are resolved first, so every call of that name now runs the wasm function (and
// fails where no overload fits). The MySQL wire shows it as a warning (SHOW WARNINGS), the
// Postgres wire as a NOTICE.
func warnShadow(ctx *sql.Context, name string) {
	if ctx == nil || ctx.Session == nil || !IsBuiltin(name) {
		return
	}
	ctx.Session.Warn(&sql.Warning{Level: "Note", Code: NativeNameCollision, Message: fmt.Sprintf(
		"This function '%s' has the same name as a native function: calls of %s() now run the wasm function, not the built-in one (DROP FUNCTION %s restores it)",
		name, name, name)})
}

// hasOverload reports whether DROP FUNCTION s names an existing function.
func (r *Registry) hasOverload(s *DropStmt) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, ov := range r.byName[s.Name] {
		if s.Args == nil || slices.Equal(ov.Args, s.Args) {
			return true
		}
	}
	return false
}

// noteMissing leaves the note of DROP FUNCTION IF EXISTS of a function that does not exist, in
// PostgreSQL's words (a NOTICE on the Postgres wire) with MySQL's code 1305 (SHOW WARNINGS).
func noteMissing(ctx *sql.Context, s *DropStmt) {
	if ctx == nil || ctx.Session == nil {
		return
	}
	name := s.Name
	if s.Args != nil {
		name += "(" + typeList(s.Args) + ")"
	}
	ctx.Session.Warn(&sql.Warning{Level: "Note", Code: 1305, Message: fmt.Sprintf("function %s does not exist, skipping", name)})
}
