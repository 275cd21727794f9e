package embedded

import (
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
)

// TestLoadDataLocal: LOAD DATA LOCAL INFILE loads the rows the client sends, on the storage
// WASQL_TEST_TABLES names; a file the client does not send is an error, and LOAD DATA without
// LOCAL (the server's files) stays refused.
func TestLoadDataLocal(t *testing.T) {
	e := open(t)
	db := mysqlDB(t, serveMySQL(t, e), "root", "", "")
	const rows = 5000
	var csv strings.Builder
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(&csv, "%d,%d,\"row %d, quoted\"\n", i, i*7, i)
	}
	mysql.RegisterReaderHandler("rows", func() io.Reader { return strings.NewReader(csv.String()) })
	defer mysql.DeregisterReaderHandler("rows")
	if _, err := db.Exec("CREATE TABLE loaded (id bigint primary key, a bigint, s text)"); err != nil {
		t.Fatal(err)
	}
	res, err := db.Exec("LOAD DATA LOCAL INFILE 'Reader::rows' INTO TABLE loaded FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"'")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != rows {
		t.Errorf("%d rows affected, want %d", n, rows)
	}
	var n int64
	var sum float64
	var s string
	if err := db.QueryRow("SELECT count(*), sum(a), max(CASE WHEN id = 42 THEN s END) FROM loaded").Scan(&n, &sum, &s); err != nil {
		t.Fatal(err)
	}
	if n != rows || sum != 7*rows*(rows+1)/2.0 || s != "row 42, quoted" {
		t.Fatalf("loaded %d rows, sum %.0f, row 42 %q", n, sum, s)
	}
	if _, err := db.Exec("LOAD DATA LOCAL INFILE 'Reader::nothing' INTO TABLE loaded"); err == nil {
		t.Error("a file the client does not have loaded")
	}
	if _, err := db.Exec("LOAD DATA INFILE '/etc/hostname' INTO TABLE loaded"); err == nil || !strings.Contains(err.Error(), "1290") {
		t.Errorf("LOAD DATA INFILE of a server file: %v, want 1290", err)
	}
	// After another statement of the same query it is refused, and the connection goes on.
	multi := mysqlDB(t, serveMySQL(t, e), "root", "", "multiStatements=true")
	multi.SetMaxOpenConns(1)
	if _, err := multi.Exec("DELETE FROM loaded WHERE id = 1; LOAD DATA LOCAL INFILE 'Reader::rows' INTO TABLE loaded FIELDS TERMINATED BY ','"); err == nil || !strings.Contains(err.Error(), "1235") {
		t.Errorf("LOAD DATA LOCAL as a second statement: %v, want 1235", err)
	}
	if err := multi.QueryRow("SELECT count(*) FROM loaded").Scan(&n); err != nil || n != rows-1 {
		t.Errorf("after the refusal: %d rows, %v", n, err)
	}
}
