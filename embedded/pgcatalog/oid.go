package pgcatalog

import "hash/fnv"

// Fixed OIDs: the ones Postgres itself uses, so that clients with built-in OIDs (pgjdbc, pgx,
// npgsql) and queries like 'pg_class'::regclass agree with the catalog.
const (
	OIDNamespacePGCatalog  uint32 = 11
	OIDNamespacePublic     uint32 = 2200
	OIDNamespaceInfoSchema uint32 = 13000 // varies between Postgres installations

	OIDOwner         uint32 = 10   // the bootstrap superuser, owner of every object
	OIDDatabaseOwner uint32 = 6171 // pg_database_owner, owner of schema public since Postgres 15

	OIDCollationDefault uint32 = 100
	OIDCollationC       uint32 = 950
	OIDCollationPOSIX   uint32 = 951

	OIDAmHeap  uint32 = 2
	OIDAmBtree uint32 = 403
	OIDAmHash  uint32 = 405

	OIDTablespaceDefault uint32 = 1663
	OIDTablespaceGlobal  uint32 = 1664

	OIDLangInternal uint32 = 12
	OIDLangC        uint32 = 13
	OIDLangSQL      uint32 = 14

	encodingUTF8 = 6
)

// Kinds qualify the names that user OIDs are hashed from: a table and an index of the same name
// get different OIDs.
const (
	kindRelation   = "relation"   // tables, views and catalog relations: relation:schema.name
	kindIndex      = "index"      // index:schema.table.index (GMS index names are per table)
	kindConstraint = "constraint" // constraint:schema.table.name
	kindFunction   = "function"   // function:schema.name(argtypes)
	kindRole       = "role"       // role:name
	kindDatabase   = "database"   // database:name
	kindLanguage   = "language"   // language:name
)

// catalogRelOIDs are the real OIDs of the catalog relations that have fixed ones in Postgres 15.
var catalogRelOIDs = map[string]uint32{
	"pg_tablespace": 1213, "pg_type": 1247, "pg_attribute": 1249, "pg_proc": 1255, "pg_class": 1259,
	"pg_authid": 1260, "pg_auth_members": 1261, "pg_database": 1262, "pg_shdescription": 2396,
	"pg_am": 2601, "pg_attrdef": 2604, "pg_constraint": 2606, "pg_depend": 2608, "pg_description": 2609,
	"pg_index": 2610, "pg_inherits": 2611, "pg_language": 2612, "pg_namespace": 2615, "pg_rewrite": 2618,
	"pg_trigger": 2620, "pg_sequence": 2224, "pg_extension": 3079, "pg_foreign_table": 3118,
	"pg_policy": 3256, "pg_partitioned_table": 3350, "pg_statistic_ext": 3381, "pg_collation": 3456,
	"pg_enum": 3501, "pg_range": 3541, "pg_publication": 6104, "pg_publication_rel": 6106,
	"pg_publication_namespace": 6237,
}

// firstUserOID is where Postgres starts numbering user objects (FirstNormalObjectId).
const firstUserOID = 16384

// hashOID is the OID of an object without a fixed one: the FNV-32a hash of its kind-qualified
// name, mapped into [16384, 2^31) as CockroachDB does. It is stable across restarts and
// sessions; two names may collide, with a chance of about n²/2^32 for n objects.
func hashOID(kind, name string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(kind))
	h.Write([]byte{':'})
	h.Write([]byte(name))
	return firstUserOID + h.Sum32()%(1<<31-firstUserOID)
}

// relationOID is the OID of the relation name in namespace nsp (a catalog table keeps its
// Postgres OID).
func relationOID(nsp, name string) uint32 {
	if nsp == "pg_catalog" {
		if oid, ok := catalogRelOIDs[name]; ok {
			return oid
		}
	}
	return hashOID(kindRelation, nsp+"."+name)
}

func indexOID(nsp, table, index string) uint32 {
	return hashOID(kindIndex, nsp+"."+table+"."+index)
}

func constraintOID(nsp, table, name string) uint32 {
	return hashOID(kindConstraint, nsp+"."+table+"."+name)
}

// roleOID is the OID of a role: the owner is 10, as in Postgres; other roles are hashed.
func (s *snapshot) roleOID(name string) uint32 {
	switch name {
	case s.owner:
		return OIDOwner
	case "pg_database_owner":
		return OIDDatabaseOwner
	}
	return hashOID(kindRole, name)
}

// namespaceOID is the OID of one of the three schemas, 0 for another name.
func namespaceOID(name string) uint32 {
	switch name {
	case "pg_catalog":
		return OIDNamespacePGCatalog
	case "public":
		return OIDNamespacePublic
	case "information_schema":
		return OIDNamespaceInfoSchema
	}
	return 0
}

// DefaultOwner names the role that owns every object (Postgres's bootstrap superuser, OID 10)
// when there are no users and no session: otherwise it is the first user, or the session's.
const DefaultOwner = "wasql"
