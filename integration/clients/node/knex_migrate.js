// A knex migration (createTable with keys and indexes, alterTable, raw SQL, a second migration,
// a rollback and latest again) against the database of PGHOST/PGPORT/PGUSER/PGPASSWORD/
// PGDATABASE. Run by integration/proxy_clients_test.go through wasql's proxy on one database and
// against PostgreSQL directly on another; the test then compares the two schemas. Prints what
// knex reports, one line per step.
'use strict';
const knex = require('knex');

const migrations = {
  '20240101000000_customers': {
    async up(k) {
      await k.schema.createSchema('shop');
      await k.schema.withSchema('shop').createTable('customers', (t) => {
        t.increments('id').primary();
        t.string('name', 100).notNullable();
        t.string('email').unique();
        t.decimal('score', 10, 2).defaultTo(0);
        t.boolean('active').notNullable().defaultTo(true);
        t.jsonb('data');
        t.timestamps(true, true);
        t.comment('people who buy');
      });
      await k.schema.withSchema('shop').createTable('orders', (t) => {
        t.bigIncrements('id');
        t.integer('customer_id').unsigned().notNullable()
          .references('id').inTable('shop.customers').onDelete('CASCADE');
        t.enu('status', ['new', 'paid', 'shipped'], { useNative: true, enumName: 'order_status', schemaName: 'shop' }).defaultTo('new');
        t.specificType('tags', 'text[]');
        t.date('placed');
        t.index(['customer_id', 'placed'], 'orders_customer_placed');
        t.unique(['customer_id', 'placed'], { indexName: 'orders_one_a_day' });
      });
    },
    async down(k) {
      await k.schema.withSchema('shop').dropTable('orders');
      await k.schema.withSchema('shop').dropTable('customers');
      await k.raw('DROP TYPE shop.order_status');
      await k.schema.dropSchema('shop');
    },
  },
  '20240102000000_alter': {
    async up(k) {
      await k.schema.withSchema('shop').alterTable('customers', (t) => {
        t.string('phone', 30);
        t.text('note').comment('free text');
        t.dropColumn('score');
        t.index(['name'], 'customers_name_idx');
        t.check("name <> ''", [], 'name_not_empty');
      });
      await k.schema.withSchema('shop').alterTable('orders', (t) => {
        t.decimal('total', 12, 2).notNullable().defaultTo(0);
        t.renameColumn('placed', 'placed_on');
      });
      await k.raw(`CREATE VIEW shop.paid_orders AS SELECT id, customer_id, total FROM shop.orders WHERE status = 'paid'`);
      await k.raw(`CREATE FUNCTION shop.customer_total(cid integer) RETURNS numeric LANGUAGE sql STABLE AS $$ SELECT coalesce(sum(total), 0) FROM shop.orders WHERE customer_id = cid $$`);
      await k.raw('CREATE INDEX orders_total_big ON shop.orders (total) WHERE total > 100');
      await k.raw('UPDATE shop.customers SET note = ? WHERE name = ?', ['bound', 'none']);
      await k('shop.customers').insert([{ name: 'Ada', email: 'ada@example.com', data: { k: 1 } }, { name: 'Bob' }]);
      const [{ id }] = await k('shop.customers').where({ name: 'Ada' }).select('id');
      await k('shop.orders').insert({ customer_id: id, status: 'paid', tags: ['a', 'b'], placed_on: '2024-01-02', total: 150 });
    },
    async down(k) {
      await k.raw('DROP FUNCTION shop.customer_total(integer)');
      await k.raw('DROP VIEW shop.paid_orders');
      await k('shop.orders').del();
      await k('shop.customers').del();
      await k.schema.withSchema('shop').alterTable('orders', (t) => {
        t.renameColumn('placed_on', 'placed');
        t.dropColumn('total');
      });
      await k.schema.withSchema('shop').alterTable('customers', (t) => {
        t.dropChecks(['name_not_empty']);
        t.dropIndex(['name'], 'customers_name_idx');
        t.dropColumn('note');
        t.dropColumn('phone');
        t.decimal('score', 10, 2).defaultTo(0);
      });
    },
  },
};

const migrationSource = {
  getMigrations: async () => Object.keys(migrations).sort(),
  getMigrationName: (m) => m,
  getMigration: async (m) => migrations[m],
};

async function main() {
  const k = knex({
    client: 'pg',
    connection: {
      host: process.env.PGHOST, port: Number(process.env.PGPORT), user: process.env.PGUSER,
      password: process.env.PGPASSWORD, database: process.env.PGDATABASE,
    },
    pool: { min: 1, max: 2 },
  });
  try {
    const cfg = { migrationSource };
    let [batch, log] = await k.migrate.latest(cfg);
    console.log(`latest: batch ${batch}: ${log.join(', ')}`);
    [batch, log] = await k.migrate.rollback(cfg);
    console.log(`rollback: batch ${batch}: ${log.join(', ')}`);
    [batch, log] = await k.migrate.latest(cfg);
    console.log(`latest: batch ${batch}: ${log.join(', ')}`);
    [batch, log] = await k.migrate.down(cfg);
    console.log(`down: batch ${batch}: ${log.join(', ')}`);
    [batch, log] = await k.migrate.up(cfg);
    console.log(`up: batch ${batch}: ${log.join(', ')}`);
    const [done, pending] = await k.migrate.list(cfg);
    console.log(`list: ${done.map((m) => m.name).join(', ')}; pending ${pending.length}`);
    console.log(`version: ${await k.migrate.currentVersion(cfg)}`);
    const rows = await k('shop.orders').join('shop.customers', 'customers.id', 'orders.customer_id')
      .select('customers.name', 'orders.status', 'orders.tags', 'orders.total').orderBy('orders.id');
    console.log(`rows: ${JSON.stringify(rows)}`);
    console.log(`has table: ${await k.schema.withSchema('shop').hasTable('orders')}, column: ${await k.schema.withSchema('shop').hasColumn('customers', 'phone')}`);
  } finally {
    await k.destroy();
  }
}

main().then(() => console.log('done'), (err) => {
  console.error(`FAIL: ${err.stack || err}`);
  process.exit(1);
});
