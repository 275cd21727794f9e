//go:build integration

package integration

// TestProxyPsql: every meta-command of psql 15's \? through the proxy prints what it prints
// against PostgreSQL directly, on the same database (compat) in the same run. Each command of
// \? has an entry in psqlMetaCommands: the psql text that exercises it, or why it is not run.
// The read-only entries run in one psql session per side; the ones that change the database
// (\copy, \lo_*, \watch) run in another, which cleans up after itself, so the second side
// finds what the first found. Output is compared per entry after normalising only the port
// (\conninfo, \c, the PORT variable) and the clock (\timing, \watch's title).

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// psqlCase is one entry of \?: the command's name there, the psql text that runs it (the name
// itself when empty), or skip: why it is not run (never empty for a command not run).
type psqlCase struct {
	cmd, script, skip string
	writes            bool // changes the database: runs in the second session
}

// psqlMetaCommands lists the commands of psql 15's \? in its order. {dir} in a script is a
// directory of files for the side running it.
var psqlMetaCommands = []psqlCase{
	// General
	{cmd: `\copyright`},
	{cmd: `\crosstabview`, script: "SELECT c.name, o.note, o.total FROM app.orders o JOIN app.customers c ON c.id = o.customer_id ORDER BY 1, 2 \\crosstabview name note total"},
	{cmd: `\errverbose`, script: "SELECT 1/0;\n\\errverbose"},
	{cmd: `\g`, script: "SELECT id, name FROM app.customers ORDER BY id \\g\nSELECT id, name FROM app.customers ORDER BY id \\g (format=csv) {dir}/g.csv\n\\! cat {dir}/g.csv\nSELECT 1 AS one \\g (format=aligned tuples_only=on)"},
	{cmd: `\gdesc`, script: "SELECT id, name, tags, data, attrs, mood, created FROM app.customers \\gdesc"},
	{cmd: `\gexec`, script: "SELECT format('SELECT count(*) AS %I FROM app.%I', relname, relname) FROM pg_class WHERE relnamespace = 'app'::regnamespace AND relkind = 'r' ORDER BY relname \\gexec"},
	{cmd: `\gset`, script: "SELECT 42 AS answer, 'x' AS letter \\gset r_\n\\echo :r_answer :r_letter"},
	{cmd: `\gx`, script: "SELECT * FROM app.customers ORDER BY id \\gx"},
	{cmd: `\q`, skip: "ends the session: each psql session here ends with it (the script's last line), which is what \\q does"},
	{cmd: `\restrict`, script: "\\restrict k3y\n\\echo restricted\nSELECT 1 AS still_queries;\n\\unrestrict k3y"},
	{cmd: `\unrestrict`, skip: "run with \\restrict, in its entry"},
	{cmd: `\watch`, writes: true, script: "CREATE SEQUENCE watch_seq;\nSELECT 10 / (3 - nextval('watch_seq')) AS x \\watch 0.01\nDROP SEQUENCE watch_seq;"},
	// Help
	{cmd: `\?`, script: "\\? commands"},
	{cmd: `\? options`},
	{cmd: `\? variables`},
	{cmd: `\h`, script: "\\h CREATE TABLE"},
	// Query Buffer
	{cmd: `\e`, skip: "edits the query buffer in an editor on the client; nothing reaches the server (\\ef and \\ev, which read the server, are run)"},
	{cmd: `\ef`, script: "\\ef f\n\\p\n\\r\n\\ef app.order_total\n\\p\n\\r"},
	{cmd: `\ev`, script: "\\ev app.big_orders\n\\p\n\\r"},
	{cmd: `\p`, script: "SELECT 1\n\\p\n\\r"},
	{cmd: `\r`, script: "SELECT 1\n\\r\n\\p"},
	{cmd: `\s`, skip: "prints the client's readline history, of which a script has none"},
	{cmd: `\w`, script: "SELECT 'written' AS w\n\\w {dir}/w.sql\n\\r\n\\i {dir}/w.sql"},
	// Input/Output
	{cmd: `\copy`, writes: true, script: psqlCopyScript},
	{cmd: `\echo`, script: "\\echo -n no newline\n\\echo ' and' :DBNAME"},
	{cmd: `\i`, script: "\\! printf 'SELECT 7 AS seven;\\n' > {dir}/i.sql\n\\i {dir}/i.sql"},
	{cmd: `\ir`, script: "\\ir {dir}/i.sql"},
	{cmd: `\o`, script: "\\o {dir}/o.txt\nSELECT name FROM app.customers ORDER BY 1;\n\\qecho to the file\n\\o\n\\! cat {dir}/o.txt"},
	{cmd: `\qecho`, script: "\\qecho -n qecho\n\\qecho ' done'"},
	{cmd: `\warn`, script: "\\warn to stderr"},
	// Conditional
	{cmd: `\if`, script: "SELECT count(*) > 2 AS many FROM app.customers \\gset\n\\if :many\n\\echo many\n\\elif false\n\\echo never\n\\else\n\\echo few\n\\endif"},
	{cmd: `\elif`, script: "\\if false\n\\echo no\n\\elif true\n\\echo elif taken\n\\endif"},
	{cmd: `\else`, script: "\\if false\n\\echo no\n\\else\n\\echo else taken\n\\endif"},
	{cmd: `\endif`, skip: "ends every \\if above"},
	// Informational
	{cmd: `\d`, script: "\\d\n\\dS+ pg_am\n\\d t\n\\d+ t\n\\d v\n\\d+ v\n\\d s\n\\d app.customers\n\\d+ app.customers\n\\d+ app.orders\n\\d app.order_lines\n\\d+ app.big_orders\n\\d app.invoice_no\n\\d+ app.orders_customer_idx\n\\d app.customers_lower_name\n\\d+ app.events\n\\d+ app.order_totals\n\\d+ app.remote_things\n\\d app.*"},
	{cmd: `\da`, script: "\\da\n\\da app.*\n\\daS count"},
	{cmd: `\dA`, script: "\\dA\n\\dA+"},
	{cmd: `\dAc`, script: "\\dAc btree int4\n\\dAc+ hash text"},
	{cmd: `\dAf`, script: "\\dAf btree int4\n\\dAf+ gin"},
	{cmd: `\dAo`, script: "\\dAo btree integer_ops\n\\dAo+ hash text_ops"},
	{cmd: `\dAp`, script: "\\dAp btree integer_ops\n\\dAp+ hash text_ops"},
	{cmd: `\db`, script: "\\db\n\\db+"},
	{cmd: `\dc`, script: "\\dc\n\\dcS+ utf8_to_iso_8859_1"},
	{cmd: `\dconfig`, script: "\\dconfig\n\\dconfig+ *work_mem*\n\\dconfig max_connections"},
	{cmd: `\dC`, script: "\\dC\n\\dC+ bigint"},
	{cmd: `\dd`, script: "\\dd\n\\dd app.*\n\\ddS pg_catalog.int4*"},
	{cmd: `\dD`, script: "\\dD\n\\dD+ app.*"},
	{cmd: `\ddp`, script: "\\ddp\n\\ddp app"},
	{cmd: `\dE`, script: "\\dE\n\\dE+ app.*"},
	{cmd: `\des`, script: "\\des\n\\des+"},
	{cmd: `\det`, script: "\\det\n\\det+ app.*"},
	{cmd: `\deu`, script: "\\deu\n\\deu+"},
	{cmd: `\dew`, script: "\\dew\n\\dew+"},
	{cmd: `\df`, script: "\\df\n\\df+\n\\df app.*\n\\df+ app.order_total\n\\dfa app.*\n\\dfn app.*\n\\dfp app.*\n\\dft app.*\n\\dfw\n\\dfS+ int4pl\n\\df f integer"},
	{cmd: `\dF`, script: "\\dF\n\\dF+ app.plain"},
	{cmd: `\dFd`, script: "\\dFd\n\\dFd+ simple"},
	{cmd: `\dFp`, script: "\\dFp\n\\dFp+ default"},
	{cmd: `\dFt`, script: "\\dFt\n\\dFt+ simple"},
	{cmd: `\dg`, script: "\\dg\n\\dg+ compat*\n\\dgS pg_read_all_data"},
	{cmd: `\di`, script: "\\di\n\\di+\n\\di app.*\n\\di+ app.*\n\\diS+ pg_class_oid_index"},
	{cmd: `\dl`, script: "\\dl\n\\dl+"},
	{cmd: `\dL`, script: "\\dL\n\\dL+\n\\dLS"},
	{cmd: `\dm`, script: "\\dm\n\\dm+ app.*"},
	{cmd: `\dn`, script: "\\dn\n\\dn+\n\\dnS"},
	{cmd: `\do`, script: "\\do\n\\do app.*\n\\doS+ ||"},
	{cmd: `\dO`, script: "\\dO\n\\dO+ app.*"},
	{cmd: `\dp`, script: "\\dp\n\\dp app.*"},
	{cmd: `\dP`, script: "\\dP\n\\dP+ app.*\n\\dPi app.*\n\\dPt app.*\n\\dPn app.*"},
	{cmd: `\drds`, script: "\\drds\n\\drds compat*"},
	{cmd: `\dRp`, script: "\\dRp\n\\dRp+"},
	{cmd: `\dRs`, script: "\\dRs\n\\dRs+"},
	{cmd: `\ds`, script: "\\ds\n\\ds+\n\\ds app.*"},
	{cmd: `\dt`, script: "\\dt\n\\dt+\n\\dt app.*\n\\dt+ app.*"},
	{cmd: `\dT`, script: "\\dT\n\\dT+\n\\dT app.*\n\\dT+ app.*\n\\dTS int4"},
	{cmd: `\du`, script: "\\du\n\\du+\n\\duS pg_monitor"},
	{cmd: `\dv`, script: "\\dv\n\\dv+\n\\dv app.*"},
	{cmd: `\dx`, script: "\\dx\n\\dx+ plpgsql"},
	{cmd: `\dX`, script: "\\dX\n\\dX app.*"},
	{cmd: `\dy`, script: "\\dy\n\\dy+"},
	{cmd: `\l`, script: "\\l\n\\l+\n\\l compat"},
	{cmd: `\sf`, script: "\\sf f\n\\sf+ f\n\\sf app.order_total\n\\sf app.bump"},
	{cmd: `\sv`, script: "\\sv v\n\\sv+ app.big_orders"},
	{cmd: `\z`, script: "\\z\n\\z app.*"},
	// Large Objects
	{cmd: `\lo_export`, script: "\\lo_export 424242 {dir}/lo.bin\n\\! od -c {dir}/lo.bin"},
	{cmd: `\lo_import`, writes: true, script: "\\! printf 'imported bytes' > {dir}/lo_in.bin\n\\lo_import {dir}/lo_in.bin 'imported'\nSELECT convert_from(lo_get(:LASTOID), 'UTF8') AS content;\n\\lo_list+\n\\lo_unlink :LASTOID"},
	{cmd: `\lo_list`, script: "\\lo_list\n\\lo_list+"},
	{cmd: `\lo_unlink`, skip: "run with \\lo_import, in its entry (it unlinks the object imported)"},
	// Formatting
	{cmd: `\a`, script: "\\a\nSELECT id, name FROM app.customers ORDER BY id;\n\\a"},
	{cmd: `\C`, script: "\\C 'The customers'\nSELECT id, name FROM app.customers ORDER BY id;\n\\C"},
	{cmd: `\f`, script: "\\a\n\\f ';'\nSELECT id, name FROM app.customers ORDER BY id;\n\\f '|'\n\\a"},
	{cmd: `\H`, script: "\\H\nSELECT id, name FROM app.customers ORDER BY id;\n\\H"},
	{cmd: `\pset`, script: "\\pset null '(null)'\n\\pset border 2\n\\pset linestyle unicode\nSELECT id, email FROM app.customers ORDER BY id;\n\\pset format csv\nSELECT id, email FROM app.customers ORDER BY id;\n\\pset format aligned\n\\pset linestyle ascii\n\\pset border 1\n\\pset null ''\n\\pset"},
	{cmd: `\t`, script: "\\t on\nSELECT id, name FROM app.customers ORDER BY id;\n\\t off"},
	{cmd: `\T`, script: "\\H\n\\T 'class=\"x\"'\nSELECT 1 AS one;\n\\T\n\\H"},
	{cmd: `\x`, script: "\\x on\nSELECT * FROM app.orders ORDER BY id;\n\\x auto\n\\x off"},
	// Connection
	{cmd: `\conninfo`},
	{cmd: `\encoding`, script: "\\encoding\n\\encoding LATIN1\n\\encoding\nSHOW client_encoding;\nSELECT name FROM app.customers ORDER BY 1;\n\\encoding UTF8\n\\encoding"},
	{cmd: `\password`, skip: "asks for the new password on the terminal (/dev/tty), which a test has not; the ALTER ROLE ... PASSWORD it sends is plain SQL"},
	{cmd: `\c`, script: "\\c - -\nSELECT current_database(), current_user;\n\\c postgres\n\\conninfo\n\\c compat\n\\conninfo"},
	// Operating System
	{cmd: `\cd`, script: "\\cd {dir}\n\\! pwd"},
	{cmd: `\getenv`, script: "\\getenv tz PGTZ\n\\echo :tz"},
	{cmd: `\setenv`, script: "\\setenv WASQL_X hello\n\\! echo $WASQL_X\n\\setenv WASQL_X"},
	{cmd: `\timing`, script: "\\timing on\nSELECT count(*) FROM t;\n\\timing off"},
	{cmd: `\!`, script: "\\! echo from the shell"},
	// Variables
	{cmd: `\prompt`, skip: "reads the value from the terminal (/dev/tty); nothing reaches the server"},
	{cmd: `\set`, script: "\\set x 'a value'\n\\echo :x\n\\set"},
	{cmd: `\unset`, script: "\\set y 1\n\\unset y\n\\echo :y"},
}

