// Package pgstore is the catalog backend of proxy mode: a catalog.Store kept in a schema named
// wasql of the upstream PostgreSQL database itself, shared by every proxy in front of it.
//
// # Schema
//
// Open creates the schema on first start and migrates it by version (schema version 3):
//
//	wasql.schema_version    one row: the layout's version
//	wasql.catalog_version   one row: a bigint, incremented by every write transaction
//	wasql.function_defs     one row per function; key (schema_name, name, arg_types)
//	                        (the table was wasql.functions before version 3)
//	wasql.modules           module bytes, once per SHA-256 (bytea key), shared by functions
//	wasql.changes           the change log: (version, kind, function as JSON), the last 1000
//	wasql.function_stats    each proxy's counters of each function (Statistics, below)
//	wasql.proxies           the proxies writing them, with a heartbeat
//	wasql.stats_generation  one row: the number of resets so far
//	wasql.stats_resets      the last 1000 resets: (generation, name)
//	wasql.functions         a view: definitions and counters, as embedded mode's table
//	wasql.raise()           raises a wasm function's error where a planned statement reaches it
//	wasql.reset_stats()     sets counters to zero in every proxy
//
// The tables are the owner's alone; the functions are everyone's to call, and wasql.functions
// is everyone's to read (the stubs already show the functions' signatures to everyone, and in
// embedded mode every user reads wasql.functions).
//
// Migrations run in order, in one transaction, under a transaction-level advisory lock, so
// proxies starting together migrate once and none sees half a schema. A schema already current
// is only read. A schema_version newer than this build is refused with ErrSchemaVersion, by
// Open and by every write (a newer proxy may migrate while an older one runs): an old proxy
// never writes a layout it does not know. The role needs CREATE on the database the
// first time, or an administrator creates the schema for it (CREATE SCHEMA wasql AUTHORIZATION
// role); it owns what it creates. Key columns are COLLATE "C", so PostgreSQL orders and compares
// names and types byte for byte, as catalog.Key.Compare does.
//
// # Writes
//
// Each Create and Drop is one transaction. Its first statement increments the catalog version,
// which locks that row until the commit: writers in every process take turns, versions are
// handed out in commit order, and two proxies replacing one function at the same moment end on
// one definition, the second replace seeing the first (versions n+1 and n+2, never two n+1).
// Created and Replaced are the database's clock_timestamp() read under that lock: one clock for
// every proxy, so a later write never carries an earlier time.
// Then come the function row (SELECT ... FOR UPDATE, then INSERT or UPDATE), its module (stored
// if absent; differing bytes under the same hash are rewritten, which repairs a damaged copy),
// the removal of a module no function uses any more, the stub (below), the change log entry, the
// log's pruning, and pg_notify('wasql_catalog', version), which PostgreSQL delivers at commit
// and drops on rollback. A lock not granted within 10 s fails the write (55P03), and a write
// transaction idle for 30 s is ended by the server, so that no proxy's trouble stalls the
// others' writes for long. A read, or a write transaction, that fails because its connection was
// lost (a failover, a restarted server) is tried once more on fresh connections; a write is not
// retried when the loss came at its commit, whose outcome is then unknown to the writer (if it
// committed, reconciliation still delivers it).
//
// # Notifications are hints; reconciliation delivers
//
// Subscribers are called by one goroutine per store, in catalog version order, for changes made
// by any store on the database: this is how a function created through one proxy becomes
// callable through every other. A dedicated connection (application_name "wasql catalog
// listener") runs LISTEN wasql_catalog. A notification only wakes the deliverer, which
// reconciles: it reads the catalog version and, if it moved past the version last delivered,
// the change log entries in between, and delivers each one as it was made. The deliverer also
// reconciles when the listening connection (re)connects, since notifications sent while it was
// down are lost, and at least every reconcile interval (WithReconcileInterval, 30 s by default)
// whatever happens; a lost notification therefore delays a change, never loses it. A store that
// fell further behind than the change log (or found it damaged, or the version going backwards,
// as after a restore) compares the function list with what its subscribers were last told and
// delivers the difference in key order: Dropped, Created, Replaced, or Dropped then Created for
// a function dropped and created again meanwhile. The listener reconnects with backoff (50 ms
// doubling to 5 s) and pings an idle connection every reconcile interval; it never holds
// anything a writer needs. Create and Drop wait, after their commit, until this store's
// subscribers have been told (at most 5 s, or until ctx ends), so a subscriber has normally seen
// a change by the time its writer returns, as with boltstore.
//
// The listening connection needs a session of its own: point the URL at PostgreSQL or at a
// pooler in session mode, never at one pooling transactions (LISTEN would be lost).
//
// # Stubs
//
// For PostgreSQL's own tools to see wasm functions, a create or replace also writes, in the same
// transaction, a function of the same signature in schema wasql:
//
//	CREATE OR REPLACE FUNCTION wasql."plus"(a bigint, b bigint) RETURNS bigint
//	  LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE COST 1
//	  AS $wasql$BEGIN RAISE EXCEPTION USING ERRCODE = '0A000',
//	  MESSAGE = E'plus(bigint, bigint) is a wasm function: call it through wasql'; END$wasql$
//
// with a COMMENT ON FUNCTION naming the module's SHA-256, size, export, owner and version; a
// drop drops it. psql's \df wasql.*, information_schema.routines, pg_dump and the BI tools that
// read pg_proc list the function, and a client that bypasses wasql gets SQLSTATE 0A000 and that
// message instead of "function does not exist". The stub copies volatility, PARALLEL and COST,
// but not STRICT: a strict stub would answer NULL for NULL arguments instead of raising. A
// replace that changes the return type or the parameter names drops and recreates the stub
// (PostgreSQL's CREATE OR REPLACE cannot change them), which fails, with PostgreSQL's error, if a
// view depends on the stub. Types are the catalog's canonical names (udf.Type's String:
// smallint, integer, bigint, real, double precision, boolean, text, bytea, json, date,
// timestamp), which PostgreSQL spells the same.
//
// Only functions whose catalog Schema is "" get a stub. A function with a schema of its own
// (CREATE FUNCTION math.f ...) is a catalog entry like any other, listed by wasql, but gets no
// stub: wasql writes only into the schema it owns, never into a user's schema, where CREATE OR
// REPLACE could overwrite a real function of the same signature. Nor does a function get a stub
// whose name is longer than PostgreSQL's identifiers (max_identifier_length; it would be
// truncated and could collide) or whose types are not canonical names. Stubs are a listing: the
// catalog tables, not pg_proc, are what proxies read.
//
// # Statistics
//
// wasql.functions has the columns of embedded mode's table (sqlfuncs.StatsColumns, in order,
// with the same names and meanings; times are timestamptz): a view, so that PostgreSQL evaluates
// whatever a query does with it (joins, WHERE, ORDER BY). Counters live in each proxy's memory;
// a Reporter (stats.go, ReportStats) writes that proxy's rows into wasql.function_stats: absolute
// values, upserted in one statement, only the rows that changed, every second (DefaultFlushInterval),
// before a statement that names wasql.functions goes upstream through that proxy (so a client
// sees its own calls at once; other proxies' lag by up to their flush interval), and once at
// shutdown, unloaded with no instances. A function that was never loaded or counted has no row.
// The view sums the rows of the proxies heard from (wasql.proxies.heartbeat, renewed at least
// every 30 s) in the last 5 minutes, for the function's current version and creation time; a
// proxy's rows expire with it, deleted by the next proxy's heartbeat. Summing: counters and
// latency buckets added (p50/p99 computed from the summed buckets, as udf.Stats does), state the
// most active (broken if any proxy says so, with its error; then loaded, idle, unloaded),
// peak_memory the largest, stats_since the earliest (or the creation, replacement or last reset
// when no proxy has counted anything).
//
// wasql.reset_stats(name text DEFAULT NULL) returns how many functions it matched (names
// compared case-insensitively; all when NULL), zeroes their rows, increments
// wasql.stats_generation, logs the reset and notifies StatsChannel; each proxy's store LISTENs
// on it on the catalog's listening connection, and its Reporter resets its own counters. A
// Reporter's write holds the generation's row FOR SHARE and writes nothing unless it has applied
// every reset up to the current generation (otherwise it applies them from wasql.stats_resets,
// reads its counters again and writes those), so no proxy brings back counters a reset cleared,
// even when its notification was lost. reset_stats runs as the owner (SECURITY DEFINER): anyone
// may call it, as in embedded mode. A wasm function named reset_stats gets no stub.
//
// # Corruption
//
// Module bytes are verified against their SHA-256 on every read, and function rows and change
// log entries are validated as they are decoded; a mismatch is catalog.ErrCorrupt, never a
// silently skipped row.
package pgstore
