package upstream

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/wasql/wasql/sqlfuncs"
)

// proxyConn connects pgx through a front end over a fresh registry.
func proxyConn(t *testing.T, opts ...func(*pgx.ConnConfig)) (*pgx.Conn, *sqlfuncs.Registry) {
	t.Helper()
	reg := testRegistry(t)
	b, err := New(Config{URL: pgURL(t, "root"), Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	return dialPgx(t, serve(t, b, false, true), "root", "", opts...), reg
}

func dialPgx(t *testing.T, addr, user, password string, opts ...func(*pgx.ConnConfig)) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig("postgres://" + user + "@" + addr + "/postgres?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	cfg.Password = password
	for _, o := range opts {
		o(cfg)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func ctx10(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// wantCode fails unless err is a PostgreSQL error with code (and a message containing msg).
func wantCode(t *testing.T, err error, code, msg string) {
	t.Helper()
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if pgErr.Code != code || !strings.Contains(pgErr.Message, msg) {
		t.Fatalf("want %s %q, got %s %q", code, msg, pgErr.Code, pgErr.Message)
	}
}

func overloads(reg *sqlfuncs.Registry, name string) int { return len(reg.Overloads(name)) }

const createTwice = `CREATE FUNCTION twice(integer) RETURNS integer LANGUAGE wasm IMMUTABLE AS `

func TestCreateDropSimpleProtocol(t *testing.T) {
	c, reg := proxyConn(t)
	ctx := ctx10(t)
	literal := `'\x` + hex.EncodeToString(twiceModule(t)) + `', 'twice_int'`
	tag, err := c.Exec(ctx, createTwice+literal)
	if err != nil || tag.String() != "CREATE FUNCTION" {
		t.Fatalf("create: %v %q", err, tag)
	}
	if overloads(reg, "twice") != 1 {
		t.Fatal("twice is not registered")
	}
	_, err = c.Exec(ctx, createTwice+literal)
	wantCode(t, err, "42723", "already exists")
	_, err = c.Exec(ctx, `CREATE OR REPLACE FUNCTION twice(integer) RETURNS integer LANGUAGE wasm AS `+literal)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Exec(ctx, `CREATE FUNCTION bad(integer) RETURNS integer LANGUAGE wasm AS '\x0061736d', 'f'`)
	wantCode(t, err, "42P13", "")
	_, err = c.Exec(ctx, `CREATE FUNCTION nomod(integer) RETURNS integer LANGUAGE wasm`)
	wantCode(t, err, "42P13", "no module")

	// A name that is only mentioned passes through; a call is planned, and here refused: this
	// registry's catalog is not in the upstream database.
	var s string
	if err := c.QueryRow(ctx, `SELECT 'twice(2)' || 1 AS twice`).Scan(&s); err != nil || s != "twice(2)1" {
		t.Fatalf("mention: %v %q", err, s)
	}
	_, err = c.Exec(ctx, `SELECT twice(2)`)
	wantCode(t, err, "0A000", "only in the database that holds wasql's catalog")
	_, err = c.Exec(ctx, `SELECT 1; SELECT abs(TWICE(2))`)
	wantCode(t, err, "0A000", "only in the database that holds wasql's catalog")
	var n int
	if err := c.QueryRow(ctx, `SELECT 41 + 1`).Scan(&n); err != nil || n != 42 {
		t.Fatalf("after a refusal: %v %d", err, n)
	}

	// Mixing wasql's statements with others.
	_, err = c.Exec(ctx, `SELECT 1; DROP FUNCTION twice`)
	wantCode(t, err, "0A000", "cannot be combined with other statements")
	_, err = c.Exec(ctx, `DROP FUNCTION twice, length(text)`)
	wantCode(t, err, "0A000", "together with other functions")
	// DROP of a PostgreSQL function of the same name, other arguments: PostgreSQL's answer.
	_, err = c.Exec(ctx, `DROP FUNCTION twice(text)`)
	wantCode(t, err, "42883", "function twice(text) does not exist")
	// A non-wasm CREATE FUNCTION is PostgreSQL's.
	if _, err := c.Exec(ctx, `CREATE FUNCTION pg_temp.plain(int) RETURNS int LANGUAGE sql AS 'SELECT $1 * 3'`); err != nil {
		t.Fatal(err)
	}
	if err := c.QueryRow(ctx, `SELECT pg_temp.plain(2)`).Scan(&n); err != nil || n != 6 {
		t.Fatalf("plain: %v %d", err, n)
	}

	tag, err = c.Exec(ctx, `DROP FUNCTION twice(integer)`)
	if err != nil || tag.String() != "DROP FUNCTION" {
		t.Fatalf("drop: %v %q", err, tag)
	}
	if overloads(reg, "twice") != 0 {
		t.Fatal("twice is still registered")
	}
	// Now twice is no wasm function: PostgreSQL answers.
	_, err = c.Exec(ctx, `DROP FUNCTION twice(integer)`)
	wantCode(t, err, "42883", "does not exist")
	if _, err := c.Exec(ctx, `DROP FUNCTION IF EXISTS twice(integer)`); err != nil {
		t.Fatal(err)
	}
}

func TestCreateWithBoundModule(t *testing.T) {
	modes := map[string]pgx.QueryExecMode{
		"cache statement": pgx.QueryExecModeCacheStatement,
		"describe exec":   pgx.QueryExecModeDescribeExec,
		"exec":            pgx.QueryExecModeExec,
		"simple protocol": pgx.QueryExecModeSimpleProtocol,
	}
	for name, mode := range modes {
		t.Run(name, func(t *testing.T) {
			c, reg := proxyConn(t, func(cfg *pgx.ConnConfig) { cfg.DefaultQueryExecMode = mode })
			ctx := ctx10(t)
			tag, err := c.Exec(ctx, createTwice+`$1, 'twice_int'`, twiceModule(t))
			if err != nil || tag.String() != "CREATE FUNCTION" {
				t.Fatalf("create: %v %q", err, tag)
			}
			if overloads(reg, "twice") != 1 {
				t.Fatal("twice is not registered")
			}
			// The module as text: hex, as psql's \bind would send it.
			_, err = c.Exec(ctx, `CREATE OR REPLACE FUNCTION twice(integer) RETURNS integer LANGUAGE wasm AS $1, 'twice_int'`,
				`\x`+hex.EncodeToString(twiceModule(t)))
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Exec(ctx, `CREATE FUNCTION bad(integer) RETURNS integer LANGUAGE wasm AS $1`, []byte("not wasm"))
			wantCode(t, err, "42P13", "")
			var n int
			if err := c.QueryRow(ctx, `SELECT $1::int * 2`, 21).Scan(&n); err != nil || n != 42 {
				t.Fatalf("after an error: %v %d", err, n)
			}
			if _, err := c.Exec(ctx, `DROP FUNCTION twice`); err != nil {
				t.Fatal(err)
			}
			if overloads(reg, "twice") != 0 {
				t.Fatal("twice is still registered")
			}
		})
	}
}

// TestInTransactionBlock: wasql's statements are refused inside a transaction block with 25001,
// and the block is then aborted as after any error: PostgreSQL itself answers 25P02.
func TestInTransactionBlock(t *testing.T) {
	c, reg := proxyConn(t)
	ctx := ctx10(t)
	literal := `'\x` + hex.EncodeToString(twiceModule(t)) + `', 'twice_int'`
	for _, bound := range []bool{false, true} {
		tx, err := c.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if bound {
			_, err = tx.Exec(ctx, createTwice+`$1, 'twice_int'`, twiceModule(t))
		} else {
			_, err = tx.Exec(ctx, createTwice+literal)
		}
		wantCode(t, err, "25001", "CREATE FUNCTION ... LANGUAGE wasm cannot run inside a transaction block")
		_, err = tx.Exec(ctx, `SELECT 1`)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "25P02" || pgErr.File == "" {
			t.Fatalf("want PostgreSQL's own 25P02, got %#v", err)
		}
		if err := tx.Rollback(ctx); err != nil {
			t.Fatal(err)
		}
		if overloads(reg, "twice") != 0 {
			t.Fatal("created inside a block")
		}
	}
	// In a pipeline after another statement: refused as PostgreSQL refuses CREATE DATABASE.
	batch := &pgx.Batch{}
	batch.Queue(`SELECT 1`)
	batch.Queue(createTwice+`$1, 'twice_int'`, twiceModule(t))
	err := c.SendBatch(ctx, batch).Close()
	wantCode(t, err, "25001", "cannot be executed within a pipeline")
	if overloads(reg, "twice") != 0 {
		t.Fatal("created inside a pipeline")
	}
	// And after all that, the session works.
	if _, err := c.Exec(ctx, createTwice+`$1, 'twice_int'`, twiceModule(t)); err != nil {
		t.Fatal(err)
	}
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tx.Exec(ctx, `DROP FUNCTION twice`)
	wantCode(t, err, "25001", "DROP FUNCTION of a wasm function cannot run inside a transaction block")
	tx.Rollback(ctx)
	if overloads(reg, "twice") != 1 {
		t.Fatal("dropped inside a block")
	}
}

// TestCallRefusedExtended: Parse of a statement calling a wasm function that cannot be planned
// (here: the catalog is not in the upstream's database, so there are no stubs to describe it
// with) fails as PostgreSQL's own Parse errors do: the pipeline skips to its Sync, the session
// goes on.
func TestCallRefusedExtended(t *testing.T) {
	c, _ := proxyConn(t)
	ctx := ctx10(t)
	if _, err := c.Exec(ctx, createTwice+`$1, 'twice_int'`, twiceModule(t)); err != nil {
		t.Fatal(err)
	}
	_, err := c.Exec(ctx, `SELECT twice($1::int)`, 2)
	wantCode(t, err, "0A000", "only in the database that holds wasql's catalog")
	batch := &pgx.Batch{}
	batch.Queue(`SELECT 1`)
	batch.Queue(`SELECT twice(2)`)
	batch.Queue(`SELECT 3`)
	err = c.SendBatch(ctx, batch).Close()
	wantCode(t, err, "0A000", "only in the database that holds wasql's catalog")
	var n int
	if err := c.QueryRow(ctx, `SELECT $1::int`, 7).Scan(&n); err != nil || n != 7 {
		t.Fatalf("after: %v %d", err, n)
	}
	// A column named like the function passes.
	if err := c.QueryRow(ctx, `SELECT twice FROM (SELECT $1::int AS twice) s`, 8).Scan(&n); err != nil || n != 8 {
		t.Fatalf("column: %v %d", err, n)
	}
}

// TestLocalAnswersFlushed: wasql's own answers come at a Flush, in order with the upstream's.
func TestLocalAnswersFlushed(t *testing.T) {
	b, err := New(Config{URL: pgURL(t, "root"), Registry: testRegistry(t)})
	if err != nil {
		t.Fatal(err)
	}
	c := dialRaw(t, serve(t, b, false, true), "root", "")
	c.send(
		&pgproto3.Parse{Name: "a", Query: "SELECT 1"},
		&pgproto3.Parse{Name: "w", Query: createTwice + "$1, 'twice_int'"},
		&pgproto3.Describe{ObjectType: 'S', Name: "w"},
		&pgproto3.Parse{Name: "b", Query: "SELECT 2"},
		&pgproto3.Flush{},
	)
	var got []string
	for len(got) < 5 {
		m := c.receive()
		got = append(got, fmt.Sprintf("%T", m))
	}
	want := "[*pgproto3.ParseComplete *pgproto3.ParseComplete *pgproto3.ParameterDescription *pgproto3.NoData *pgproto3.ParseComplete]"
	if fmt.Sprint(got) != want {
		t.Fatalf("got %v, want %s", got, want)
	}
	c.send(&pgproto3.Bind{PreparedStatement: "w", ParameterFormatCodes: []int16{1}, Parameters: [][]byte{twiceModule(t)}},
		&pgproto3.Execute{}, &pgproto3.Flush{})
	c.until(isType[*pgproto3.CommandComplete])
	if last := c.log[len(c.log)-1]; !strings.Contains(last, "CREATE FUNCTION") {
		t.Fatalf("got %s", last)
	}
	c.send(&pgproto3.Sync{})
	c.ready(1)
}