// psqlCopyScript is \copy both ways: from a file into a new table, out again in text, CSV
// and binary, a round trip of the binary file into a second table, COPY FROM STDIN in the
// script, and the tables' contents.
const psqlCopyScript = `CREATE TABLE copy_rt (id int PRIMARY KEY, s text, b bytea, n numeric, d date, j jsonb, a int[]);
\copy copy_rt FROM '{dir}/../copy_in.csv' WITH (FORMAT csv, HEADER true)
\copy copy_rt TO '{dir}/copy_out.txt'
\copy (SELECT * FROM copy_rt WHERE id % 2 = 0 ORDER BY id) TO '{dir}/copy_out.csv' WITH (FORMAT csv, HEADER true, FORCE_QUOTE *)
\copy copy_rt TO '{dir}/copy_out.bin' WITH (FORMAT binary)
CREATE TABLE copy_rt2 (LIKE copy_rt);
\copy copy_rt2 FROM '{dir}/copy_out.bin' WITH (FORMAT binary)
\copy copy_rt2 (id, s) FROM STDIN
100001	from stdin
100002	\N
\.
COPY copy_rt2 (id, s) FROM STDIN WITH (FORMAT csv);
200001,"a, b"
\.
SELECT count(*), sum(id), md5(string_agg(copy_rt::text, '|' ORDER BY id)) FROM copy_rt;
SELECT count(*), sum(id), md5(string_agg(copy_rt2::text, '|' ORDER BY id)) FROM copy_rt2;
SELECT * FROM copy_rt2 WHERE id < 5 OR id > 100000 ORDER BY id;
(TABLE copy_rt EXCEPT TABLE copy_rt2) UNION ALL (TABLE copy_rt2 EXCEPT TABLE copy_rt) ORDER BY 1;
\copy copy_rt2 FROM '{dir}/missing.csv'
DROP TABLE copy_rt, copy_rt2;`

