package pgstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// migrations[i] takes the wasql schema from version i to version i+1. A migration, once
// released, is never edited: a change to the layout is a new entry.
var migrations = [...]string{
	// 1: functions, modules, the catalog version and the change log.
	`CREATE TABLE wasql.schema_version (
	id      boolean PRIMARY KEY DEFAULT true CHECK (id),
	version integer NOT NULL
);
INSERT INTO wasql.schema_version (version) VALUES (0);
CREATE TABLE wasql.catalog_version (
	id      boolean PRIMARY KEY DEFAULT true CHECK (id),
	version bigint NOT NULL
);
INSERT INTO wasql.catalog_version (version) VALUES (0);
CREATE TABLE wasql.modules (
	hash  bytea PRIMARY KEY CHECK (length(hash) = 32),
	bytes bytea NOT NULL
);
CREATE TABLE wasql.functions (
	schema_name     text   COLLATE "C" NOT NULL,
	name            text   COLLATE "C" NOT NULL,
	arg_types       text[] COLLATE "C" NOT NULL,
	arg_names       text[] NOT NULL,
	return_type     text   NOT NULL,
	volatility      text   NOT NULL,
	strict          boolean NOT NULL,
	parallel        text   NOT NULL,
	cost            double precision NOT NULL,
	export          text   NOT NULL,
	options         jsonb  NOT NULL,
	module_hash     bytea  NOT NULL REFERENCES wasql.modules (hash),
	module_size     bigint NOT NULL,
	owner           text   NOT NULL,
	version         bigint NOT NULL,
	created         timestamptz NOT NULL,
	replaced        timestamptz,
	catalog_version bigint NOT NULL,
	PRIMARY KEY (schema_name, name, arg_types)
);
CREATE INDEX functions_module_hash ON wasql.functions (module_hash);
CREATE TABLE wasql.changes (
	version  bigint PRIMARY KEY,
	kind     text NOT NULL CHECK (kind IN ('created', 'replaced', 'dropped')),
	function jsonb NOT NULL,
	at       timestamptz NOT NULL DEFAULT now()
);
COMMENT ON SCHEMA wasql IS 'wasql: the catalog of wasm functions, and stubs that make them visible to PostgreSQL''s tools';`,
	// 2: wasql.raise, with which a statement planned by the proxy raises a wasm function's error
	// for the rows that reach it; the schema's functions are everyone's to call (the stubs and
	// raise), its tables stay private.
	`CREATE FUNCTION wasql.raise(code text, message text, detail text, result anyelement) RETURNS anyelement
	LANGUAGE plpgsql VOLATILE PARALLEL SAFE AS $$
BEGIN
	IF detail IS NULL OR detail = '' THEN
		RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message;
	END IF;
	RAISE EXCEPTION USING ERRCODE = code, MESSAGE = message, DETAIL = detail;
END $$;
COMMENT ON FUNCTION wasql.raise(text, text, text, anyelement) IS 'wasql: raises a wasm function''s error where a statement planned by the proxy reaches it';
GRANT USAGE ON SCHEMA wasql TO PUBLIC;`,
	// 3: the statistics. The catalog table becomes wasql.function_defs; each proxy writes its
	// counters into wasql.function_stats (its liveness into wasql.proxies); wasql.functions is the
	// view of definitions and counters summed over the live proxies, readable by everyone, in the
	// columns of embedded mode's table; wasql.reset_stats() sets the counters to zero everywhere.
	migration3,
}

