package pgsql

import (
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/wasql/wasql/internal/pgtext"
	"github.com/wasql/wasql/internal/sqlstate"
)

// This file translates the statements that change data or schema.

func (p *printer) insert(s *pg.InsertStmt) {
	if s.WithClause != nil {
		p.unsupported("WITH on INSERT")
	}
	p.returningList(s.ReturningList)
	if s.Relation.Alias != nil {
		p.unsupported("an alias on the INSERT target")
	}
	p.WriteString("INSERT INTO ")
	p.rangeVar(s.Relation)
	cols := make([]string, len(s.Cols))
	for i, c := range s.Cols {
		t := c.GetResTarget()
		if len(t.Indirection) > 0 {
			p.unsupported("subscripts in an INSERT column list")
		}
		cols[i] = t.Name
	}
	if len(cols) > 0 {
		p.WriteString(" (")
		list(p, cols, p.ident)
		p.WriteString(")")
	}
	switch sel := s.SelectStmt.GetSelectStmt(); {
	case sel == nil:
		p.WriteString(" VALUES ()") // INSERT ... DEFAULT VALUES
	case len(sel.ValuesLists) > 0 && sel.Op == pg.SetOperation_SETOP_NONE:
		p.WriteString(" VALUES ")
		list(p, sel.ValuesLists, p.expr)
	default:
		p.WriteString(" ")
		p.selectStmt(sel, false)
	}
	if oc := s.OnConflictClause; oc != nil {
		if oc.Action == pg.OnConflictAction_ONCONFLICT_UPDATE {
			sel := s.SelectStmt.GetSelectStmt()
			if sel == nil || len(sel.ValuesLists) == 0 || sel.Op != pg.SetOperation_SETOP_NONE {
				p.unsupported("INSERT ... SELECT with ON CONFLICT DO UPDATE")
			}
			p.upserted = len(sel.GetValuesLists())
		}
		p.onConflict(oc, cols)
	}
}

// onConflict prints ON CONFLICT as ON DUPLICATE KEY UPDATE: DO NOTHING updates a column to
// itself, EXCLUDED.c is VALUES(c).
func (p *printer) onConflict(oc *pg.OnConflictClause, cols []string) {
	if oc.WhereClause != nil {
		p.unsupported("ON CONFLICT ... WHERE")
	}
	p.WriteString(" ON DUPLICATE KEY UPDATE ")
	if oc.Action == pg.OnConflictAction_ONCONFLICT_NOTHING {
		col := ""
		if oc.Infer != nil && len(oc.Infer.IndexElems) > 0 {
			col = oc.Infer.IndexElems[0].GetIndexElem().Name
		} else if len(cols) > 0 {
			col = cols[0]
		}
		if col == "" {
			p.unsupported("ON CONFLICT DO NOTHING without a column list")
		}
		p.ident(col)
		p.WriteString(" = ")
		p.ident(col)
		return
	}
	p.excluded = true
	p.assignments(oc.TargetList)
	p.excluded = false
}

// returningList translates a RETURNING list into p.returning.
func (p *printer) returningList(targets []*pg.Node) {
	if len(targets) == 0 {
		return
	}
	r := &printer{}
	list(r, targets, func(n *pg.Node) { r.target(n.GetResTarget(), true) })
	if r.err != nil {
		p.fail(r.err.(*Error))
	}
	p.returning = r.String()
}

func (p *printer) assignments(targets []*pg.Node) {
	list(p, targets, func(n *pg.Node) {
		t := n.GetResTarget()
		if len(t.Indirection) > 0 || t.Val.GetMultiAssignRef() != nil {
			p.unsupported("assigning to subscripts or several columns at once")
		}
		p.ident(t.Name)
		p.WriteString(" = ")
		p.expr(t.Val)
	})
}

func (p *printer) update(s *pg.UpdateStmt) {
	if s.WithClause != nil || len(s.FromClause) > 0 {
		p.unsupported("WITH and FROM on UPDATE")
	}
	p.returningList(s.ReturningList)
	p.WriteString("UPDATE ")
	p.fromItem(&pg.Node{Node: &pg.Node_RangeVar{RangeVar: s.Relation}})
	p.WriteString(" SET ")
	p.assignments(s.TargetList)
	if s.WhereClause != nil {
		p.WriteString(" WHERE ")
		p.expr(s.WhereClause)
	}
}

