package pgcatalog

import (
	"strconv"
	"strings"

	"github.com/wasql/wasql/proxy"
)

func catalogTables(c *Catalog) []*table { return instantiate(c, CatalogDatabase, catalogTableDefs) }

func pgc(name, spec string, rows func(s *snapshot) []row) *table {
	return def("pg_catalog", name, spec, rows)
}

func pgcView(name, spec string, rows func(s *snapshot) []row) *table {
	return defView("pg_catalog", name, spec, rows)
}

// catalogTableDefs are the tables of pg_catalog, with Postgres 15's columns in their order.
var catalogTableDefs = []*table{
	pgc("pg_namespace", "oid oid, nspname name, nspowner oid, nspacl aclitem[]", func(s *snapshot) []row {
		return []row{
			{OIDNamespacePGCatalog, "pg_catalog", OIDOwner, nil},
			{OIDNamespacePublic, "public", OIDDatabaseOwner, nil},
			{OIDNamespaceInfoSchema, "information_schema", OIDOwner, nil},
		}
	}),

	pgc("pg_class", `oid oid, relname name, relnamespace oid, reltype oid, reloftype oid, relowner oid, relam oid,
		relfilenode oid, reltablespace oid, relpages int4, reltuples float4, relallvisible int4, reltoastrelid oid,
		relhasindex bool, relisshared bool, relpersistence char, relkind char, relnatts int2, relchecks int2,
		relhasrules bool, relhastriggers bool, relhassubclass bool, relrowsecurity bool, relforcerowsecurity bool,
		relispopulated bool, relreplident char, relispartition bool, relrewrite oid, relfrozenxid xid,
		relminmxid xid, relacl aclitem[], reloptions text[], relpartbound pg_node_tree`, func(s *snapshot) []row {
		var rows []row
		for _, r := range s.rels {
			am, filenode, replident := uint32(0), r.oid, byte('n')
			switch r.kind {
			case 'r':
				am, replident = OIDAmHeap, 'd'
			case 'i':
				am = OIDAmBtree
				if r.index.method == "hash" {
					am = OIDAmHash
				}
			case 'v':
				filenode = 0
			}
			rows = append(rows, row{r.oid, r.name, namespaceOID(r.nsp), 0, 0, OIDOwner, am,
				filenode, 0, 0, -1, 0, 0,
				len(r.indexes) > 0, false, byte('p'), r.kind, len(r.attrs), 0,
				r.kind == 'v', s.hasForeignKeys(r), false, false, false,
				true, replident, false, 0, 0,
				0, nil, nil, nil})
		}
		return rows
	}),

	pgc("pg_attribute", `attrelid oid, attname name, atttypid oid, attstattarget int4, attlen int2, attnum int2,
		attndims int4, attcacheoff int4, atttypmod int4, attbyval bool, attalign char, attstorage char,
		attcompression char, attnotnull bool, atthasdef bool, atthasmissing bool, attidentity char,
		attgenerated char, attisdropped bool, attislocal bool, attinhcount int4, attcollation oid, attacl aclitem[],
		attoptions text[], attfdwoptions text[], attmissingval text`, func(s *snapshot) []row {
		var rows []row
		for _, r := range s.rels {
			for i, a := range r.attrs {
				t := typesByOID[a.typ]
				ndims := 0
				if t.category == 'A' {
					ndims = 1
				}
				rows = append(rows, row{r.oid, a.name, a.typ, -1, t.len, i + 1,
					ndims, -1, a.typmod, t.byVal(), t.align(), t.storage(),
					byte(0), a.notNull, a.def != "", false, a.identity,
					a.generated, false, true, 0, t.collation, nil,
					nil, nil, nil})
			}
		}
		return rows
	}),

	pgc("pg_type", `oid oid, typname name, typnamespace oid, typowner oid, typlen int2, typbyval bool, typtype char,
		typcategory char, typispreferred bool, typisdefined bool, typdelim char, typrelid oid, typsubscript regproc,
		typelem oid, typarray oid, typinput regproc, typoutput regproc, typreceive regproc, typsend regproc,
		typmodin regproc, typmodout regproc, typanalyze regproc, typalign char, typstorage char, typnotnull bool,
		typbasetype oid, typtypmod int4, typndims int4, typcollation oid, typdefaultbin pg_node_tree,
		typdefault text, typacl aclitem[]`, func(s *snapshot) []row {
		var rows []row
		for _, t := range builtinTypes {
			rows = append(rows, row{t.oid, t.name, OIDNamespacePGCatalog, OIDOwner, t.len, t.byVal(), t.typtype,
				t.category, t.preferred, true, byte(','), 0, 0,
				t.elem, t.array, t.inputOID, 0, 0, 0,
				0, 0, 0, t.align(), t.storage(), false,
				0, -1, 0, t.collation, nil,
				nil, nil})
		}
		return rows
	}),

	pgc("pg_proc", `oid oid, proname name, pronamespace oid, proowner oid, prolang oid, procost float4, prorows float4,
		provariadic oid, prosupport regproc, prokind char, prosecdef bool, proleakproof bool, proisstrict bool,
		proretset bool, provolatile char, proparallel char, pronargs int2, pronargdefaults int2, prorettype oid,
		proargtypes oidvector, proallargtypes oid[], proargmodes char[], proargnames text[],
		proargdefaults pg_node_tree, protrftypes oid[], prosrc text, probin text, prosqlbody pg_node_tree,
		proconfig text[], proacl aclitem[]`, func(s *snapshot) []row {
		var rows []row
		for _, p := range s.procs {
			var argNames any
			for _, n := range p.argNames {
				if n != "" {
					argNames = formatArray(toAnys(p.argNames))
					break
				}
			}
			var bin any
			if p.bin != "" {
				bin = p.bin
			}
			rows = append(rows, row{p.oid, p.name, namespaceOID(p.nsp), OIDOwner, p.lang, p.cost, 0,
				0, 0, byte('f'), false, false, p.strict,
				false, p.volatility, p.parallel, len(p.args), 0, p.result,
				oidVector(p.args), nil, nil, argNames,
				nil, nil, p.src, bin, nil,
				nil, nil})
		}
		return rows
	}),

	pgc("pg_database", `oid oid, datname name, datdba oid, encoding int4, datlocprovider char, datistemplate bool,
		datallowconn bool, datconnlimit int4, datfrozenxid xid, datminmxid xid, dattablespace oid, datcollate text,
		datctype text, daticulocale text, datcollversion text, datacl aclitem[]`, func(s *snapshot) []row {
		return []row{{s.databaseOID(), s.src.Name, OIDOwner, encodingUTF8, byte('c'), false,
			true, -1, 0, 1, OIDTablespaceDefault, "C.UTF-8",
			"C.UTF-8", nil, nil, nil}}
	}),

	pgcView("pg_roles", `rolname name, rolsuper bool, rolinherit bool, rolcreaterole bool, rolcreatedb bool,
		rolcanlogin bool, rolreplication bool, rolconnlimit int4, rolpassword text, rolvaliduntil timestamptz,
		rolbypassrls bool, rolconfig text[], oid oid`, func(s *snapshot) []row {
		var rows []row
		for _, r := range s.roles {
			rows = append(rows, row{r, true, true, true, true,
				s.logins[r], false, -1, "********", nil,
				true, nil, s.roleOID(r)})
		}
		return rows
	}),

	pgcView("pg_user", `usename name, usesysid oid, usecreatedb bool, usesuper bool, userepl bool, usebypassrls bool,
		passwd text, valuntil timestamptz, useconfig text[]`, func(s *snapshot) []row {
		var rows []row
		for _, r := range s.roles {
			if s.logins[r] {
				rows = append(rows, row{r, s.roleOID(r), true, true, false, true, "********", nil, nil})
			}
		}
		return rows
	}),

	pgc("pg_auth_members", "roleid oid, member oid, grantor oid, admin_option bool", empty),

	pgc("pg_am", "oid oid, amname name, amhandler regproc, amtype char", func(s *snapshot) []row {
		return []row{{OIDAmHeap, "heap", 3, byte('t')}, {OIDAmBtree, "btree", 330, byte('i')}, {OIDAmHash, "hash", 331, byte('i')}}
	}),

	pgc("pg_index", `indexrelid oid, indrelid oid, indnatts int2, indnkeyatts int2, indisunique bool,
		indnullsnotdistinct bool, indisprimary bool, indisexclusion bool, indimmediate bool, indisclustered bool,
		indisvalid bool, indcheckxmin bool, indisready bool, indislive bool, indisreplident bool, indkey int2vector,
		indcollation oidvector, indclass oidvector, indoption int2vector, indexprs pg_node_tree,
		indpred pg_node_tree`, func(s *snapshot) []row {
		var rows []row
		for _, idx := range s.indexes {
			zeros := make([]int, len(idx.keys))
			rows = append(rows, row{idx.oid, idx.table.oid, len(idx.keys), len(idx.keys), idx.unique,
				false, idx.primary, false, true, false,
				true, false, true, true, false, intVector(idx.keys),
				intVector(zeros), intVector(zeros), intVector(zeros), nil,
				nil})
		}
		return rows
	}),

	pgc("pg_constraint", `oid oid, conname name, connamespace oid, contype char, condeferrable bool, condeferred bool,
		convalidated bool, conrelid oid, contypid oid, conindid oid, conparentid oid, confrelid oid,
		confupdtype char, confdeltype char, confmatchtype char, conislocal bool, coninhcount int4,
		connoinherit bool, conkey int2[], confkey int2[], conpfeqop oid[], conppeqop oid[], conffeqop oid[],
		confdelsetcols int2[], conexclop oid[], conbin pg_node_tree`, func(s *snapshot) []row {
		var rows []row
		for _, c := range s.cons {
			var indexOID, refOID uint32
			if c.index != nil {
				indexOID = c.index.oid
			}
			upd, del, match, confkey := byte(' '), byte(' '), byte(' '), any(nil)
			if c.kind == 'f' {
				refOID = c.ref.oid
				upd, del, match = fkActionCode(c.onUpdate), fkActionCode(c.onDelete), 's'
				confkey = intArray(c.refKeys)
			}
			rows = append(rows, row{c.oid, c.name, namespaceOID(c.table.nsp), c.kind, false, false,
				true, c.table.oid, 0, indexOID, 0, refOID,
				upd, del, match, true, 0,
				true, intArray(c.keys), confkey, nil, nil, nil,
				nil, nil, nil})
		}
		return rows
	}),

	pgc("pg_attrdef", "oid oid, adrelid oid, adnum int2, adbin pg_node_tree", func(s *snapshot) []row {
		var rows []row
		for _, r := range s.rels {
			for i, a := range r.attrs {
				if a.def != "" && r.kind != 'i' {
					rows = append(rows, row{attrdefOID(r, i+1), r.oid, i + 1, a.def})
				}
			}
		}
		return rows
	}),

	pgc("pg_description", "objoid oid, classoid oid, objsubid int4, description text", empty),
	pgc("pg_shdescription", "objoid oid, classoid oid, description text", empty),

	pgc("pg_collation", `oid oid, collname name, collnamespace oid, collowner oid, collprovider char,
		collisdeterministic bool, collencoding int4, collcollate text, collctype text, colliculocale text,
		collversion text`, func(s *snapshot) []row {
		return []row{
			{OIDCollationDefault, "default", OIDNamespacePGCatalog, OIDOwner, byte('d'), true, -1, nil, nil, nil, nil},
			{OIDCollationC, "C", OIDNamespacePGCatalog, OIDOwner, byte('c'), true, -1, "C", "C", nil, nil},
			{OIDCollationPOSIX, "POSIX", OIDNamespacePGCatalog, OIDOwner, byte('c'), true, -1, "POSIX", "POSIX", nil, nil},
		}
	}),

	pgcView("pg_settings", `name text, setting text, unit text, category text, short_desc text, extra_desc text,
		context text, vartype text, source text, min_val text, max_val text, enumvals text[], boot_val text,
		reset_val text, sourcefile text, sourceline int4, pending_restart bool`, func(s *snapshot) []row {
		var rows []row
		for _, name := range settingNames(s.settings) {
			v := s.settings[name]
			rows = append(rows, row{name, v, nil, "Ungrouped", "", nil,
				"user", "string", "default", nil, nil, nil, v,
				v, nil, nil, false})
		}
		return rows
	}),

	pgc("pg_tablespace", "oid oid, spcname name, spcowner oid, spcacl aclitem[], spcoptions text[]", func(s *snapshot) []row {
		return []row{{OIDTablespaceDefault, "pg_default", OIDOwner, nil, nil}, {OIDTablespaceGlobal, "pg_global", OIDOwner, nil, nil}}
	}),

	pgc("pg_language", `oid oid, lanname name, lanowner oid, lanispl bool, lanpltrusted bool, lanplcallfoid oid,
		laninline oid, lanvalidator oid, lanacl aclitem[]`, func(s *snapshot) []row {
		return []row{
			{OIDLangInternal, "internal", OIDOwner, false, false, 0, 0, 0, nil},
			{OIDLangC, "c", OIDOwner, false, false, 0, 0, 0, nil},
			{OIDLangSQL, "sql", OIDOwner, false, true, 0, 0, 0, nil},
			{oidLangWasm, "wasm", OIDOwner, true, true, 0, 0, 0, nil},
		}
	}),

	pgc("pg_extension", `oid oid, extname name, extowner oid, extnamespace oid, extrelocatable bool,
		extversion text, extconfig oid[], extcondition text[]`, empty),

	pgcView("pg_tables", `schemaname name, tablename name, tableowner name, tablespace name, hasindexes bool,
		hasrules bool, hastriggers bool, rowsecurity bool`, func(s *snapshot) []row {
		var rows []row
		for _, r := range s.rels {
			if r.kind == 'r' {
				rows = append(rows, row{r.nsp, r.name, s.owner, nil, len(r.indexes) > 0, false, s.hasForeignKeys(r), false})
			}
		}
		return rows
	}),

	pgcView("pg_views", "schemaname name, viewname name, viewowner name, definition text", func(s *snapshot) []row {
		var rows []row
		for _, r := range s.rels {
			if r.kind == 'v' {
				rows = append(rows, row{r.nsp, r.name, s.owner, nullIfEmpty(r.viewDef)})
			}
		}
		return rows
	}),

	pgcView("pg_indexes", "schemaname name, tablename name, indexname name, tablespace name, indexdef text", func(s *snapshot) []row {
		var rows []row
		for _, idx := range s.indexes {
			rows = append(rows, row{idx.table.nsp, idx.table.name, idx.name, nil, indexDef(idx)})
		}
		return rows
	}),

	pgcView("pg_matviews", `schemaname name, matviewname name, matviewowner name, tablespace name, hasindexes bool,
		ispopulated bool, definition text`, empty),

	// Objects wasql does not have: always empty, with their real columns.
	pgc("pg_policy", `oid oid, polname name, polrelid oid, polcmd char, polpermissive bool, polroles oid[],
		polqual pg_node_tree, polwithcheck pg_node_tree`, empty),
	pgc("pg_statistic_ext", `oid oid, stxrelid oid, stxname name, stxnamespace oid, stxowner oid, stxstattarget int4,
		stxkeys int2vector, stxkind char[], stxexprs pg_node_tree`, empty),
	pgc("pg_publication", `oid oid, pubname name, pubowner oid, puballtables bool, pubinsert bool, pubupdate bool,
		pubdelete bool, pubtruncate bool, pubviaroot bool`, empty),
	pgc("pg_publication_namespace", "oid oid, pnpubid oid, pnnspid oid", empty),
	pgc("pg_publication_rel", "oid oid, prpubid oid, prrelid oid, prqual pg_node_tree, prattrs int2vector", empty),
	pgc("pg_trigger", `oid oid, tgrelid oid, tgparentid oid, tgname name, tgfoid oid, tgtype int2, tgenabled char,
		tgisinternal bool, tgconstrrelid oid, tgconstrindid oid, tgconstraint oid, tgdeferrable bool,
		tginitdeferred bool, tgnargs int2, tgattr int2vector, tgargs bytea, tgqual pg_node_tree, tgoldtable name,
		tgnewtable name`, empty),
	pgc("pg_inherits", "inhrelid oid, inhparent oid, inhseqno int4, inhdetachpending bool", empty),
	pgc("pg_rewrite", `oid oid, rulename name, ev_class oid, ev_type char, ev_enabled char, is_instead bool,
		ev_qual pg_node_tree, ev_action pg_node_tree`, empty),
	pgc("pg_depend", `classid oid, objid oid, objsubid int4, refclassid oid, refobjid oid, refobjsubid int4,
		deptype char`, empty),
	pgc("pg_enum", "oid oid, enumtypid oid, enumsortorder float4, enumlabel name", empty),
	pgc("pg_range", `rngtypid oid, rngsubtype oid, rngmultitypid oid, rngcollation oid, rngsubopc oid,
		rngcanonical regproc, rngsubdiff regproc`, empty),
	pgc("pg_foreign_table", "ftrelid oid, ftserver oid, ftoptions text[]", empty),
	pgc("pg_partitioned_table", `partrelid oid, partstrat char, partnatts int2, partdefid oid, partattrs int2vector,
		partclass oidvector, partcollation oidvector, partexprs pg_node_tree`, empty),
	pgc("pg_sequence", `seqrelid oid, seqtypid oid, seqstart int8, seqincrement int8, seqmax int8, seqmin int8,
		seqcache int8, seqcycle bool`, empty),
}

func (s *snapshot) hasForeignKeys(r *relation) bool {
	for _, c := range s.cons {
		if c.kind == 'f' && (c.table == r || c.ref == r) {
			return true
		}
	}
	return false
}

func (s *snapshot) databaseOID() uint32 { return hashOID(kindDatabase, s.src.Name) }

func attrdefOID(r *relation, attnum int) uint32 {
	return hashOID("attrdef", r.nsp+"."+r.name+"."+strconv.Itoa(attnum))
}

func (t *pgType) storage() byte {
	switch {
	case t.len > 0:
		return 'p'
	case t.oid == proxy.OIDNumeric:
		return 'm'
	}
	return 'x'
}

// intVector is the text form of an int2vector or oidvector: "1 2".
func intVector(ns []int) string {
	parts := make([]string, len(ns))
	for i, n := range ns {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, " ")
}

func oidVector(oids []uint32) string {
	parts := make([]string, len(oids))
	for i, n := range oids {
		parts[i] = strconv.FormatUint(uint64(n), 10)
	}
	return strings.Join(parts, " ")
}

// intArray is the text form of an int2[]: "{1,2}".
func intArray(ns []int) string { return "{" + strings.ReplaceAll(intVector(ns), " ", ",") + "}" }

func toAnys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
