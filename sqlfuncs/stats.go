package sqlfuncs

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"

	"github.com/wasql/wasql/udf"
)

// StatsTable is the name of the table listing every wasm function with its state and call
// statistics: wasql.functions on both wires.
const StatsTable = "functions"

// StatsColumn is one column of wasql.functions.
type StatsColumn struct {
	Name string
	Type sql.Type
	Doc  string
}

// StatsColumns are wasql.functions' columns, in order: the definition, the load state, and the
// counters since the function was created, replaced, or its counters reset (wasql.reset_stats).
var StatsColumns = []StatsColumn{
	{"schema_name", types.Text, "the function's schema (\"\" is the default)"},
	{"name", types.Text, "the function's name"},
	{"arg_types", types.Text, "argument types, comma-separated"},
	{"return_type", types.Text, "result type"},
	{"signature", types.Text, "name(arg types) RETURNS type"},
	{"volatility", types.Text, "IMMUTABLE, STABLE or VOLATILE"},
	{"strict", types.Boolean, "RETURNS NULL ON NULL INPUT"},
	{"parallel", types.Text, "SAFE, RESTRICTED or UNSAFE"},
	{"module_hash", types.Text, "hex SHA-256 of the module"},
	{"module_size", types.Int64, "module bytes"},
	{"timeout_ms", types.Float64, "time limit of one guest call (one batch)"},
	{"memory_limit", types.Int64, "linear memory cap of one instance, bytes"},
	{"fuel_limit", types.Int64, "fuel per row, 0 for none"},
	{"options", types.Text, "WITH options as written, as a JSON object"},
	{"owner", types.Text, "who created it"},
	{"version", types.Int64, "1 at creation, +1 at each OR REPLACE"},
	{"created", types.DatetimeMaxPrecision, "when it was created"},
	{"replaced", types.DatetimeMaxPrecision, "when it was last replaced, NULL if never"},
	{"state", types.Text, "unloaded (a definition only), idle (loaded, no instance), loaded (instances exist) or broken"},
	{"error", types.Text, "why it is broken, else NULL"},
	{"instances", types.Int64, "instances now, busy or idle"},
	{"calls", types.Int64, "evaluations: one a batch of rows of the engine (or one row where calls run row by row)"},
	{"rows_evaluated", types.Int64, "rows evaluated"},
	{"batches", types.Int64, "guest calls: one a batch of at most 1024 rows"},
	{"errors", types.Int64, "evaluations that failed"},
	{"errors_by_kind", types.Text, "failed evaluations by kind (trap, timeout, memory, fuel, row, ...), a JSON object"},
	{"total_ms", types.Float64, "time spent in guest calls"},
	{"p50_ms", types.Float64, "median time of a guest call (upper bound of its power-of-two bucket)"},
	{"p99_ms", types.Float64, "99th percentile time of a guest call (upper bound of its bucket)"},
	{"fuel", types.Int64, "fuel units used"},
	{"peak_memory", types.Int64, "largest linear memory of an instance after a call, bytes"},
	{"loads", types.Int64, "times it was loaded on demand (after a restart or being unloaded when idle)"},
	{"stats_since", types.DatetimeMaxPrecision, "when its counters started"},
}

// StatsRow is the row of wasql.functions for ov, in StatsColumns' order.
func StatsRow(ov *Overload) sql.Row {
	d := ov.Def
	state, errText, instances := "broken", any(nil), int64(0)
	var st udf.Stats
	limits := udf.Limits{}
	if ov.Broken != nil {
		errText = ov.Broken.Error()
	}
	if ov.Fn != nil {
		state = ov.Fn.State()
		if err := ov.Fn.Broken(); err != nil {
			errText = err.Error()
		}
		instances = int64(ov.Fn.Instances())
		st = ov.Fn.Stats()
		limits = ov.Fn.Definition().Limits
	}
	opts := "{}"
	if len(d.Options) > 0 {
		b, _ := json.Marshal(d.Options) // sorted keys
		opts = string(b)
	}
	kinds := "{}"
	if len(st.Errors) > 0 {
		b, _ := json.Marshal(st.Errors)
		kinds = string(b)
	}
	var replaced any
	if !d.Replaced.IsZero() {
		replaced = d.Replaced.UTC()
	}
	return sql.Row{d.Schema, d.Name, strings.Join(d.ArgTypes, ", "), d.ReturnType,
		fmt.Sprintf("%s(%s) RETURNS %s", d.Name, strings.Join(d.ArgTypes, ", "), d.ReturnType),
		d.Volatility, d.Strict, d.Parallel, d.ModuleHash, d.ModuleSize,
		ms(limits.Timeout), int64(limits.MemoryBytes), int64(limits.Fuel), opts, d.Owner, d.Version,
		d.Created.UTC(), replaced, state, errText, instances,
		st.Evals, st.Rows, st.Calls, st.ErrorCount(), kinds, ms(st.Time), ms(st.P50), ms(st.P99),
		st.Fuel, st.PeakMemory, st.Loads, st.Since.UTC()}
}

