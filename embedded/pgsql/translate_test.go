package pgsql

import (
	"strings"
	"testing"

	"github.com/wasql/wasql/internal/sqlstate"
)

var translateCases = []struct{ in, want string }{
	{"select 1", "SELECT 1 AS `?column?`"},
	{"SELECT a, t.b, * FROM t", "SELECT `a` AS `a`, `t`.`b` AS `b`, * FROM `t`"},
	{`select "Mixed Case" from "T"`, "SELECT `Mixed Case` AS `Mixed Case` FROM `T`"},
	{"select plus($1, $2), $1", "SELECT `plus`(:v1, :v2) AS `plus`, :v1 AS `?column?`"},
	{"select 'it''s', E'a\\nb', 'back\\slash'", "SELECT 'it''s' AS `?column?`, 'a\nb' AS `?column?`, 'back\\\\slash' AS `?column?`"},
	{"select 'a' || 'b'", "SELECT CONCAT('a', 'b') AS `?column?`"},
	{"select 7 / 2, 7 % 2, 2 ^ 3", "SELECT pg_div(7, 2) AS `?column?`, pg_mod(7, 2) AS `?column?`, POWER(2, 3) AS `?column?`"},
	{"select x::bigint, '1'::int, 2::text, 'y'::bytea", "SELECT pg_int8(`x`) AS `x`, CAST('1' AS SIGNED) AS `int4`, CAST(2 AS CHAR) AS `text`, CAST(X'79' AS BINARY) AS `bytea`"},
	{"select cast(a as numeric(10,2)), 'yes'::boolean, b::bool", "SELECT CAST(`a` AS DECIMAL(10,2)) AS `a`, TRUE AS `bool`, pg_bool(`b`) AS `b`"},
	{"select * from t where name ilike 'ab%' and s not like 'x\\_%' escape '\\'",
		"SELECT * FROM `t` WHERE (pg_ilike(`name`, 'ab%') AND (NOT pg_like(`s`, 'x\\\\_%', '\\\\')))"},
	{"select * from t where a is distinct from b or c is not distinct from d",
		"SELECT * FROM `t` WHERE ((NOT (`a` <=> `b`)) OR ((`c` <=> `d`)))"},
	{"select true, false, null, current_user, current_date", "SELECT TRUE AS `bool`, FALSE AS `bool`, NULL AS `?column?`, current_user() AS `current_user`, CURRENT_DATE() AS `current_date`"},
	{"select count(*), count(distinct a), sum(a) filter (where a > 1) from t",
		"SELECT count(*) AS `count`, count(DISTINCT `a`) AS `count`, sum(CASE WHEN (`a` > 1) THEN `a` END) AS `sum` FROM `t`"},
	{"select string_agg(s, ',' order by s desc) from t", "SELECT GROUP_CONCAT(`s` ORDER BY (`s`) IS NULL DESC, `s` DESC SEPARATOR ',') AS `string_agg` FROM `t`"},
	{"select a from t order by a desc nulls last limit 5 offset 2", "SELECT `a` AS `a` FROM `t` ORDER BY (`a`) IS NULL, `a` DESC LIMIT 5 OFFSET 2"},
	{"select a as x, b from t order by x desc, 2", "SELECT `a` AS `x`, `b` AS `b` FROM `t` ORDER BY (`a`) IS NULL DESC, `x` DESC, (`b`) IS NULL, 2"},
	{"select a from t offset 3", "SELECT `a` AS `a` FROM `t` LIMIT 18446744073709551615 OFFSET 3"},
	{"alter table t add column c text default 'x', drop column d", "ALTER TABLE `t` ADD COLUMN `c` LONGTEXT DEFAULT 'x', DROP COLUMN `d`"},
	{"alter table t add constraint c_pos check (c > 0)", "ALTER TABLE `t` ADD CONSTRAINT `c_pos` CHECK ((`c` > 0))"},
	{"alter table t add foreign key (u) references u (id)", "ALTER TABLE `t` ADD FOREIGN KEY (`u`) REFERENCES `u` (`id`)"},
	{"alter table t drop constraint c_pos", "ALTER TABLE `t` DROP CONSTRAINT `c_pos`"},
	{"alter table t alter column c set default 3, alter column d drop default", "ALTER TABLE `t` ALTER COLUMN `c` SET DEFAULT (3), ALTER COLUMN `d` DROP DEFAULT"},
	{"alter table t rename column a to b", "ALTER TABLE `t` RENAME COLUMN `a` TO `b`"},
	{"alter table t rename to u", "ALTER TABLE `t` RENAME TO `u`"},
	{"select a from t where id = 1 for update", "SELECT `a` AS `a` FROM `t` WHERE (`id` = 1) FOR UPDATE"},
	{"select a from t order by a limit 1 for share", "SELECT `a` AS `a` FROM `t` ORDER BY (`a`) IS NULL, `a` LIMIT 1 FOR UPDATE"},
	{"select * from public.t join u using (id) left join v on v.id = t.id",
		"SELECT * FROM ((`t` JOIN `u` USING (`id`)) LEFT JOIN `v` ON (`v`.`id` = `t`.`id`))"},
	{"select * from (values (1, 'a'), (2, 'b')) as v(id, name)",
		"SELECT * FROM (SELECT 1 AS `id`, 'a' AS `name` UNION ALL SELECT 2, 'b') AS `v`"},
	{"values (1, 2)", "SELECT 1 AS `column1`, 2 AS `column2`"},
	{"select i from generate_series(1, 3) as i",
		"SELECT `i` AS `i` FROM (WITH RECURSIVE `series` (`n`) AS (SELECT 1 FROM DUAL WHERE 1 <= 3 UNION ALL SELECT `n` + 1 FROM `series` WHERE `n` + 1 <= 3) SELECT `n` AS `i` FROM `series`) AS `i`"},
	{"with recursive r(n) as (select 1 union all select n + 1 from r where n < 3) select n from r",
		"WITH RECURSIVE `r` (`n`) AS (SELECT 1 UNION ALL SELECT (`n` + 1) FROM `r` WHERE (`n` < 3)) SELECT `n` AS `n` FROM `r`"},
	{"select a = any(array[1,2]), b <> all(array[3]), c = any(current_schemas(true))",
		"SELECT (`a` IN (1, 2)) AS `?column?`, (`b` NOT IN (3)) AS `?column?`, pg_any_eq(`c`, `current_schemas`(TRUE)) AS `?column?`"},
	{"select (pg_catalog.current_schemas(true))[1]", "SELECT pg_array_get(`current_schemas`(TRUE), 1) AS `current_schemas`"},
	{"select c.relname from pg_catalog.pg_class c where c.relname OPERATOR(pg_catalog.~) '^(t)$' COLLATE pg_catalog.default and c.oid = 'x'::regclass",
		"SELECT `c`.`relname` AS `relname` FROM `pg_catalog`.`pg_class` AS `c` WHERE ((REGEXP_LIKE(`c`.`relname`, '^(t)$')) AND (`c`.`oid` = regclass('x')))"},
	{"select c.oid::regclass, conrelid::pg_catalog.regclass::pg_catalog.text as t from pg_class c where c.oid = '1'::regclass",
		"SELECT regclassout(regclass(`c`.`oid`)) AS `oid`, regclassout(regclass(`conrelid`)) AS `t` FROM `pg_catalog`.`pg_class` AS `c` WHERE (`c`.`oid` = regclass('1'))"},
	{"select * from pg_namespace, information_schema.tables", "SELECT * FROM `pg_catalog`.`pg_namespace`, `pg_information_schema`.`tables`"},
	{"select j->'a', j->>0 from t", "SELECT JSON_EXTRACT(`j`, '$.\"a\"') AS `?column?`, JSON_UNQUOTE(JSON_EXTRACT(`j`, '$[0]')) AS `?column?` FROM `t`"},
	{"select polname from pg_catalog.pg_policy pol where pol.polrelid = '1' order by 1",
		"SELECT NULL AS `polname` FROM DUAL WHERE FALSE"},
	{"select row_number() over (partition by a order by b) from t",
		"SELECT row_number() OVER (PARTITION BY `a` ORDER BY (`b`) IS NULL, `b`) AS `row_number` FROM `t`"},
	{"select exists (select 1 from t), (select max(a) from t), a in (select b from u) from t",
		"SELECT EXISTS (SELECT 1 FROM `t`) AS `exists`, (SELECT max(`a`) FROM `t`) AS `max`, (`a` IN (SELECT `b` FROM `u`)) AS `?column?` FROM `t`"},
	{"select length(s), strpos(s, 'x'), log(100), trim(s), extract(year from d), now() from t",
		"SELECT `pg_length`(`s`) AS `length`, INSTR(`s`, 'x') AS `strpos`, LOG10(100) AS `log`, TRIM(`s`) AS `btrim`, EXTRACT(YEAR FROM `d`) AS `extract`, pg_timestamptz(NOW(6)) AS `now` FROM `t`"},
	{"create table if not exists customers (id serial primary key, name text not null, email varchar(200) unique, created timestamptz default now(), n numeric(10,2) default 0)",
		"CREATE TABLE IF NOT EXISTS `customers` (`id` INT NOT NULL AUTO_INCREMENT PRIMARY KEY, `name` LONGTEXT NOT NULL, `email` VARCHAR(200), `created` TIMESTAMP(6) DEFAULT (pg_timestamptz(NOW(6))), `n` DECIMAL(10,2) DEFAULT 0, CONSTRAINT `customers_email_key` UNIQUE (`email`))"},
	{"create table o (id bigserial, c int references customers(id) on delete cascade, k text, b bytea, primary key (id, k))",
		"CREATE TABLE `o` (`id` BIGINT NOT NULL AUTO_INCREMENT, `c` INT, `k` VARCHAR(768), `b` LONGBLOB, PRIMARY KEY (`id`, `k`), FOREIGN KEY (`c`) REFERENCES `customers` (`id`) ON DELETE CASCADE)"},
	{"create table s (n serial, v text)", "CREATE TABLE `s` (`n` INT NOT NULL AUTO_INCREMENT, `v` LONGTEXT, KEY (`n`))"},
	{"insert into t (a, b) values (1, 'x'), ($1, default) on conflict (a) do update set b = excluded.b",
		"INSERT INTO `t` (`a`, `b`) VALUES (1, 'x'), (:v1, DEFAULT) ON DUPLICATE KEY UPDATE `b` = VALUES(`b`)"},
	{"update t set a = a + 1 where id = $1", "UPDATE `t` SET `a` = (`a` + 1) WHERE (`id` = :v1)"},
	{"delete from t where id in (1, 2)", "DELETE FROM `t` WHERE (`id` IN (1, 2))"},
	{"create index on t (a, b)", "CREATE INDEX `t_a_b_idx` ON `t` (`a`, `b`)"},
	{"drop table if exists a, public.b cascade", "DROP TABLE IF EXISTS `a`, `b`"},
	{"begin", "START TRANSACTION"},
	{"explain select 1", "EXPLAIN PLAN SELECT 1 AS `?column?`"},
	{"explain analyze select 1", "EXPLAIN ANALYZE SELECT 1 AS `?column?`"},
	{"with pg_x as (select 1 a) select a from pg_x", "WITH `pg_x` AS (SELECT 1 AS `a`) SELECT `a` AS `a` FROM `pg_x`"},
	{"create table pg_data (a int)", "CREATE TABLE `pg_data` (`a` INT)"},
	{"select s !~ 'x' is null, btrim(s, 'xy'), 'abcdef'::varchar(3) from t",
		"SELECT ((NOT REGEXP_LIKE(`s`, 'x')) IS NULL) AS `?column?`, pg_trim(`s`, 'xy', 'both') AS `btrim`, LEFT(CAST('abcdef' AS CHAR), 3) AS `varchar` FROM `t`"},
	{"select * from pg_trigger", "SELECT * FROM `pg_catalog`.`pg_trigger`"},
	{"select count(*)::int from pg_trigger", "SELECT pg_int4(count(*)) AS `count` FROM `pg_catalog`.`pg_trigger`"},
	{"select tgname, (select string_agg(x, ',') from u) from pg_trigger", "SELECT NULL AS `tgname`, NULL AS `string_agg` FROM DUAL WHERE FALSE"},
	{"select n from generate_series(5, 1, -2) n", "SELECT `n` AS `n` FROM (WITH RECURSIVE `series` (`n`) AS (SELECT 5 FROM DUAL WHERE 5 >= 1 UNION ALL SELECT `n` + -2 FROM `series` WHERE `n` + -2 >= 1) SELECT `n` AS `n` FROM `series`) AS `n`"},
	{"select ts - interval '1 day 2 hours', date_trunc('hour', ts), extract(epoch from ts) from t",
		"SELECT (`ts` - INTERVAL 1 DAY - INTERVAL 2 HOUR) AS `?column?`, CAST(DATE_FORMAT(`ts`, '%Y-%m-%d %H:00:00') AS DATETIME(6)) AS `date_trunc`, UNIX_TIMESTAMP(`ts`) AS `extract` FROM `t`"},
}

