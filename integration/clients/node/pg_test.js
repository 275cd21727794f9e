#!/usr/bin/env node
// node-postgres (pg) against wasql's Postgres wire.
//
// Run by integration/pgclients_test.go; by hand:
//
//   (cd integration/clients/node && npm ci)
//   PGHOST=127.0.0.1 PGPORT=5433 PGUSER=root PGDATABASE=wasql node integration/clients/node/pg_test.js
//
// Each check prints "ok - NAME" or "FAIL - NAME: why"; the script exits 1 when any check failed.
// node-postgres sends a query with values over the extended protocol (Parse/Bind/Describe/
// Execute/Sync, parameter types left to the server), a Buffer as a binary-format parameter;
// without values it uses the simple protocol.
'use strict';

const fs = require('fs');
const path = require('path');

let pg;
try {
  pg = require('pg');
} catch (e) {
  console.log(`FAIL - import: ${e.message} (cd integration/clients/node && npm ci)`);
  process.exit(2);
}

const REPO = path.resolve(__dirname, '..', '..', '..');
const UID = `${process.pid}_${Date.now() % 1000000}`;
const TABLE = `node_t_${UID}`;
const PLUS = `node_plus_${UID}`;
const SLUGIFY = `node_slugify_${UID}`;

const passed = [];
const failed = [];

function module(p) {
  return fs.readFileSync(path.join(REPO, p));
}

function expect(got, want, what) {
  const g = JSON.stringify(got);
  const w = JSON.stringify(want);
  if (g !== w) throw new Error(`${what}: got ${g}, want ${w}`);
}

async function check(name, fn) {
  try {
    await fn();
  } catch (e) {
    let detail = `${e.name}: ${String(e.message).trim().replace(/\n/g, ' | ')}`;
    if (e.code) detail += ` (SQLSTATE ${e.code})`;
    console.log(`FAIL - ${name}: ${detail}`);
    if (process.env.WASQL_CLIENT_TRACE) console.log(e.stack);
    failed.push(name);
    return false;
  }
  console.log(`ok - ${name}`);
  passed.push(name);
  return true;
}

function rows(res) {
  return res.rows.map((r) => r.map((v) => (typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v)));
}

async function main() {
  const client = new pg.Client({
    host: process.env.PGHOST || '127.0.0.1',
    port: Number(process.env.PGPORT || 5433),
    user: process.env.PGUSER || 'root',
    database: process.env.PGDATABASE || 'wasql',
    password: process.env.PGPASSWORD,
    connectionTimeoutMillis: 10000,
  });
  client.on('error', (e) => console.log(`# client error event: ${e.message}`));
  // rowMode array; bigint (int8) comes back as a string in node-postgres
  const q = (text, values) => client.query({ text, values, rowMode: 'array' });

  if (!(await check('connect', () => client.connect()))) return;

  await check('create_table', () => q(`CREATE TABLE ${TABLE} (id bigint primary key, a bigint, b bigint, s text)`));

  const created = await check('create_plus_bytea_param', () =>
    q(`CREATE FUNCTION ${PLUS}(a bigint, b bigint) RETURNS bigint LANGUAGE wasm AS $1, 'add'`,
      [module('udf/testdata/numeric.wasm')]));
  if (!created) {
    await check('create_plus_literal', () =>
      q(`CREATE FUNCTION ${PLUS}(a bigint, b bigint) RETURNS bigint LANGUAGE wasm AS '\\x${module('udf/testdata/numeric.wasm').toString('hex')}', 'add'`));
  }
  // base64 in the string literal (simple protocol: no values)
  await check('create_slugify', () =>
    q(`CREATE FUNCTION ${SLUGIFY}(text) RETURNS text LANGUAGE wasm AS '${module('udf/testdata/guests/c_funcs.wasm').toString('base64')}', 'slugify'`));

  await check('insert_params', async () => {
    for (const r of [[1, 1, 2, 'Hello, World!'], [2, 40, 2, 'WebAssembly in SQL'], [3, null, 1, null]]) {
      const res = await q(`INSERT INTO ${TABLE} (id, a, b, s) VALUES ($1, $2, $3, $4)`, r);
      expect(res.rowCount, 1, 'rowCount');
    }
    expect(rows(await q(`SELECT count(*) FROM ${TABLE}`)), [[3]], 'count(*)');
  });

  await check('select_params', async () => {
    expect(rows(await q(`SELECT id, ${PLUS}(a, b), ${SLUGIFY}(s) FROM ${TABLE} WHERE id >= $1 AND id <= $2 ORDER BY id`, [1, 3])),
      [[1, 3, 'hello-world'], [2, 42, 'webassembly-in-sql'], [3, null, null]], 'rows');
    expect(rows(await q(`SELECT id FROM ${TABLE} WHERE ${PLUS}(a, b) = $1 AND ${SLUGIFY}(s) = $2`, [42, 'webassembly-in-sql'])),
      [[2]], 'rows where plus(a, b) = 42');
  });

  await check('wasm_arg_params', async () => {
    // parameters as the arguments of wasm functions
    expect(rows(await q(`SELECT ${PLUS}($1, $2)`, [40, 2])), [[42]], 'plus of two parameters');
    expect(rows(await q(`SELECT ${SLUGIFY}($1)`, ['Ünïcode  Text!'])), [['n-code-text']], 'slugify of a UTF-8 parameter');
    expect(rows(await q(`SELECT ${PLUS}(a, $1) FROM ${TABLE} WHERE id = $2`, [100, 2])), [[140]], 'plus(a, parameter)');
  });

  await check('aggregate', async () => {
    const res = await q(`SELECT sum(${PLUS}(a, b)), count(*) FROM ${TABLE} WHERE ${PLUS}(a, b) > $1`, [0]);
    expect(res.rows.map((r) => r.map(Number)), [[45, 2]], 'sum(plus(a, b)), count(*)');
  });

  await check('prepared_repeat', async () => {
    // a named statement: parsed once, then Bind/Execute only
    const want = { 1: [1, 3, 'hello-world'], 2: [2, 42, 'webassembly-in-sql'], 3: [3, null, null] };
    for (let i = 0; i < 9; i++) {
      const id = (i % 3) + 1;
      const res = await client.query({
        name: `rep_${UID}`,
        text: `SELECT id, ${PLUS}(a, b), ${SLUGIFY}(s) FROM ${TABLE} WHERE id = $1`,
        values: [id],
        rowMode: 'array',
      });
      expect(rows(res), [want[id]], `execution ${i + 1}`);
    }
  });

  await check('unknown_function_sqlstate', async () => {
    let err = null;
    try {
      await q(`SELECT no_such_function_${UID}($1)`, [1]);
    } catch (e) {
      err = e;
    }
    if (!err) throw new Error('no error for an unknown function');
    if (!err.code) throw new Error(`error without SQLSTATE: ${err.message}`);
    if (err.code === 'XX000') throw new Error(`unknown function gave SQLSTATE XX000 (internal error): ${err.message}`);
    console.log(`# unknown function: SQLSTATE ${err.code}: ${err.message}`);
  });

  await check('after_error', async () => {
    expect(rows(await q(`SELECT ${PLUS}(a, b) FROM ${TABLE} WHERE id = $1`, [2])), [[42]], 'a query after the error');
    expect(rows(await q('SELECT 1')), [[1]], 'a simple query after the error');
  });

  await typeChecks(q);

  await client.end();
}