func (p *printer) delete(s *pg.DeleteStmt) {
	if s.WithClause != nil || len(s.UsingClause) > 0 || len(s.ReturningList) > 0 {
		p.unsupported("WITH, USING and RETURNING on DELETE")
	}
	p.WriteString("DELETE FROM ")
	p.fromItem(&pg.Node{Node: &pg.Node_RangeVar{RangeVar: s.Relation}})
	if s.WhereClause != nil {
		p.WriteString(" WHERE ")
		p.expr(s.WhereClause)
	}
}

var serialTypes = map[string]bool{"smallserial": true, "serial2": true, "serial": true, "serial4": true, "bigserial": true, "serial8": true}

// columnType is the engine's type for a Postgres column type. key is true for a column of a
// primary key or unique constraint: the engine cannot index TEXT or BLOB columns, so those
// become VARCHAR(768) and VARBINARY(3072). serial is true for serial types.
func (p *printer) columnType(tn *pg.TypeName, key bool) (typ string, serial bool) {
	if len(tn.ArrayBounds) > 0 {
		p.unsupported("array types")
	}
	mods := typeMods(tn)
	switch t := pgType(tn); t {
	case "smallserial", "serial2":
		return "SMALLINT", true
	case "serial", "serial4":
		return "INT", true
	case "bigserial", "serial8":
		return "BIGINT", true
	case "int2", "smallint":
		return "SMALLINT", false
	case "int4", "integer", "int":
		return "INT", false
	case "int8", "bigint":
		return "BIGINT", false
	case "float4", "real":
		return "FLOAT", false
	case "float8":
		return "DOUBLE", false
	case "numeric", "decimal":
		if len(mods) == 0 { // the engine keeps no scale per value: 2.50 would come back as 2.5
			p.unsupported("numeric without precision and scale as a column type (declare numeric(p,s))")
		}
		return decimal(mods), false
	case "bool", "boolean":
		return "BOOLEAN", false
	case "varchar":
		if len(mods) == 1 {
			return "VARCHAR(" + strconv.Itoa(mods[0]) + ")", false
		}
		fallthrough
	case "text", "citext":
		if key {
			return "VARCHAR(768)", false
		}
		return "LONGTEXT", false
	case "bpchar", "char":
		n := 1
		if len(mods) == 1 {
			n = mods[0]
		}
		return "CHAR(" + strconv.Itoa(n) + ")", false
	case "name":
		return "VARCHAR(64)", false
	case "bytea":
		if key {
			return "VARBINARY(3072)", false
		}
		return "LONGBLOB", false
	case "date":
		return "DATE", false
	case "timestamp":
		return "DATETIME(6)", false
	case "timestamptz": // kept in UTC; the engine's TIMESTAMP tells the two apart
		return "TIMESTAMP(6)", false
	case "time", "timetz":
		return "TIME(6)", false
	case "json", "jsonb":
		return "JSON", false
	case "uuid":
		return "CHAR(36)", false
	case "oid":
		return "INT UNSIGNED", false
	case "interval", "money", "inet", "cidr", "macaddr", "tsvector", "xml", "point", "box":
		p.unsupported("the type %s", t)
	default:
		p.fail(&Error{Code: "42704", Msg: "type \"" + t + "\" does not exist"})
	}
	return "", false
}