// typeCases: casts whose input Postgres reads differently from MySQL.
var typeCases = []struct{ in, want string }{
	{`select '\xDEADbeef'::bytea, 'a\\b\001'::bytea, ''::bytea, s::bytea from t`,
		"SELECT CAST(X'deadbeef' AS BINARY) AS `bytea`, CAST(X'615c6201' AS BINARY) AS `bytea`, CAST(X'' AS BINARY) AS `bytea`, pg_bytea(`s`) AS `s` FROM `t`"},
	{"select '2024-05-02 00:00:00+02'::timestamptz, '2024-05-02 00:00:00+02'::timestamp, d::timestamp from t",
		"SELECT pg_timestamptz('2024-05-02 00:00:00+02') AS `timestamptz`, pg_timestamp('2024-05-02 00:00:00+02') AS `timestamp`, pg_timestamp(`d`) AS `d` FROM `t`"},
	{"select avg(n), avg(distinct n), avg(n) over () from t",
		"SELECT pg_avg(sum(`n`), count(`n`)) AS `avg`, pg_avg(sum(DISTINCT `n`), count(DISTINCT `n`)) AS `avg`, pg_avg(sum(`n`) OVER (), count(`n`) OVER ()) AS `avg` FROM `t`"},
	{"select ok::text, 'x'::text, localtimestamp from t", "SELECT pg_text(`ok`) AS `ok`, CAST('x' AS CHAR) AS `text`, pg_timestamp(NOW(6)) AS `localtimestamp` FROM `t`"},
	{"create table z (a timestamp, b timestamptz)", "CREATE TABLE `z` (`a` DATETIME(6), `b` TIMESTAMP(6))"},
	{`create table z (a boolean default 'on', b bytea default '\x01', c timestamptz default '2024-05-02 00:00:00+02', d timestamp default '2024-05-02 01:00:00+05')`,
		"CREATE TABLE `z` (`a` BOOLEAN DEFAULT TRUE, `b` LONGBLOB DEFAULT (CAST(X'01' AS BINARY)), `c` TIMESTAMP(6) DEFAULT '2024-05-01 22:00:00', `d` DATETIME(6) DEFAULT '2024-05-02 01:00:00')"},
}