// typeChecks: node-postgres sends every value as an untyped text parameter (a JS boolean as
// 'true', a Date as '2024-05-02T00:00:00.000+00:00'), a Buffer as binary bytea.
async function typeChecks(q) {
  const T = `node_types_${UID}`;
  await check('types_create', () =>
    q(`CREATE TABLE ${T} (id int PRIMARY KEY, paid boolean, data bytea, price numeric(10,2), at timestamptz)`));
  await check('types_insert_untyped', async () => {
    await q(`INSERT INTO ${T} VALUES ($1, $2, $3, $4, $5)`, [1, true, '\\xdeadbeef', '9.50', new Date(Date.UTC(2024, 4, 2))]);
    await q(`INSERT INTO ${T} VALUES ($1, $2, $3, $4, $5)`, [2, 'false', Buffer.from([1, 2, 255]), 1.25, '2024-05-02 00:00:00+02']);
    await q(`INSERT INTO ${T} VALUES ($1, $2, $3, $4, $5)`, [3, 'YES', 'abc', 0, '2024-05-02T10:00:00Z']);
  });
  await check('types_boolean_param', async () => {
    expect(rows(await q(`SELECT id FROM ${T} WHERE paid = $1 ORDER BY id`, [true])), [[1], [3]], 'paid = true');
    expect(rows(await q(`SELECT id FROM ${T} WHERE paid = $1 ORDER BY id`, ['f'])), [[2]], "paid = 'f'");
    expect((await q(`SELECT paid FROM ${T} ORDER BY id`)).rows, [[true], [false], [true]], 'paid as booleans');
  });
  await check('types_bytea', async () => {
    const res = await q(`SELECT data, length(data) FROM ${T} ORDER BY id`);
    expect(res.rows.map((r) => [r[0].toString('hex'), r[1]]), [['deadbeef', 4], ['0102ff', 3], ['616263', 3]], 'bytea values');
  });
  await check('types_numeric_scale', async () => {
    const res = await q(`SELECT price, sum(price) OVER (), 9.50 FROM ${T} ORDER BY id`);
    expect(res.rows, [['9.50', '10.75', '9.50'], ['1.25', '10.75', '9.50'], ['0.00', '10.75', '9.50']], 'numeric text');
    expect(res.fields.map((f) => f.dataTypeID), [1700, 1700, 1700], 'numeric type OIDs');
    expect((await q(`SELECT sum(price), avg(price) FROM ${T}`)).rows, [['10.75', '3.5833333333333333']], 'sum and avg');
  });
  await check('types_timestamptz', async () => {
    const res = await q(`SELECT at FROM ${T} ORDER BY id`);
    expect(res.rows.map((r) => r[0].toISOString()),
      ['2024-05-02T00:00:00.000Z', '2024-05-01T22:00:00.000Z', '2024-05-02T10:00:00.000Z'], 'timestamptz instants');
    expect(rows(await q(`SELECT id FROM ${T} WHERE at = $1`, [new Date(Date.UTC(2024, 4, 1, 22))])), [[2]], 'at = Date');
  });
}

main()
  .catch((e) => {
    console.log(`FAIL - unexpected: ${e.stack}`);
    failed.push('unexpected');
  })
  .finally(() => {
    console.log(`${passed.length} passed, ${failed.length} failed`);
    process.exit(failed.length ? 1 : 0);
  });
