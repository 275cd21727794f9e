package pgcatalog

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"

	"github.com/wasql/wasql/proxy"
)

func infoSchemaTables(c *Catalog) []*table {
	return instantiate(c, InfoSchemaDatabase, infoSchemaTableDefs)
}

func isv(name, spec string, rows func(s *snapshot) []row) *table {
	return defView("information_schema", name, spec, rows)
}

func yesNo(b bool) string {
	if b {
		return "YES"
	}
	return "NO"
}

// infoSchemaTableDefs are the views of Postgres's information_schema, GMS database
// pg_information_schema. Their columns are Postgres's, in its order; routines keeps the
// leading columns clients read and leaves out the SQL-standard ones Postgres fills with NULL.
var infoSchemaTableDefs = []*table{
	isv("schemata", `catalog_name name, schema_name name, schema_owner name, default_character_set_catalog name,
		default_character_set_schema name, default_character_set_name name, sql_path text`, func(s *snapshot) []row {
		var rows []row
		for _, nsp := range []string{"information_schema", "pg_catalog", "public"} {
			rows = append(rows, row{s.src.Name, nsp, s.owner, nil, nil, nil, nil})
		}
		return rows
	}),

	isv("tables", `table_catalog name, table_schema name, table_name name, table_type text,
		self_referencing_column_name name, reference_generation text, user_defined_type_catalog name,
		user_defined_type_schema name, user_defined_type_name name, is_insertable_into text, is_typed text,
		commit_action text`, func(s *snapshot) []row {
		var rows []row
		for _, r := range s.rels {
			typ := "BASE TABLE"
			switch r.kind {
			case 'v':
				typ = "VIEW"
			case 'i':
				continue
			}
			rows = append(rows, row{s.src.Name, r.nsp, r.name, typ, nil, nil, nil, nil, nil,
				yesNo(r.kind == 'r' && r.nsp == "public"), "NO", nil})
		}
		return rows
	}),

	isv("columns", `table_catalog name, table_schema name, table_name name, column_name name, ordinal_position int4,
		column_default text, is_nullable text, data_type text, character_maximum_length int4,
		character_octet_length int4, numeric_precision int4, numeric_precision_radix int4, numeric_scale int4,
		datetime_precision int4, interval_type text, interval_precision int4, character_set_catalog name,
		character_set_schema name, character_set_name name, collation_catalog name, collation_schema name,
		collation_name name, domain_catalog name, domain_schema name, domain_name name, udt_catalog name,
		udt_schema name, udt_name name, scope_catalog name, scope_schema name, scope_name name,
		maximum_cardinality int4, dtd_identifier name, is_self_referencing text, is_identity text,
		identity_generation text, identity_start text, identity_increment text, identity_maximum text,
		identity_minimum text, identity_cycle text, is_generated text, generation_expression text,
		is_updatable text`, func(s *snapshot) []row {
		var rows []row
		for _, r := range s.rels {
			if r.kind == 'i' {
				continue
			}
			for i, a := range r.attrs {
				t := typesByOID[a.typ]
				n := numericInfo(a.typ, a.typmod)
				var colDefault, genExpr any
				if a.generated != 0 {
					genExpr = a.def
				} else if a.def != "" {
					colDefault = a.def
				}
				var identGen, identStart, identIncr, identMax, identMin, identCycle any
				if a.identity != 0 {
					identGen, identStart, identIncr, identMax, identMin, identCycle =
						"BY DEFAULT", "1", "1", "9223372036854775807", "1", "NO"
				}
				generated := "NEVER"
				if a.generated != 0 {
					generated = "ALWAYS"
				}
				rows = append(rows, row{s.src.Name, r.nsp, r.name, a.name, i + 1,
					colDefault, yesNo(!a.notNull), infoDataType(a.typ), charMaxLength(a.typ, a.typmod),
					charOctetLength(a.typ, a.typmod), n.precision, n.radix, n.scale,
					n.datetime, nil, nil, nil,
					nil, nil, nil, nil,
					nil, nil, nil, nil, s.src.Name,
					"pg_catalog", t.name, nil, nil, nil,
					nil, strconv.Itoa(i + 1), "NO", yesNo(a.identity != 0),
					identGen, identStart, identIncr, identMax,
					identMin, identCycle, generated, genExpr,
					yesNo(r.kind == 'r' && r.nsp == "public")})
			}
		}
		return rows
	}),

	isv("views", `table_catalog name, table_schema name, table_name name, view_definition text, check_option text,
		is_updatable text, is_insertable_into text, is_trigger_updatable text, is_trigger_deletable text,
		is_trigger_insertable_into text`, func(s *snapshot) []row {
		var rows []row
		for _, r := range s.rels {
			if r.kind == 'v' {
				rows = append(rows, row{s.src.Name, r.nsp, r.name, nullIfEmpty(r.viewDef), "NONE", "NO", "NO", "NO", "NO", "NO"})
			}
		}
		return rows
	}),

	isv("routines", `specific_catalog name, specific_schema name, specific_name name, routine_catalog name,
		routine_schema name, routine_name name, routine_type text, module_catalog name, module_schema name,
		module_name name, udt_catalog name, udt_schema name, udt_name name, data_type text,
		character_maximum_length int4, character_octet_length int4, character_set_catalog name,
		character_set_schema name, character_set_name name, collation_catalog name, collation_schema name,
		collation_name name, numeric_precision int4, numeric_precision_radix int4, numeric_scale int4,
		datetime_precision int4, interval_type text, interval_precision int4, type_udt_catalog name,
		type_udt_schema name, type_udt_name name, scope_catalog name, scope_schema name, scope_name name,
		maximum_cardinality int4, dtd_identifier name, routine_body text, routine_definition text,
		external_name text, external_language text, parameter_style text, is_deterministic text,
		sql_data_access text, is_null_call text, sql_path text, schema_level_routine text,
		max_dynamic_result_sets int4, is_user_defined_cast text, is_implicitly_invocable text,
		security_type text`, func(s *snapshot) []row {
		var rows []row
		for _, p := range s.procs {
			specific := fmt.Sprintf("%s_%d", p.name, p.oid)
			n := numericInfo(p.result, -1)
			lang, body, definition := "INTERNAL", "EXTERNAL", any(nil)
			if p.lang == oidLangWasm {
				lang, definition = "WASM", p.src
			}
			rows = append(rows, row{s.src.Name, p.nsp, specific, s.src.Name,
				p.nsp, p.name, "FUNCTION", nil, nil,
				nil, nil, nil, nil, infoDataType(p.result),
				nil, nil, nil,
				nil, nil, nil, nil,
				nil, n.precision, n.radix, n.scale,
				n.datetime, nil, nil, s.src.Name,
				"pg_catalog", typesByOID[p.result].name, nil, nil, nil,
				nil, "0", body, definition,
				p.src, lang, "GENERAL", yesNo(p.volatility == 'i'),
				"NO SQL", yesNo(!p.strict), nil, "YES",
				0, "NO", nil,
				"INVOKER"})
		}
		return rows
	}),

	isv("table_constraints", `constraint_catalog name, constraint_schema name, constraint_name name,
		table_catalog name, table_schema name, table_name name, constraint_type text, is_deferrable text,
		initially_deferred text, enforced text, nulls_distinct text`, func(s *snapshot) []row {
		var rows []row
		for _, c := range s.cons {
			var nullsDistinct any
			if c.kind == 'u' {
				nullsDistinct = "YES"
			}
			rows = append(rows, row{s.src.Name, c.table.nsp, c.name, s.src.Name, c.table.nsp, c.table.name,
				constraintType(c.kind), "NO", "NO", "YES", nullsDistinct})
		}
		return rows
	}),

	isv("key_column_usage", `constraint_catalog name, constraint_schema name, constraint_name name,
		table_catalog name, table_schema name, table_name name, column_name name, ordinal_position int4,
		position_in_unique_constraint int4`, func(s *snapshot) []row {
		var rows []row
		for _, c := range s.cons {
			for i, k := range c.keys {
				var pos any
				if c.kind == 'f' {
					pos = i + 1
				}
				rows = append(rows, row{s.src.Name, c.table.nsp, c.name, s.src.Name, c.table.nsp, c.table.name,
					c.table.attrs[k-1].name, i + 1, pos})
			}
		}
		return rows
	}),

	isv("referential_constraints", `constraint_catalog name, constraint_schema name, constraint_name name,
		unique_constraint_catalog name, unique_constraint_schema name, unique_constraint_name name,
		match_option text, update_rule text, delete_rule text`, func(s *snapshot) []row {
		var rows []row
		for _, c := range s.cons {
			if c.kind != 'f' {
				continue
			}
			var uniqueName any
			if c.index != nil {
				uniqueName = c.index.name
			}
			rows = append(rows, row{s.src.Name, c.table.nsp, c.name, s.src.Name, c.ref.nsp, uniqueName,
				"NONE", c.onUpdate, c.onDelete})
		}
		return rows
	}),
}