var (
	portRe    = regexp.MustCompile(`port "\d+"`)
	portVarRe = regexp.MustCompile(`(?m)^PORT = '\d+'$`)
	portDefRe = regexp.MustCompile(`(server port \(default: )"\d+"\)`)
	timingRe  = regexp.MustCompile(`(?m)^Time: [0-9.,]+ ms.*$`)
	loRe      = regexp.MustCompile(`lo_import (\d+)`)
	watchRe   = regexp.MustCompile(`(?m)^ *\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} \(every [0-9.]+s\)$`)
)

// normalisePsql replaces what differs by nature between the two sides: the port, the clock,
// and the directory of each side's files.
func normalisePsql(out, dir string) string {
	out = strings.ReplaceAll(out, dir, "{dir}")
	for _, m := range loRe.FindAllStringSubmatch(out, -1) {
		out = regexp.MustCompile(`\b`+m[1]+`\b`).ReplaceAllString(out, "(oid)")
	}
	out = portRe.ReplaceAllString(out, `port "PORT"`)
	out = portVarRe.ReplaceAllString(out, `PORT = 'PORT'`)
	out = portDefRe.ReplaceAllString(out, `$1"PORT")`)
	out = timingRe.ReplaceAllString(out, "Time: (elided)")
	return watchRe.ReplaceAllString(out, "(the time) (every 0.01s)")
}

