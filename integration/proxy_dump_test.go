//go:build integration

package integration

// pg_dump and pg_restore through the proxy: the schema dump of compat through the proxy is the
// one PostgreSQL gives directly, and a data dump taken through the proxy (custom format: COPY
// TO STDOUT, large objects read with lo_* function calls) and restored through the proxy into a
// new database (pg_restore: COPY FROM STDIN, lo_* writes) makes a database whose full dump,
// taken directly, is the source's.

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// pgDump runs pg_dump with env and args and returns its output.
func pgDump(ctx context.Context, t *testing.T, env []string, args ...string) string {
	t.Helper()
	plain := true
	for _, a := range args {
		plain = plain && !strings.HasPrefix(a, "-F")
	}
	if plain {
		// pg_dump 15.14 and later begin and end a plain dump with \restrict and a random key.
		args = append([]string{"--restrict-key=wasqltest"}, args...)
	}
	args = append([]string{"--no-sync"}, args...)
	cmd := exec.CommandContext(ctx, "pg_dump", args...)
	cmd.Env = env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pg_dump %v: %v\n%s", args, err, stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("pg_dump %v wrote to stderr:\n%s", args, stderr.String())
	}
	return string(out)
}

func TestProxyPgDump(t *testing.T) {
	r := rig(t)
	need(t, "pg_dump", "apt-get install -y postgresql-client")
	need(t, "pg_restore", "apt-get install -y postgresql-client")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	want := pgDump(ctx, t, r.directEnv(r.compat), "--schema-only")
	got := pgDump(ctx, t, r.proxyEnv(r.compat), "--schema-only")
	sameText(t, "pg_dump --schema-only", want, got)
	for _, s := range []string{"CREATE TABLE app.orders", "CREATE FUNCTION app.order_total", "CREATE EVENT TRIGGER", "COMMENT ON COLUMN app.customers.email"} {
		if !strings.Contains(want, s) {
			t.Errorf("pg_dump --schema-only lacks %q", s)
		}
	}

	// A data dump through the proxy, restored through the proxy into a new database.
	file := filepath.Join(t.TempDir(), "compat.dump")
	pgDump(ctx, t, r.proxyEnv(r.compat), "-Fc", "-f", file)
	restored := r.newDatabase(t, "compat_restored")
	restore := exec.CommandContext(ctx, "pg_restore", "--exit-on-error", "-d", restored, file)
	restore.Env = r.proxyEnv(restored)
	if out, err := restore.CombinedOutput(); err != nil {
		t.Fatalf("pg_restore through the proxy: %v\n%s", err, out)
	}
	// The source and the copy, both dumped directly (plain, with data), are the same.
	src := pgDump(ctx, t, r.directEnv(r.compat))
	dst := pgDump(ctx, t, r.directEnv(restored))
	sameText(t, "plain dump of the source vs of the database restored through the proxy", src, dst)
	for _, s := range []string{"COPY app.orders", "SELECT pg_catalog.lo_create('424242')", "lo_open('424242'"} {
		if !strings.Contains(src, s) {
			t.Errorf("the data dump lacks %q", s)
		}
	}
	// A plain data dump through the proxy is the one taken directly.
	sameText(t, "pg_dump (plain, data)", src, pgDump(ctx, t, r.proxyEnv(r.compat)))
}