const migration3 = `ALTER TABLE wasql.functions RENAME TO function_defs;
ALTER TABLE wasql.function_defs RENAME CONSTRAINT functions_pkey TO function_defs_pkey;
ALTER TABLE wasql.function_defs RENAME CONSTRAINT functions_module_hash_fkey TO function_defs_module_hash_fkey;
ALTER INDEX wasql.functions_module_hash RENAME TO function_defs_module_hash;
COMMENT ON TABLE wasql.function_defs IS 'wasql: the catalog, one row per wasm function (overload)';

CREATE TABLE wasql.proxies (
	id        text PRIMARY KEY,
	host      text NOT NULL,
	pid       integer NOT NULL,
	started   timestamptz NOT NULL,
	heartbeat timestamptz NOT NULL
);
COMMENT ON TABLE wasql.proxies IS 'wasql: the proxies writing statistics; the counters of one silent for 5 minutes no longer count';

CREATE TABLE wasql.function_stats (
	proxy          text NOT NULL,
	schema_name    text   COLLATE "C" NOT NULL,
	name           text   COLLATE "C" NOT NULL,
	arg_types      text[] COLLATE "C" NOT NULL,
	version        bigint NOT NULL,
	created        timestamptz NOT NULL,
	state          text NOT NULL,
	error          text,
	instances      bigint NOT NULL,
	evals          bigint NOT NULL,
	rows           bigint NOT NULL,
	batches        bigint NOT NULL,
	errors         bigint NOT NULL,
	errors_by_kind jsonb NOT NULL,
	total_ms       double precision NOT NULL,
	buckets        bigint[] NOT NULL,
	fuel           bigint NOT NULL,
	peak_memory    bigint NOT NULL,
	loads          bigint NOT NULL,
	since          timestamptz NOT NULL,
	updated        timestamptz NOT NULL,
	PRIMARY KEY (schema_name, name, arg_types, proxy)
);
CREATE INDEX function_stats_proxy ON wasql.function_stats (proxy);
COMMENT ON TABLE wasql.function_stats IS 'wasql: each proxy''s counters of each function (absolute, since its load or last reset), for the definition of that version and creation time';

-- The generation of resets: a proxy's write of its counters holds this row FOR SHARE and writes
-- nothing if a reset came since the proxy applied the last one it knows, so a write never brings
-- back counters a reset set to zero.
CREATE TABLE wasql.stats_generation (
	id         boolean PRIMARY KEY DEFAULT true CHECK (id),
	generation bigint NOT NULL
);
INSERT INTO wasql.stats_generation (generation) VALUES (0);
-- The last 1000 resets: what a proxy that missed their notification applies, and (in the view)
-- the start of the counters of a function no proxy has counted since.
CREATE TABLE wasql.stats_resets (
	generation bigint PRIMARY KEY,
	name       text,
	at         timestamptz NOT NULL DEFAULT now()
);

-- wasql.functions: the columns of embedded mode's table (sqlfuncs.StatsColumns), in its order.
-- The counters are those of the proxies heard from in the last 5 minutes, summed, for the
-- definition of this version and creation time; state is the most active of theirs (broken if
-- one is, with its error, then loaded, idle, unloaded); peak_memory the largest; p50/p99 are
-- computed as udf.Stats computes them, over the summed latency buckets (1us, 2us, ... 2^24us, and
-- the rest): the upper bound of the bucket holding that percentile. JSON objects are written as
-- Go's encoding/json writes a map (keys sorted, no spaces). The limits are the WITH options over
-- udf.DefaultLimits (timeout 1 s, memory 64MB, no fuel), keys in any case, the last in byte order
-- winning, as udf.Definition.SetOption reads them; they were checked at CREATE, and a unit of time
-- other than ns, ms, s, m and h is one of Go's spellings of microseconds. No helper function: the
-- schema's functions are what PostgreSQL's tools list as wasm functions. A WHERE on the key
-- columns reaches wasql.function_stats' primary key through each join.
CREATE VIEW wasql.functions AS
SELECT d.schema_name, d.name, array_to_string(d.arg_types, ', ') AS arg_types, d.return_type,
	d.name || '(' || array_to_string(d.arg_types, ', ') || ') RETURNS ' || d.return_type AS signature,
	d.volatility, d.strict, d.parallel, encode(d.module_hash, 'hex') AS module_hash, d.module_size,
	o.timeout_ms, o.memory_limit, o.fuel_limit,
	o.options, d.owner, d.version, d.created, d.replaced,
	coalesce((ARRAY['unloaded', 'idle', 'loaded', 'broken'])[s.state], 'unloaded') AS state, s.error,
	coalesce(s.instances, 0) AS instances, coalesce(s.evals, 0) AS calls, coalesce(s.rows, 0) AS rows_evaluated,
	coalesce(s.batches, 0) AS batches, coalesce(s.errors, 0) AS errors, coalesce(s.kinds, '{}') AS errors_by_kind,
	coalesce(s.total_ms, 0) AS total_ms, coalesce(s.p50_ms, 0) AS p50_ms, coalesce(s.p99_ms, 0) AS p99_ms,
	coalesce(s.fuel, 0) AS fuel, coalesce(s.peak_memory, 0) AS peak_memory, coalesce(s.loads, 0) AS loads,
	coalesce(s.since, greatest(coalesce(d.replaced, d.created), r.at, (SELECT max(at) FROM wasql.stats_resets WHERE name IS NULL))) AS stats_since
FROM wasql.function_defs d
LEFT JOIN (SELECT lower(name) AS name, max(at) AS at FROM wasql.stats_resets WHERE name IS NOT NULL GROUP BY lower(name)) r ON r.name = lower(d.name)
-- Computed once per distinct options (PostgreSQL memoizes the lateral).
CROSS JOIN LATERAL (
	SELECT v.options,
		coalesce((SELECT sum(m[1]::numeric * CASE m[2] WHEN 'ns' THEN 0.000001 WHEN 'ms' THEN 1 WHEN 's' THEN 1000
				WHEN 'm' THEN 60000 WHEN 'h' THEN 3600000 ELSE 0.001 END)
			FROM regexp_matches(v.timeout, '([0-9]*[.]?[0-9]+|[0-9]+[.])([^0-9.]+)', 'g') AS m)::double precision, 1000) AS timeout_ms,
		coalesce((SELECT trunc(m[1]::numeric * CASE lower(m[2]) WHEN '' THEN 1 WHEN 'b' THEN 1
				WHEN 'k' THEN 1024 WHEN 'kb' THEN 1024 WHEN 'kib' THEN 1024 WHEN 'm' THEN 1048576 WHEN 'mb' THEN 1048576 WHEN 'mib' THEN 1048576
				WHEN 'g' THEN 1073741824 WHEN 'gb' THEN 1073741824 WHEN 'gib' THEN 1073741824 END)::bigint
			FROM regexp_match(v.memory, '^([0-9]*[.]?[0-9]+|[0-9]+[.])[[:space:]]*([A-Za-z]*)$') AS m), 67108864) AS memory_limit,
		CASE WHEN v.fuel ~ '^[0-9_]*[0-9][0-9_]*$' THEN least(replace(v.fuel, '_', '')::numeric, 9223372036854775807)::bigint ELSE 0 END AS fuel_limit
	FROM (
		SELECT coalesce('{' || string_agg(to_json(e.key)::text || ':' || to_json(e.value)::text, ',' ORDER BY e.key COLLATE "C") || '}', '{}') AS options,
			(array_agg(btrim(e.value) ORDER BY e.key COLLATE "C" DESC) FILTER (WHERE lower(e.key) = 'timeout'))[1] AS timeout,
			(array_agg(btrim(e.value) ORDER BY e.key COLLATE "C" DESC) FILTER (WHERE lower(e.key) = 'memory'))[1] AS memory,
			(array_agg(btrim(e.value) ORDER BY e.key COLLATE "C" DESC) FILTER (WHERE lower(e.key) = 'fuel'))[1] AS fuel
		FROM jsonb_each_text(d.options) AS e
	) v
) o
LEFT JOIN (
	-- DISTINCT ON (one row a key already): so PostgreSQL sees the join can drop no row, and
	-- leaves the statistics out of a query that reads none of them.
	SELECT DISTINCT ON (g.schema_name, g.name, g.arg_types, g.version, g.created)
		g.schema_name, g.name, g.arg_types, g.version, g.created, g.state, g.error, g.instances, g.evals, g.rows,
		g.batches, g.errors, g.total_ms, g.fuel, g.peak_memory, g.loads, g.since, q.p50_ms, q.p99_ms, k.kinds
	FROM (
		SELECT f.schema_name, f.name, f.arg_types, f.version, f.created,
			max(CASE f.state WHEN 'broken' THEN 4 WHEN 'loaded' THEN 3 WHEN 'idle' THEN 2 ELSE 1 END) AS state,
			min(f.error) FILTER (WHERE f.state = 'broken') AS error,
			sum(f.instances)::bigint AS instances, sum(f.evals)::bigint AS evals, sum(f.rows)::bigint AS rows,
			sum(f.batches)::bigint AS batches, sum(f.errors)::bigint AS errors, sum(f.total_ms) AS total_ms,
			sum(f.fuel)::bigint AS fuel, max(f.peak_memory) AS peak_memory, sum(f.loads)::bigint AS loads, min(f.since) AS since,
			-- udf.Stats' 26 buckets, summed position by position
			ARRAY[sum(f.buckets[1]), sum(f.buckets[2]), sum(f.buckets[3]), sum(f.buckets[4]), sum(f.buckets[5]), sum(f.buckets[6]), sum(f.buckets[7]), sum(f.buckets[8]), sum(f.buckets[9]), sum(f.buckets[10]), sum(f.buckets[11]), sum(f.buckets[12]), sum(f.buckets[13]), sum(f.buckets[14]), sum(f.buckets[15]), sum(f.buckets[16]), sum(f.buckets[17]), sum(f.buckets[18]), sum(f.buckets[19]), sum(f.buckets[20]), sum(f.buckets[21]), sum(f.buckets[22]), sum(f.buckets[23]), sum(f.buckets[24]), sum(f.buckets[25]), sum(f.buckets[26])] AS buckets,
			jsonb_agg(f.errors_by_kind) FILTER (WHERE f.errors <> 0) AS kind_objects
		FROM wasql.function_stats f JOIN wasql.proxies p ON p.id = f.proxy AND p.heartbeat > now() - interval '5 minutes'
		GROUP BY f.schema_name, f.name, f.arg_types, f.version, f.created
	) g
	CROSS JOIN LATERAL (
		SELECT min(x.bound) FILTER (WHERE x.seen >= div(x.total * 50 + 99, 100)) AS p50_ms,
			min(x.bound) FILTER (WHERE x.seen >= div(x.total * 99 + 99, 100)) AS p99_ms
		FROM (
			SELECT (power(2, least(b.i - 1, 24)) / 1000)::double precision AS bound, sum(b.n) OVER (ORDER BY b.i) AS seen, sum(b.n) OVER () AS total
			FROM unnest(g.buckets) WITH ORDINALITY AS b(n, i) WHERE g.batches > 0
		) x
		WHERE x.total > 0
	) q
	CROSS JOIN LATERAL (
		SELECT '{' || string_agg(to_json(x.kind)::text || ':' || x.n, ',' ORDER BY x.kind COLLATE "C") || '}' AS kinds
		FROM (
			SELECT e.key AS kind, sum(e.value::numeric) AS n
			FROM jsonb_array_elements(g.kind_objects) AS o, jsonb_each_text(o) AS e
			GROUP BY e.key
		) x
		WHERE x.n <> 0
	) k
) s ON s.schema_name = d.schema_name AND s.name = d.name AND s.arg_types = d.arg_types AND s.version = d.version AND s.created = d.created;
COMMENT ON VIEW wasql.functions IS 'wasql: every wasm function with its definition, state and counters, summed over the proxies (each writes its own about every second)';
GRANT SELECT ON wasql.functions TO PUBLIC;

-- wasql.reset_stats(): the counters of the functions named name (all when NULL) set to zero, in
-- every proxy (told by NOTIFY wasql_stats, or at their next write by the generation) and in
-- wasql.function_stats; the number of functions it matched. Callable by everyone, as in
-- embedded mode; it runs as the catalog's owner.
-- The stub of a wasm function named reset_stats (possible before version 3) gives way: such a
-- function gets no stub from now on (stub.go, reservedStubs).
DROP FUNCTION IF EXISTS wasql.reset_stats();
DROP FUNCTION IF EXISTS wasql.reset_stats(text);
CREATE FUNCTION wasql.reset_stats(name text DEFAULT NULL) RETURNS bigint
	LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	g bigint;
	n bigint;
BEGIN
	UPDATE wasql.stats_generation SET generation = generation + 1 RETURNING generation INTO g;
	INSERT INTO wasql.stats_resets (generation, name) VALUES (g, reset_stats.name);
	DELETE FROM wasql.stats_resets WHERE generation <= g - 1000;
	SELECT count(*) INTO n FROM wasql.function_defs d WHERE reset_stats.name IS NULL OR lower(d.name) = lower(reset_stats.name);
	UPDATE wasql.function_stats f SET evals = 0, rows = 0, batches = 0, errors = 0, errors_by_kind = '{}', total_ms = 0,
		buckets = array_fill(0::bigint, ARRAY[cardinality(f.buckets)]), fuel = 0, peak_memory = 0, loads = 0, since = now(), updated = now()
		WHERE reset_stats.name IS NULL OR lower(f.name) = lower(reset_stats.name);
	PERFORM pg_notify('wasql_stats', g::text);
	RETURN n;
END $$;
COMMENT ON FUNCTION wasql.reset_stats(text) IS 'wasql: sets the counters of the wasm functions named name (all when NULL) to zero in every proxy; returns how many functions it matched';`

