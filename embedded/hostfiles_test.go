package embedded

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wasql/wasql/proxy"
)

// serveMySQL serves e on the MySQL wire on a free loopback port and returns its address.
func serveMySQL(t *testing.T, e *Engine) string {
	t.Helper()
	s, err := e.ServeMySQL("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Start()
	t.Cleanup(func() { s.Close() })
	return s.Listener.Addr().String()
}

func mysqlDB(t *testing.T, addr, user, pass string, params string) *sql.DB {
	t.Helper()
	db, err := sql.Open("mysql", fmt.Sprintf("%s:%s@tcp(%s)/wasql?%s", user, pass, addr, params))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// hostFileStatements are statements that would read or write the host's files; %s is a path.
var hostFileStatements = []string{
	"SELECT LOAD_FILE('PATH')",
	"SELECT load_file(0x2f)",
	"SELECT LoAd_FiLe(CONCAT('PATH', ''))",
	"SELECT length(upper(load_file('PATH')))",
	"SELECT 1 FROM dual WHERE load_file('PATH') IS NOT NULL",
	"SELECT (SELECT load_file('PATH'))",
	"SELECT * FROM (SELECT load_file('PATH') AS f) AS t",
	"SELECT 1 WHERE EXISTS (SELECT load_file('PATH'))",
	"INSERT INTO files VALUES (load_file('PATH'))",
	"UPDATE files SET f = load_file('PATH')",
	"CREATE VIEW leak AS SELECT load_file('PATH') AS f",
	"SET @x = load_file('PATH')",
	"PREPARE p FROM 'SELECT load_file(''PATH'')'",
	"SELECT 'x' INTO OUTFILE 'PATH.out'",
	"SELECT 'x' INTO DUMPFILE 'PATH.dump'",
	"SELECT f FROM files INTO OUTFILE 'PATH.out2' FIELDS TERMINATED BY ','",
	"LOAD DATA INFILE 'PATH' INTO TABLE files",
	"CREATE TRIGGER tr BEFORE INSERT ON files FOR EACH ROW SET NEW.f = load_file('PATH')",
	"CREATE EVENT ev ON SCHEDULE EVERY 1 SECOND DO SELECT 'x' INTO OUTFILE 'PATH.event'",
}

// TestHostFilesMySQL: no statement over the MySQL wire reads or writes the host's files, for
// root (which holds every privilege): each is refused at plan time with 1290, and no file appears.
func TestHostFilesMySQL(t *testing.T) {
	e := open(t)
	secret := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(secret, []byte("hunter2"), 0o600); err != nil {
		t.Fatal(err)
	}
	db := mysqlDB(t, serveMySQL(t, e), "root", "", "allowAllFiles=true")
	db.SetMaxOpenConns(1)
	if _, err := db.Exec("CREATE TABLE files (f longtext)"); err != nil {
		t.Fatal(err)
	}
	for _, q := range hostFileStatements {
		q := strings.ReplaceAll(q, "PATH", secret)
		_, err := db.Exec(q)
		var me *mysql.MySQLError
		if !errors.As(err, &me) || me.Number != erOptionPreventsStatement || !strings.Contains(me.Message, "no access to the server's files") {
			t.Errorf("%s: got %v, want error 1290", q, err)
		}
	}
	// The prepared-statement protocol: refused at COM_STMT_PREPARE.
	if _, err := db.Prepare("SELECT load_file(?)"); err == nil || !strings.Contains(err.Error(), "1290") {
		t.Errorf("prepared load_file(?): %v", err)
	}
	var n int
	if err := db.QueryRow("SELECT count(*) FROM files").Scan(&n); err != nil || n != 0 {
		t.Errorf("files has %d rows (%v)", n, err)
	}
	// A procedure's body is planned when it is called: the call is refused.
	for _, q := range []string{
		"CREATE PROCEDURE pr1() SELECT load_file('PATH')",
		"CREATE PROCEDURE pr2() SELECT 'x' INTO OUTFILE 'PATH.proc'",
		"CREATE PROCEDURE pr3() BEGIN SELECT 1; SELECT 'x' INTO DUMPFILE 'PATH.proc2'; END",
		"CREATE PROCEDURE pr4() SELECT f FROM files INTO OUTFILE 'PATH.proc4'",
	} {
		if _, err := db.Exec(strings.ReplaceAll(q, "PATH", secret)); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	_, err := db.Exec("CALL pr1()")
	var me *mysql.MySQLError
	if !errors.As(err, &me) || me.Number != erOptionPreventsStatement {
		t.Errorf("CALL pr1(): %v, want error 1290", err)
	}
	// go-mysql-server's procedure interpreter reads INTO as assignments to variables, whatever
	// it names: no file is written (checked below).
	if _, err := db.Exec("INSERT INTO files VALUES ('row')"); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"CALL pr2()", "CALL pr3()", "CALL pr4()"} {
		db.Exec(q)
	}
	if _, err := db.Exec("INSERT INTO files VALUES ('x')"); err != nil {
		t.Errorf("insert (no trigger may read a file): %v", err)
	}
	for _, suffix := range []string{".out", ".dump", ".out2", ".proc", ".proc2", ".proc4", ".event"} {
		if _, err := os.Stat(secret + suffix); !os.IsNotExist(err) {
			t.Errorf("%s%s was written: %v", secret, suffix, err)
		}
	}
	// A wasm function may take the name: it is the user's own code, with no file access.
	if _, err := db.Exec("SELECT 1"); err != nil {
		t.Fatalf("the connection is unusable after the refusals: %v", err)
	}
}

// TestHostFilesPG: the same over the Postgres wire, after translation: 42501, and Postgres's
// own file functions do not resolve.
func TestHostFilesPG(t *testing.T) {
	e := open(t)
	secret := filepath.Join(t.TempDir(), "secret.txt")
	if err := os.WriteFile(secret, []byte("hunter2"), 0o600); err != nil {
		t.Fatal(err)
	}
	conn, err := pgConnect(t, servePG(t, e, proxy.Config{}), "app", "", pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, q := range []string{
		"SELECT load_file('PATH')",
		"SELECT length(load_file('PATH'))",
		"SELECT * FROM (SELECT load_file('PATH') AS f) AS t",
	} {
		q := strings.ReplaceAll(q, "PATH", secret)
		var v any
		err := conn.QueryRow(ctx, q).Scan(&v)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != insufficientPrivilege {
			t.Errorf("%s: got %v (%v), want 42501", q, err, v)
		}
	}
	for _, q := range []string{
		"SELECT pg_read_file('PATH')",
		"SELECT pg_read_binary_file('PATH')",
		"SELECT pg_ls_dir('/')",
		"SELECT lo_import('PATH')",
		"COPY (SELECT 1) TO 'PATH.out'",
	} {
		q := strings.ReplaceAll(q, "PATH", secret)
		var v any
		err := conn.QueryRow(ctx, q).Scan(&v)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code == "XX000" || strings.Contains(fmt.Sprint(v), "hunter2") {
			t.Errorf("%s: got %v (%v), want a refusal", q, err, v)
		}
	}
	if _, err := os.Stat(secret + ".out"); !os.IsNotExist(err) {
		t.Errorf("COPY wrote a file: %v", err)
	}
}