func constraintType(kind byte) string {
	switch kind {
	case 'p':
		return "PRIMARY KEY"
	case 'u':
		return "UNIQUE"
	}
	return "FOREIGN KEY"
}

type numInfo struct{ precision, radix, scale, datetime any }

// numericInfo is information_schema's numeric_precision, numeric_precision_radix,
// numeric_scale and datetime_precision of a type.
func numericInfo(typ uint32, typmod int32) numInfo {
	switch typ {
	case proxy.OIDInt2:
		return numInfo{16, 2, 0, nil}
	case proxy.OIDInt4:
		return numInfo{32, 2, 0, nil}
	case proxy.OIDInt8:
		return numInfo{64, 2, 0, nil}
	case proxy.OIDFloat4:
		return numInfo{24, 2, nil, nil}
	case proxy.OIDFloat8:
		return numInfo{53, 2, nil, nil}
	case proxy.OIDNumeric:
		if typmod >= 4 {
			return numInfo{int((typmod - 4) >> 16 & 0xffff), 10, int((typmod - 4) & 0xffff), nil}
		}
		return numInfo{nil, 10, nil, nil}
	case proxy.OIDDate:
		return numInfo{nil, nil, nil, 0}
	case OIDTime, proxy.OIDTimestamp, proxy.OIDTimestampTZ, OIDInterval:
		if typmod >= 0 {
			return numInfo{nil, nil, nil, int(typmod)}
		}
		return numInfo{nil, nil, nil, 6}
	}
	return numInfo{}
}