func (p *printer) createTable(s *pg.CreateStmt) {
	if len(s.InhRelations) > 0 || s.Partspec != nil || s.Partbound != nil || s.OfTypename != nil {
		p.unsupported("INHERITS, PARTITION and OF on CREATE TABLE")
	}
	keys := map[string]bool{}
	var moved []*pg.Constraint // column constraints printed as table constraints
	for _, n := range append(append([]*pg.Node{}, s.TableElts...), s.Constraints...) {
		switch x := n.Node.(type) {
		case *pg.Node_ColumnDef:
			for _, c := range x.ColumnDef.Constraints {
				col := []*pg.Node{pg.MakeStrNode(x.ColumnDef.Colname)}
				switch con := c.GetConstraint(); con.Contype {
				case pg.ConstrType_CONSTR_PRIMARY:
					keys[x.ColumnDef.Colname] = true
				case pg.ConstrType_CONSTR_UNIQUE: // printed as a table constraint, to be named
					keys[x.ColumnDef.Colname] = true
					con.Keys = col
					moved = append(moved, con)
				case pg.ConstrType_CONSTR_FOREIGN:
					con.FkAttrs = col
					moved = append(moved, con)
				}
			}
		case *pg.Node_Constraint:
			if x.Constraint.Contype == pg.ConstrType_CONSTR_PRIMARY || x.Constraint.Contype == pg.ConstrType_CONSTR_UNIQUE {
				for _, k := range x.Constraint.Keys {
					keys[k.GetString_().Sval] = true
				}
			}
		}
	}
	p.WriteString("CREATE ")
	if s.Relation.Relpersistence == "t" {
		p.WriteString("TEMPORARY ")
	}
	p.WriteString("TABLE ")
	if s.IfNotExists {
		p.WriteString("IF NOT EXISTS ")
	}
	p.newRelation(s.Relation)
	p.WriteString(" (")
	first := true
	sep := func() {
		if !first {
			p.WriteString(", ")
		}
		first = false
	}
	for _, n := range s.TableElts {
		sep()
		switch x := n.Node.(type) {
		case *pg.Node_ColumnDef:
			p.column(x.ColumnDef, keys[x.ColumnDef.Colname])
		case *pg.Node_Constraint:
			p.tableConstraint(s.Relation.Relname, x.Constraint)
		default:
			p.unsupported("LIKE in CREATE TABLE")
		}
	}
	for _, c := range s.Constraints {
		sep()
		p.tableConstraint(s.Relation.Relname, c.GetConstraint())
	}
	for _, c := range moved {
		sep()
		p.tableConstraint(s.Relation.Relname, c)
	}
	// The engine wants an AUTO_INCREMENT column indexed; Postgres does not need serial to be a key.
	for _, n := range s.TableElts {
		if cd := n.GetColumnDef(); cd != nil && serialTypes[pgType(cd.TypeName)] && !keys[cd.Colname] {
			sep()
			p.WriteString("KEY (")
			p.ident(cd.Colname)
			p.WriteString(")")
		}
	}
	p.WriteString(")")
}

func (p *printer) column(c *pg.ColumnDef, key bool) {
	p.ident(c.Colname)
	typ, serial := p.columnType(c.TypeName, key)
	p.WriteString(" " + typ)
	if serial {
		p.WriteString(" NOT NULL AUTO_INCREMENT")
	}
	if c.CollClause != nil {
		p.unsupported("COLLATE on a column")
	}
	for _, n := range c.Constraints {
		con := n.GetConstraint()
		switch con.Contype {
		case pg.ConstrType_CONSTR_NOTNULL:
			if !serial {
				p.WriteString(" NOT NULL")
			}
		case pg.ConstrType_CONSTR_NULL:
			p.WriteString(" NULL")
		case pg.ConstrType_CONSTR_DEFAULT:
			p.WriteString(" DEFAULT ")
			if p.typedDefault(con.RawExpr, pgType(c.TypeName)) {
				break
			}
			if con.RawExpr.GetAConst() != nil {
				p.expr(con.RawExpr)
			} else {
				p.WriteString("(")
				p.expr(con.RawExpr)
				p.WriteString(")")
			}
		case pg.ConstrType_CONSTR_IDENTITY:
			p.WriteString(" AUTO_INCREMENT")
		case pg.ConstrType_CONSTR_GENERATED:
			p.WriteString(" GENERATED ALWAYS AS (")
			p.expr(con.RawExpr)
			p.WriteString(") STORED")
		case pg.ConstrType_CONSTR_PRIMARY:
			p.WriteString(" PRIMARY KEY")
		case pg.ConstrType_CONSTR_CHECK:
			p.WriteString(" CHECK (")
			p.expr(con.RawExpr)
			p.WriteString(")")
		case pg.ConstrType_CONSTR_FOREIGN:
			// printed as a table constraint: MySQL ignores REFERENCES on a column
		case pg.ConstrType_CONSTR_ATTR_DEFERRABLE, pg.ConstrType_CONSTR_ATTR_DEFERRED:
			p.unsupported("DEFERRABLE constraints")
		}
	}
}