const psqlMarker = "=== psql case "

// psqlScript is the script of the cases in cs, each after a marker line.
func psqlScript(cs []psqlCase, dir string) string {
	var b strings.Builder
	for i, c := range cs {
		script := c.script
		if script == "" {
			script = c.cmd
		}
		fmt.Fprintf(&b, "\\echo '%s%d'\n%s\n", psqlMarker, i, strings.ReplaceAll(script, "{dir}", dir))
	}
	b.WriteString("\\echo '" + psqlMarker + "end'\n\\q\n")
	return b.String()
}

// splitPsql cuts psql's output at the markers: the output of case i is parts[i].
func splitPsql(t *testing.T, out string, n int) []string {
	t.Helper()
	parts := make([]string, n)
	cur := -1
	var b strings.Builder
	ended := false
	for _, line := range strings.SplitAfter(out, "\n") {
		if rest, ok := strings.CutPrefix(line, psqlMarker); ok {
			if cur >= 0 {
				parts[cur] = b.String()
			}
			b.Reset()
			if strings.TrimSpace(rest) == "end" {
				ended = true
				cur = -1
				continue
			}
			fmt.Sscan(rest, &cur)
			continue
		}
		if cur >= 0 {
			b.WriteString(line)
		} else if line != "" && !ended {
			t.Errorf("psql printed before its first case: %q", line)
		}
	}
	if !ended {
		t.Errorf("psql did not reach the end of its script; it printed:\n%s", out)
	}
	return parts
}

