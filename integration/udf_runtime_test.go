//go:build integration

package integration

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestLimitHintOverMySQL: a limit error reaches a MySQL client with its SQLSTATE and the hint
// appended to the message; a row error names its row 1-based.
func TestLimitHintOverMySQL(t *testing.T) {
	s := startServer(t, t.TempDir())
	out, err := s.mariadb(t, "CREATE FUNCTION fib(bigint) RETURNS bigint LANGUAGE wasm WITH (fuel = 100000) AS "+moduleHex(t, "udf/testdata/fib.wasm")+", 'fib_iter';\nSELECT fib(10000000);")
	if err == nil || !strings.Contains(out, "(54000)") || !strings.Contains(out, "fuel exhausted") || !strings.Contains(out, "HINT: the function's fuel limit is 100000 units per row") {
		t.Fatalf("fuel limit over MySQL: %v %s", err, out)
	}
	out, err = s.mariadb(t, "CREATE FUNCTION safe_div(bigint, bigint) RETURNS bigint LANGUAGE wasm AS "+moduleHex(t, "udf/testdata/numeric.wasm")+", 'div';\nSELECT safe_div(1, 0);")
	if err == nil || !strings.Contains(out, "(38000)") || !strings.Contains(out, "row 1 (input 1, 0)") {
		t.Fatalf("row error over MySQL: %v %s", err, out)
	}
}

// TestServeWithBrokenFunction: a function whose _initialize traps when it is loaded again (it
// reads the real clock) does not keep wasql serve from starting; its calls fail with 55000 and
// the other functions work.
func TestServeWithBrokenFunction(t *testing.T) {
	dir := t.TempDir()
	mod := module(t, "sqlfuncs/testdata/init_clock.wasm")
	marker := []byte("wasql-deadline:\x00")
	at := bytes.Index(mod, marker)
	if at < 0 {
		t.Fatal("no deadline marker in init_clock.wasm")
	}
	s := startServer(t, dir)
	deadline := time.Now().Add(3 * time.Second)
	binary.LittleEndian.PutUint64(mod[at+len(marker):], uint64(deadline.UnixNano()))
	out, err := s.mariadb(t, fmt.Sprintf("CREATE FUNCTION until_deadline(bigint) RETURNS bigint LANGUAGE wasm WITH (clock = 'real') AS X'%x', 'id';\n", mod)+
		"CREATE FUNCTION plus(bigint, bigint) RETURNS bigint LANGUAGE wasm AS "+moduleHex(t, "udf/testdata/numeric.wasm")+", 'add';")
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	s.stop(t)
	time.Sleep(time.Until(deadline) + 100*time.Millisecond)
	s = startServer(t, dir)
	out, err = s.mariadb(t, "SELECT until_deadline(1);")
	if err == nil || !strings.Contains(out, "(55000)") || !strings.Contains(out, "until_deadline") || !strings.Contains(out, "_initialize") {
		t.Fatalf("calling the broken function: %v %s", err, out)
	}
	out, err = s.mariadb(t, "SELECT plus(40, 2);")
	if err != nil || !strings.Contains(out, "42") {
		t.Fatalf("another function after the restart: %v %s", err, out)
	}
}