func charMaxLength(typ uint32, typmod int32) any {
	if (typ == proxy.OIDVarchar || typ == OIDBpchar) && typmod >= 4 {
		return int(typmod - 4)
	}
	return nil
}

func charOctetLength(typ uint32, typmod int32) any {
	switch typ {
	case proxy.OIDVarchar, OIDBpchar, proxy.OIDText:
		if typmod >= 4 {
			return int(typmod-4) * 4
		}
		return 1073741824
	}
	return nil
}

// defaultSettings are what pg_settings shows for a session that changed nothing.
func defaultSettings(version string) map[string]string {
	num := version
	if major, minor, ok := strings.Cut(version, "."); ok {
		ma, _ := strconv.Atoi(major)
		mi, _ := strconv.Atoi(minor)
		num = strconv.Itoa(ma*10000 + mi)
	}
	return map[string]string{
		"server_version": version, "server_version_num": num, "server_encoding": "UTF8",
		"client_encoding": "UTF8", "DateStyle": "ISO, MDY", "TimeZone": "UTC", "IntervalStyle": "postgres",
		"integer_datetimes": "on", "standard_conforming_strings": "on", "search_path": `"$user", public`,
		"max_identifier_length": "63", "lc_collate": "C.UTF-8", "lc_ctype": "C.UTF-8",
		"transaction_isolation": "read committed", "default_transaction_isolation": "read committed",
		"default_transaction_read_only": "off", "bytea_output": "hex", "extra_float_digits": "1",
		"statement_timeout": "0", "application_name": "",
	}
}

// sessionSettings overlays the session's settings on the defaults, keeping Postgres's
// spelling of the names (DateStyle, TimeZone).
func sessionSettings(ctx *sql.Context, src Source) map[string]string {
	out := defaultSettings(src.ServerVersion)
	if src.Settings == nil {
		return out
	}
	for k, v := range src.Settings(ctx) {
		name := k
		for known := range out {
			if strings.EqualFold(known, k) {
				name = known
			}
		}
		out[name] = v
	}
	return out
}

func settingNames(m map[string]string) []string {
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return strings.ToLower(names[i]) < strings.ToLower(names[j]) })
	return names
}