// ResetStats sets the counters of the functions named name (every function when name is "")
// to zero, reporting how many it reset.
func (r *Registry) ResetStats(name string) int64 {
	n := int64(0)
	for _, ov := range r.Functions() {
		if ov.Fn != nil && (name == "" || strings.EqualFold(ov.Def.Name, name)) {
			ov.Fn.ResetStats()
			n++
		}
	}
	return n
}

// statsDB is a database with wasql.functions: a table named StatsTable that it does not list
// (SHOW TABLES, information_schema, pg_catalog), found by name unless the database has a table of
// that name itself, which then comes first. MemoryProvider hands it to the analyzer; the memory
// session, which requires go-mysql-server's own database types, sees the database as it is.
type statsDB struct {
	*memory.Database
	stats sql.Table
}

func (d *statsDB) GetTableInsensitive(ctx *sql.Context, name string) (sql.Table, bool, error) {
	t, ok, err := d.Database.GetTableInsensitive(ctx, name)
	if ok || err != nil || !strings.EqualFold(name, StatsTable) {
		return t, ok, err
	}
	return d.stats, true, nil
}

// statsTable is wasql.functions in go-mysql-server: read-only, computed at each scan.
type statsTable struct {
	reg    *Registry
	db     string
	schema sql.Schema
}

// NewStatsTable returns the wasql.functions table of reg, for the database db.
func NewStatsTable(reg *Registry, db string) sql.Table {
	t := &statsTable{reg: reg, db: db}
	for _, c := range StatsColumns {
		t.schema = append(t.schema, &sql.Column{Name: c.Name, Type: c.Type, Nullable: true, Source: StatsTable, DatabaseSource: db, Comment: c.Doc})
	}
	return t
}

func (t *statsTable) Name() string                   { return StatsTable }
func (t *statsTable) String() string                 { return StatsTable }
func (t *statsTable) Schema() sql.Schema             { return t.schema }
func (t *statsTable) Collation() sql.CollationID     { return sql.Collation_Default }
func (t *statsTable) IgnoreSessionData() bool        { return true }
func (t *statsTable) UnderlyingTable() *memory.Table { return nil }
func (t *statsTable) Partitions(*sql.Context) (sql.PartitionIter, error) {
	return sql.PartitionsToPartitionIter(statsPartition{}), nil
}

func (t *statsTable) PartitionRows(*sql.Context, sql.Partition) (sql.RowIter, error) {
	ovs := t.reg.Functions()
	sort.SliceStable(ovs, func(i, j int) bool { return ovs[i].Def.Key().Compare(ovs[j].Def.Key()) < 0 })
	rows := make([]sql.Row, len(ovs))
	for i, ov := range ovs {
		rows[i] = StatsRow(ov)
	}
	return sql.RowsToRowIter(rows...), nil
}

type statsPartition struct{}

func (statsPartition) Key() []byte { return []byte(StatsTable) }

// resetStats is wasql_reset_stats([name]): the number of functions whose counters it reset.
type resetStats struct {
	reg  *Registry
	args []sql.Expression
}

// ResetStatsFunction is the SQL function wasql_reset_stats() / wasql_reset_stats(name).
func ResetStatsFunction(reg *Registry) sql.Function {
	return sql.FunctionN{Name: "wasql_reset_stats", Fn: func(args ...sql.Expression) (sql.Expression, error) {
		if len(args) > 1 {
			return nil, sql.ErrInvalidArgumentNumber.New("wasql_reset_stats", "0 or 1", len(args))
		}
		return &resetStats{reg: reg, args: args}, nil
	}}
}

var _ sql.FunctionExpression = (*resetStats)(nil)

func (f *resetStats) FunctionName() string       { return "wasql_reset_stats" }
func (f *resetStats) Description() string        { return "sets wasm functions' call statistics to zero" }
func (f *resetStats) Resolved() bool             { return expression.ExpressionsResolved(f.args...) }
func (f *resetStats) String() string             { return "wasql_reset_stats()" }
func (f *resetStats) Type() sql.Type             { return types.Int64 }
func (f *resetStats) IsNullable() bool           { return false }
func (f *resetStats) Children() []sql.Expression { return f.args }
func (f *resetStats) IsNonDeterministic() bool   { return true }
func (f *resetStats) CollationCoercibility(*sql.Context) (sql.CollationID, byte) {
	return sql.Collation_binary, 5
}

func (f *resetStats) WithChildren(children ...sql.Expression) (sql.Expression, error) {
	return &resetStats{reg: f.reg, args: children}, nil
}

func (f *resetStats) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	name := ""
	if len(f.args) == 1 {
		v, err := f.args[0].Eval(ctx, row)
		if err != nil {
			return nil, err
		}
		if v == nil {
			return int64(0), nil
		}
		name = fmt.Sprint(v)
	}
	return f.reg.ResetStats(name), nil
}