// SchemaVersion is the version of the wasql schema this build creates and reads.
const SchemaVersion = len(migrations)

// migrateLock is the key of the transaction-level advisory lock that serializes migrations of
// one database: "wasqlmig" in ASCII.
const migrateLock int64 = 0x7761_7371_6c6d_6967

// migrate brings the wasql schema to SchemaVersion in one transaction, under migrateLock, so
// that proxies starting together migrate once. A schema already current is only read: no DDL,
// no write. A schema newer than this build is ErrSchemaVersion.
func migrate(ctx context.Context, pool *pgxpool.Pool) error {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrateLock); err != nil {
		return fmt.Errorf("lock for migration: %w", err)
	}
	version, err := schemaVersion(ctx, tx)
	if err != nil {
		return err
	}
	switch {
	case version > SchemaVersion:
		return fmt.Errorf("%w: %s.schema_version is %d, this build knows versions up to %d: run a newer wasql", ErrSchemaVersion, Schema, version, SchemaVersion)
	case version == SchemaVersion:
		return tx.Commit(ctx)
	case version < 0:
		return fmt.Errorf("%w: %s.schema_version is %d", ErrSchemaVersion, Schema, version)
	}
	if version == 0 {
		// CREATE SCHEMA IF NOT EXISTS would need CREATE on the database even when the schema
		// exists: a role given a schema made for it by an administrator needs no more.
		var exists bool
		if err := tx.QueryRow(ctx, "SELECT to_regnamespace($1) IS NOT NULL", Schema).Scan(&exists); err != nil {
			return fmt.Errorf("look for schema %s: %w", Schema, err)
		}
		if !exists {
			if _, err := tx.Exec(ctx, "CREATE SCHEMA "+Schema); err != nil {
				return fmt.Errorf("create schema %s: %w", Schema, err)
			}
		}
	}
	for v := version; v < SchemaVersion; v++ {
		if _, err := tx.Exec(ctx, migrations[v]); err != nil {
			return fmt.Errorf("migrate %s schema to version %d: %w", Schema, v+1, err)
		}
	}
	if _, err := tx.Exec(ctx, "UPDATE wasql.schema_version SET version = $1", SchemaVersion); err != nil {
		return fmt.Errorf("record %s schema version: %w", Schema, err)
	}
	return tx.Commit(ctx)
}

// schemaVersion reads the version of the wasql schema: 0 when it has no schema_version table.
func schemaVersion(ctx context.Context, tx pgx.Tx) (int, error) {
	var exists bool
	if err := tx.QueryRow(ctx, "SELECT to_regclass('wasql.schema_version') IS NOT NULL").Scan(&exists); err != nil {
		return 0, fmt.Errorf("read %s schema version: %w", Schema, err)
	}
	if !exists {
		return 0, nil
	}
	var version int
	err := tx.QueryRow(ctx, "SELECT version FROM wasql.schema_version").Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("%w: %s.schema_version has no row", ErrSchemaVersion, Schema)
	}
	if err != nil {
		return 0, fmt.Errorf("read %s schema version: %w", Schema, err)
	}
	return version, nil
}