// typedDefault prints a string constant DEFAULT of a boolean, bytea or timestamp column as
// Postgres reads it when the table is created, and reports whether it did. A timestamptz
// default without a UTC offset depends on the TimeZone at CREATE TABLE, which the cached
// translation cannot know: it is refused.
func (p *printer) typedDefault(n *pg.Node, t string) bool {
	lit := n.GetAConst().GetSval()
	if lit == nil {
		return false
	}
	switch t {
	case "bool", "boolean":
		p.boolCast(n)
	case "bytea":
		b, err := pgtext.ParseBytea(lit.Sval)
		if err != nil {
			p.fail(&Error{Code: sqlstate.Of(err), Msg: err.Error()})
			return true
		}
		p.WriteString("(CAST(X'" + hex.EncodeToString(b) + "' AS BINARY))")
	case "timestamp", "timestamptz":
		v, err := pgtext.ReadTimestamp(lit.Sval, t == "timestamptz", func() (*time.Location, error) {
			return nil, unsupported("a timestamptz DEFAULT without a UTC offset")
		})
		if err != nil {
			p.fail(&Error{Code: sqlstate.Of(err), Msg: err.Error()})
			return true
		}
		p.str(v.Format("2006-01-02 15:04:05.999999"))
	default:
		return false
	}
	return true
}

// tableConstraint prints a table constraint; an unnamed UNIQUE gets Postgres's name for it,
// table_col_key.
func (p *printer) tableConstraint(table string, c *pg.Constraint) {
	if c.Conname == "" && c.Contype == pg.ConstrType_CONSTR_UNIQUE {
		c.Conname = table + "_" + strings.Join(names(c.Keys), "_") + "_key"
	}
	if c.Conname != "" {
		p.WriteString("CONSTRAINT ")
		p.ident(c.Conname)
		p.WriteString(" ")
	}
	cols := func(ns []*pg.Node) {
		p.WriteString("(")
		list(p, names(ns), p.ident)
		p.WriteString(")")
	}
	switch c.Contype {
	case pg.ConstrType_CONSTR_PRIMARY:
		p.WriteString("PRIMARY KEY ")
		cols(c.Keys)
	case pg.ConstrType_CONSTR_UNIQUE:
		p.WriteString("UNIQUE ")
		cols(c.Keys)
	case pg.ConstrType_CONSTR_CHECK:
		p.WriteString("CHECK (")
		p.expr(c.RawExpr)
		p.WriteString(")")
	case pg.ConstrType_CONSTR_FOREIGN:
		if len(c.PkAttrs) == 0 {
			p.unsupported("REFERENCES without a column list")
		}
		p.WriteString("FOREIGN KEY ")
		cols(c.FkAttrs)
		p.WriteString(" REFERENCES ")
		p.rangeVar(c.Pktable)
		p.WriteString(" ")
		cols(c.PkAttrs)
		actions := map[string]string{"r": "RESTRICT", "c": "CASCADE", "n": "SET NULL", "d": "SET DEFAULT"}
		if a, ok := actions[c.FkDelAction]; ok {
			p.WriteString(" ON DELETE " + a)
		}
		if a, ok := actions[c.FkUpdAction]; ok {
			p.WriteString(" ON UPDATE " + a)
		}
	default:
		p.unsupported("this table constraint")
	}
}

func (p *printer) createView(v *pg.ViewStmt) {
	if len(v.Aliases) > 0 || v.WithCheckOption != pg.ViewCheckOption_NO_CHECK_OPTION {
		p.unsupported("column names and CHECK OPTION on CREATE VIEW")
	}
	p.WriteString("CREATE ")
	if v.Replace {
		p.WriteString("OR REPLACE ")
	}
	p.WriteString("VIEW ")
	p.newRelation(v.View)
	p.WriteString(" AS ")
	p.selectStmt(v.Query.GetSelectStmt(), false)
}

func (p *printer) createIndex(s *pg.IndexStmt) {
	if s.WhereClause != nil || len(s.IndexIncludingParams) > 0 {
		p.unsupported("partial indexes and INCLUDE")
	}
	cols := make([]string, len(s.IndexParams))
	for i, n := range s.IndexParams {
		e := n.GetIndexElem()
		if e.Expr != nil {
			p.unsupported("indexes on expressions")
		}
		cols[i] = e.Name
	}
	name := s.Idxname
	if name == "" { // Postgres's own naming: table_col_idx, table_col_key for unique
		suffix := "_idx"
		if s.Unique {
			suffix = "_key"
		}
		name = s.Relation.Relname + "_" + strings.Join(cols, "_") + suffix
	}
	p.WriteString("CREATE ")
	if s.Unique {
		p.WriteString("UNIQUE ")
	}
	p.WriteString("INDEX ")
	p.ident(name)
	p.WriteString(" ON ")
	p.rangeVar(s.Relation)
	p.WriteString(" (")
	list(p, cols, p.ident)
	p.WriteString(")")
}

