package sqlfuncs

import (
	"strings"
	"sync"

	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"

	sqle "github.com/dolthub/go-mysql-server"
)

// NewEngine returns a go-mysql-server engine over pro with wasm functions added (Extend). A
// go-mysql-server memory provider is wrapped in a MemoryProvider that provides reg's functions.
func NewEngine(pro sql.DatabaseProvider, reg *Registry) *sqle.Engine {
	if _, ok := pro.(sql.FunctionProvider); !ok {
		if mp, ok := pro.(*memory.DbProvider); ok {
			pro = &MemoryProvider{DbProvider: mp, Functions: reg}
		}
	}
	e := sqle.New(analyzer.NewBuilder(pro).AddOverrides(Overrides(reg)).Build(), nil)
	Extend(e, reg)
	return e
}

// Overrides returns the engine overrides that put reg's parser (the wasm DDL) in front of
// go-mysql-server's, for an engine built elsewhere (Dolt's) and then given to Extend.
func Overrides(reg *Registry) sql.EngineOverrides {
	return sql.EngineOverrides{Builder: sql.BuilderOverrides{Parser: NewParser(sql.NewMysqlParser(), reg)}}
}

// Extend adds wasm functions to an engine built with Overrides(reg): the CREATE/DROP FUNCTION
// statements, the functions themselves, the batch rule, the functions in
// information_schema.routines and .parameters (so SHOW FUNCTION STATUS) and SHOW CREATE
// FUNCTION, and EXPLAIN ANALYZE with the wasm functions' counts (explain.go). Call it once,
// before the engine serves queries.
//
// Functions are found through the engine's database provider, so that each engine of a process
// has its own (go-mysql-server's analyzer.ExternalFunctionProvider is one per process and is not
// used): the provider must itself return reg's functions (reg.Function).
func Extend(e *sqle.Engine, reg *Registry) {
	a := e.Analyzer
	cat := a.Catalog
	cat.InfoSchema = &infoSchema{Database: cat.InfoSchema, reg: reg}
	reg.SetPrivileges(cat.MySQLDb)
	a.ExecBuilder.PriorityBuilder = explainBuilder{base: a.ExecBuilder, next: a.ExecBuilder.PriorityBuilder}
	fixAnalyzer(a)
	for _, b := range a.Batches {
		if b.Desc == "post-validation" { // after validation, which must see the query as written
			b.Rules = append(b.Rules, analyzer.Rule{Id: RuleID, Apply: reg.liftCalls})
		}
	}
}

// MemoryProvider is a go-mysql-server memory database provider that also provides functions.
type MemoryProvider struct {
	*memory.DbProvider
	Functions sql.FunctionProvider
	// Stats, when set, puts wasql.functions (the StatsTable of this registry) in the database
	// named StatsDatabase.
	Stats         *Registry
	StatsDatabase string

	statsOnce  sync.Once
	statsTable sql.Table
}

// Database implements sql.DatabaseProvider.
func (p *MemoryProvider) Database(ctx *sql.Context, name string) (sql.Database, error) {
	db, err := p.DbProvider.Database(ctx, name)
	if err != nil || p.Stats == nil || !strings.EqualFold(name, p.StatsDatabase) {
		return db, err
	}
	if mdb, ok := db.(*memory.Database); ok {
		p.statsOnce.Do(func() { p.statsTable = NewStatsTable(p.Stats, p.StatsDatabase) })
		return &statsDB{Database: mdb, stats: p.statsTable}, nil
	}
	return db, nil
}

// Function implements the interface sql.FunctionProvider.
func (p *MemoryProvider) Function(ctx *sql.Context, name string) (sql.Function, bool) {
	return p.Functions.Function(ctx, name)
}

// Explain returns the analyzed plan of query, as EXPLAIN shows it, for tests and debugging.
func Explain(ctx *sql.Context, e *sqle.Engine, query string) (string, error) {
	n, err := e.AnalyzeQuery(ctx, query)
	if err != nil {
		return "", err
	}
	return sql.DebugString(n), nil
}