// psqlCopyIn is the file \copy reads: every column type of copy_rt, NULLs, quotes, a
// multi-line value, non-ASCII, 1000 generated rows.
func psqlCopyIn() string {
	var b strings.Builder
	b.WriteString("id,s,b,n,d,j,a\n")
	b.WriteString("1,\"hello, world\",\\x00ff10,3.14159,2024-02-29,\"{\"\"k\"\": [1, null]}\",\"{1,2,3}\"\n")
	b.WriteString("2,,,,,,\n")
	b.WriteString("3,\"two\nlines\",\\x,-0.5,1999-12-31,null,{}\n")
	b.WriteString("4,héllo wörld ✓,\\x6869,1e-5,2000-01-01,\"\"\"str\"\"\",\"{NULL,7}\"\n")
	for i := 5; i <= 1004; i++ {
		fmt.Fprintf(&b, "%d,row %d,\\x%04x,%d.%02d,2024-01-%02d,\"{\"\"i\"\": %d}\",\"{%d}\"\n", i, i, i, i, i%100, i%28+1, i, i)
	}
	return b.String()
}

func TestProxyPsql(t *testing.T) {
	r := rig(t)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "copy_in.csv"), []byte(psqlCopyIn()), 0o644); err != nil {
		t.Fatal(err)
	}
	var reads, writes []psqlCase
	for _, c := range psqlMetaCommands {
		switch {
		case c.skip != "":
			t.Logf("%s: not run: %s", c.cmd, c.skip)
		case c.writes:
			writes = append(writes, c)
		default:
			reads = append(reads, c)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sides := map[string][]string{"direct": r.directEnv(r.compat), "proxy": r.proxyEnv(r.compat)}
	outputs := map[string][][]string{}
	for _, cs := range [][]psqlCase{reads, writes} {
		for _, side := range []string{"direct", "proxy"} {
			sideDir := filepath.Join(dir, side)
			os.MkdirAll(sideDir, 0o755)
			out, err := runPsql(ctx, sides[side], psqlScript(cs, sideDir))
			if err != nil {
				t.Fatalf("psql (%s): %v\n%s", side, err, out)
			}
			outputs[side] = append(outputs[side], splitPsql(t, normalisePsql(out, sideDir), len(cs)))
		}
	}
	for k, cs := range [][]psqlCase{reads, writes} {
		for i, c := range cs {
			want, got := outputs["direct"][k][i], outputs["proxy"][k][i]
			if !sameText(t, c.cmd, want, got) {
				continue
			}
			if strings.TrimSpace(want) == "" && c.cmd != `\r` && c.cmd != `\unset` {
				t.Errorf("%s printed nothing on either side", c.cmd)
			}
			// An error is expected only where a case provokes one.
			if strings.Contains(want, "ERROR:") && c.cmd != `\errverbose` && c.cmd != `\watch` && c.cmd != `\copy` {
				t.Errorf("%s: psql reported an error on both sides:\n%s", c.cmd, want)
			}
		}
	}

	// The files \copy wrote through the proxy are the ones it wrote directly, and the text file
	// round-trips to the input's rows.
	for _, f := range []string{"copy_out.txt", "copy_out.csv", "copy_out.bin", "g.csv", "o.txt", "lo.bin"} {
		want, err1 := os.ReadFile(filepath.Join(dir, "direct", f))
		got, err2 := os.ReadFile(filepath.Join(dir, "proxy", f))
		if err1 != nil || err2 != nil {
			t.Errorf("%s: %v %v", f, err1, err2)
			continue
		}
		if len(want) == 0 {
			t.Errorf("%s is empty", f)
		}
		sameText(t, "file "+f, string(want), string(got))
	}
	// One line a row: the value with a newline is escaped in COPY's text format.
	if b, err := os.ReadFile(filepath.Join(dir, "proxy", "copy_out.txt")); err == nil && strings.Count(string(b), "\n") != 1004 {
		t.Errorf("copy_out.txt has %d lines, want 1004", strings.Count(string(b), "\n"))
	}
}