// translateAll checks each case's printed translation.
func translateAll(t *testing.T, cases []struct{ in, want string }) {
	t.Helper()
	for _, c := range cases {
		got, err := Translate(c.in)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if got.SQL != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.in, got.SQL, c.want)
		}
	}
}

func TestTranslateTypes(t *testing.T) {
	translateAll(t, typeCases)
	for in, code := range map[string]string{`select '\xabc'::bytea`: "22023", `select '\xzz'::bytea`: "22023", `select 'a\b'::bytea`: "22P02"} {
		if _, err := Translate(in); sqlstate.Of(err) != code {
			t.Errorf("%s: %v (SQLSTATE %s), want %s", in, err, sqlstate.Of(err), code)
		}
	}
}

func TestTranslate(t *testing.T) {
	translateAll(t, translateCases)
}

// TestUnsupported: what has no faithful translation fails with a SQLSTATE naming it.
func TestUnsupported(t *testing.T) {
	for in, want := range map[string]string{
		"select distinct on (a) a from t":                       "SELECT DISTINCT ON",
		"delete from t returning id":                            "RETURNING on DELETE",
		"copy t from stdin":                                     "COPY",
		"create schema s":                                       "CREATE SCHEMA",
		"select a similar to 'x' from t":                        "SIMILAR TO",
		"select '1 day'::interval":                              "interval",
		"select array(select 1)":                                "ARRAY(subquery)",
		"select * from unnest(array[1])":                        "unnest",
		"select count(a) over (order by b) from t":              "count() over a window with ORDER BY",
		"select avg(a) over (partition by c order by b) from t": "avg() over a window with ORDER BY",
		"listen x":                            "LISTEN",
		"select a from t group by rollup (a)": "ROLLUP",
		"insert into t values (1) on conflict do nothing":         "ON CONFLICT DO NOTHING without a column list",
		"select extract('year from d), (select 1' from d) from t": "extract(",
		"select date_part('dow', d) from t":                       "date_part(",
		"savepoint a":                                             "SAVEPOINT",
		"rollback to savepoint a":                                 "SAVEPOINT",
		"alter table t alter column c type bigint":                "ALTER TABLE AlterColumnType",
		"alter table t drop column c cascade":                     "CASCADE in ALTER TABLE",
		"alter table if exists t add column c int":                "ALTER TABLE IF EXISTS",
		"alter table t add column c int references u (id)":        "REFERENCES in ALTER TABLE ADD COLUMN",
		"alter index i rename to j":                               "ALTER ... RENAME",
		"select a from t for update skip locked":                  "SKIP LOCKED or NOWAIT",
		"select a from t for update nowait":                       "SKIP LOCKED or NOWAIT",
	} {
		_, err := Translate(in)
		if err == nil || sqlstate.Of(err) != sqlstate.FeatureNotSupported || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v (SQLSTATE %s), want 0A000 naming %q", in, err, sqlstate.Of(err), want)
		}
	}
	for in, code := range map[string]string{
		"selec 1":                 "42601",
		"select * from nope.t":    "3F000",
		"select 1::nosuchtype":    "42704",
		"select 'maybe'::boolean": "22P02",
	} {
		if _, err := Translate(in); sqlstate.Of(err) != code {
			t.Errorf("%s: %v (SQLSTATE %s), want %s", in, err, sqlstate.Of(err), code)
		}
	}
}

func TestParseBool(t *testing.T) {
	for s, want := range map[string]bool{"t": true, "TRUE": true, "yes": true, "on": true, "1": true, " y ": true,
		"f": false, "False": false, "no": false, "off": false, "0": false, "of": false} {
		if got, ok := ParseBool(s); !ok || got != want {
			t.Errorf("%q: %v %v", s, got, ok)
		}
	}
	for _, s := range []string{"", "o", "maybe", "2", "tru e"} {
		if _, ok := ParseBool(s); ok {
			t.Errorf("%q parsed", s)
		}
	}
}
