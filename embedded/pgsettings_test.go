package embedded

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/wasql/wasql/internal/sqlstate"
	"github.com/wasql/wasql/proxy"
)

// TestTimeSettings: PostgreSQL's spellings of a time setting, as SHOW prints them, and its
// errors (each expected value is what PostgreSQL 15.10 answered to SET and SHOW).
func TestTimeSettings(t *testing.T) {
	for in, want := range map[string]string{
		"300ms": "300ms", "2s": "2s", "1min": "1min", "300": "300ms", "0": "0", "60000": "1min",
		"90000": "90s", "1.5s": "1500ms", " 10 s ": "10s", "1h": "1h", "2d": "2d", "1500us": "2ms",
		"100us": "0", "2500us": "2ms", "0.5": "0", "0x10": "16ms", "010": "8ms", "+5s": "5s", "2147483647": "2147483647ms",
		"abc":        `22023 invalid value for parameter "statement_timeout": "abc" hint=""`,
		"10 minutes": `22023 invalid value for parameter "statement_timeout": "10 minutes" hint="Valid units for this parameter are \"us\", \"ms\", \"s\", \"min\", \"h\", and \"d\"."`,
		"5S":         `22023 invalid value for parameter "statement_timeout": "5S" hint="Valid units for this parameter are \"us\", \"ms\", \"s\", \"min\", \"h\", and \"d\"."`,
		"-1":         `22023 -1 ms is outside the valid range for parameter "statement_timeout" (0 .. 2147483647)`,
		"3000000000": `22023 invalid value for parameter "statement_timeout": "3000000000" hint="Value exceeds integer range."`,
		"":           `22023 invalid value for parameter "statement_timeout": "" hint=""`,
	} {
		got, err := checkSetting("statement_timeout", in)
		if err != nil {
			got = sqlstate.Of(err) + " " + err.Error()
			if hint := sqlstate.Hint(err); hint != "" || in == "abc" || in == "" {
				got += fmt.Sprintf(" hint=%q", hint)
			}
		}
		if got != want {
			t.Errorf("%q: %s, want %s", in, got, want)
		}
	}
}

// FuzzParseMillis: any text parses or fails without a panic, and what SHOW prints reads back
// as the same value.
func FuzzParseMillis(f *testing.F) {
	for _, s := range []string{"300ms", "1.5s", " 10 s ", "0x10", "010", "-1", "1e3", ".5h", "3000000000", "1min"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		shown, err := checkSetting("statement_timeout", s)
		if err != nil {
			return
		}
		ms, err := parseMillis(shown)
		if err != nil || showMillis(ms) != shown || ms < 0 {
			t.Fatalf("%q shows as %q, which reads back as %d, %v", s, shown, ms, err)
		}
	})
}

// TestPGStartupSettings: statement_timeout set at startup, as a parameter or in options, is
// what SHOW answers and bounds the statements; a value it refuses fails the startup (FATAL
// 22023), and a SET of a bad value changes nothing.
func TestPGStartupSettings(t *testing.T) {
	e := open(t)
	addr := servePG(t, e, proxy.Config{})
	ctx := context.Background()
	connect := func(params map[string]string) (*pgx.Conn, error) {
		cfg, err := pgx.ParseConfig("postgres://app@" + addr + "/wasql?sslmode=disable")
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range params {
			cfg.RuntimeParams[k] = v
		}
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err == nil {
			t.Cleanup(func() { conn.Close(context.Background()) })
		}
		return conn, err
	}
	for _, params := range []map[string]string{{"statement_timeout": "1min"}, {"options": "-c statement_timeout=1min"}, {"options": "--statement-timeout=60000"}} {
		conn, err := connect(params)
		if err != nil {
			t.Fatalf("%v: %v", params, err)
		}
		var shown string
		if err := conn.QueryRow(ctx, "SHOW statement_timeout").Scan(&shown); err != nil || shown != "1min" {
			t.Errorf("startup %v: %q %v", params, shown, err)
		}
	}
	var pe *pgconn.PgError
	if _, err := connect(map[string]string{"options": "-c statement_timeout=-5"}); !errors.As(err, &pe) || pe.Code != "22023" || pe.Severity != "FATAL" {
		t.Errorf("a bad startup value: %v", err)
	}
	conn, err := connect(map[string]string{"statement_timeout": "200ms", "application_name": "at-start"})
	if err != nil {
		t.Fatal(err)
	}
	if v := conn.PgConn().ParameterStatus("application_name"); v != "at-start" {
		t.Errorf("application_name: %q", v)
	}
	if _, err := conn.Exec(ctx, "SET statement_timeout = 'soon'"); !errors.As(err, &pe) || pe.Code != "22023" {
		t.Errorf("a bad value: %v", err)
	}
	mod := module(t, "../udf/testdata/fib.wasm")
	if _, err := conn.Exec(ctx, fmt.Sprintf(`CREATE FUNCTION spin_start(bigint) RETURNS bigint LANGUAGE wasm AS '\x%x', 'spin' WITH (timeout = '60s', fuel = 1000000000000)`, mod)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if _, err := conn.Exec(ctx, "SELECT spin_start(1)"); !errors.As(err, &pe) || pe.Code != "57014" || pe.Message != "canceling statement due to statement timeout" {
		t.Fatalf("over the startup statement_timeout: %v", err)
	}
	t.Logf("200ms statement_timeout from startup: the statement ended after %v", time.Since(start))
}
