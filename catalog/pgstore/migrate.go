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
}

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