func (p *printer) drop(s *pg.DropStmt) {
	kind := map[pg.ObjectType]string{pg.ObjectType_OBJECT_TABLE: "TABLE", pg.ObjectType_OBJECT_VIEW: "VIEW"}[s.RemoveType]
	if kind == "" {
		p.unsupported("DROP %s", strings.TrimPrefix(s.RemoveType.String(), "OBJECT_"))
		return
	}
	p.WriteString("DROP " + kind + " ")
	if s.MissingOk {
		p.WriteString("IF EXISTS ")
	}
	list(p, s.Objects, func(n *pg.Node) {
		parts := names(n.GetList().Items)
		rv := &pg.RangeVar{Relname: parts[len(parts)-1]}
		if len(parts) > 1 {
			rv.Schemaname = parts[len(parts)-2]
		}
		p.rangeVar(rv)
	})
}

// alterTable prints ALTER TABLE: ADD and DROP COLUMN, ADD and DROP CONSTRAINT, ALTER COLUMN
// SET/DROP DEFAULT; anything else is refused.
func (p *printer) alterTable(s *pg.AlterTableStmt) {
	if s.Objtype != pg.ObjectType_OBJECT_TABLE || s.MissingOk {
		p.unsupported("ALTER of anything but a table, and ALTER TABLE IF EXISTS")
		return
	}
	p.WriteString("ALTER TABLE ")
	p.rangeVar(s.Relation)
	for i, n := range s.Cmds {
		if i > 0 {
			p.WriteString(",")
		}
		p.WriteString(" ")
		c := n.GetAlterTableCmd()
		if c.Behavior == pg.DropBehavior_DROP_CASCADE {
			p.unsupported("CASCADE in ALTER TABLE")
			return
		}
		switch c.Subtype {
		case pg.AlterTableType_AT_AddColumn:
			def := c.Def.GetColumnDef()
			for _, k := range def.Constraints {
				switch k.GetConstraint().Contype {
				case pg.ConstrType_CONSTR_PRIMARY, pg.ConstrType_CONSTR_UNIQUE, pg.ConstrType_CONSTR_FOREIGN:
					p.unsupported("a key or REFERENCES in ALTER TABLE ADD COLUMN (add it as a constraint)")
					return
				}
			}
			if c.MissingOk {
				p.unsupported("ADD COLUMN IF NOT EXISTS")
				return
			}
			p.WriteString("ADD COLUMN ")
			p.column(def, false)
		case pg.AlterTableType_AT_DropColumn:
			if c.MissingOk {
				p.unsupported("DROP COLUMN IF EXISTS")
				return
			}
			p.WriteString("DROP COLUMN ")
			p.ident(c.Name)
		case pg.AlterTableType_AT_AddConstraint:
			p.WriteString("ADD ")
			p.tableConstraint(s.Relation.Relname, c.Def.GetConstraint())
		case pg.AlterTableType_AT_DropConstraint:
			if c.MissingOk {
				p.unsupported("DROP CONSTRAINT IF EXISTS")
				return
			}
			p.WriteString("DROP CONSTRAINT ")
			p.ident(c.Name)
		case pg.AlterTableType_AT_ColumnDefault:
			p.WriteString("ALTER COLUMN ")
			p.ident(c.Name)
			if c.Def == nil {
				p.WriteString(" DROP DEFAULT")
			} else {
				p.WriteString(" SET DEFAULT (")
				p.expr(c.Def)
				p.WriteString(")")
			}
		default:
			p.unsupported("ALTER TABLE %s", strings.TrimPrefix(c.Subtype.String(), "AT_"))
			return
		}
	}
}

// rename prints ALTER TABLE ... RENAME COLUMN and RENAME TO; other renames are refused.
func (p *printer) rename(s *pg.RenameStmt) {
	if s.MissingOk || s.Relation == nil {
		p.unsupported("ALTER ... RENAME")
		return
	}
	switch s.RenameType {
	case pg.ObjectType_OBJECT_COLUMN:
		p.WriteString("ALTER TABLE ")
		p.rangeVar(s.Relation)
		p.WriteString(" RENAME COLUMN ")
		p.ident(s.Subname)
		p.WriteString(" TO ")
		p.ident(s.Newname)
	case pg.ObjectType_OBJECT_TABLE:
		p.WriteString("ALTER TABLE ")
		p.rangeVar(s.Relation)
		p.WriteString(" RENAME TO ")
		p.ident(s.Newname)
	default:
		p.unsupported("ALTER ... RENAME")
	}
}
