package proxy

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
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
			e := toErrorResponse(err)
			got = e.Code + " " + e.Message
			if e.Code != "22023" || e.Hint != "" || in == "abc" || in == "" {
				got += fmt.Sprintf(" hint=%q", e.Hint)
			}
		}
		if got != want {
			t.Errorf("%q: %s, want %s", in, got, want)
		}
	}
}

// TestStatementTimeout: SET statement_timeout bounds every statement, simple and extended, and
// a statement over it fails with 57014 (though the backend's error is a wrapped "context
// deadline exceeded"); 0 turns it off; a startup option sets it too.
func TestStatementTimeout(t *testing.T) {
	b := newFakeBackend()
	_, addr := startServer(t, Config{}, b)
	c := connect(t, addr, nil)
	if got, e := c.query("SET statement_timeout = '200ms'"); e != nil {
		t.Fatalf("SET: %v", got)
	}
	if got, _ := c.query("SHOW statement_timeout"); fmt.Sprint(got) != "[RowDescription DataRow:200ms CommandComplete ReadyForQuery]" {
		t.Fatalf("SHOW: %v", got)
	}
	start := time.Now()
	got, e := c.query("block")
	took := time.Since(start)
	if fmt.Sprint(got) != "[Error:57014 ReadyForQuery]" || e.Message != "canceling statement due to statement timeout" {
		t.Fatalf("simple: %v %+v", got, e)
	}
	if took > 2*time.Second {
		t.Fatalf("a 200ms statement_timeout ended the statement after %v", took)
	}
	t.Logf("simple protocol: 200ms timeout, statement ended after %v", took)
	c.fe.Send(&pgproto3.Parse{Query: "block"})
	c.fe.Send(&pgproto3.Bind{})
	c.fe.Send(&pgproto3.Execute{})
	c.fe.Send(&pgproto3.Sync{})
	c.fe.Flush()
	if got, e := c.receive(); fmt.Sprint(got) != "[ParseComplete BindComplete Error:57014 ReadyForQuery]" || e.Message != "canceling statement due to statement timeout" {
		t.Fatalf("extended: %v %+v", got, e)
	}
	if got, e := c.query("SET statement_timeout = 'soon'"); e == nil || e.Code != "22023" {
		t.Fatalf("a bad value: %v", got)
	}
	if got, _ := c.query("SHOW statement_timeout"); fmt.Sprint(got) != "[RowDescription DataRow:200ms CommandComplete ReadyForQuery]" {
		t.Fatalf("a bad value changed the setting: %v", got)
	}
	// 0 is off: the statement runs until canceled.
	c.query("SET statement_timeout TO 0")
	c.fe.Send(&pgproto3.Query{String: "block"})
	c.fe.Flush()
	<-b.blocked
	<-b.blocked // the two earlier statements
	select {
	case <-b.blocked:
	case <-time.After(10 * time.Second):
		t.Fatal("the statement did not start")
	}
	time.Sleep(300 * time.Millisecond)
	cancelRequest(t, addr, c.key)
	if got, e := c.receive(); fmt.Sprint(got) != "[Error:57014 ReadyForQuery]" || e.Message != "canceling statement due to user request" {
		t.Fatalf("with statement_timeout 0: %v %+v", got, e)
	}
	// At startup, as a parameter and as an option.
	for _, params := range []map[string]string{{"statement_timeout": "1min"}, {"options": "-c statement_timeout=1min"}, {"options": "--statement-timeout=60000"}} {
		got, _ := connect(t, addr, params).query("SHOW statement_timeout")
		if fmt.Sprint(got) != "[RowDescription DataRow:1min CommandComplete ReadyForQuery]" {
			t.Errorf("startup %v: %v", params, got)
		}
	}
	if e := dial(t, addr, map[string]string{"options": "-c statement_timeout=-5"}).startup(); e == nil || e.Code != "22023" || e.Severity != "FATAL" {
		t.Errorf("a bad startup value: %+v", e)
	}
}

// TestCancelRequest: a CancelRequest ends a statement that waits (on a lock, say) at once, with
// 57014, whatever the backend's error says.
func TestCancelRequest(t *testing.T) {
	b := newFakeBackend()
	_, addr := startServer(t, Config{}, b)
	c := connect(t, addr, nil)
	c.fe.Send(&pgproto3.Query{String: "block"})
	c.fe.Flush()
	<-b.blocked
	// a wrong secret cancels nothing
	cancelRequest(t, addr, &pgproto3.BackendKeyData{ProcessID: c.key.ProcessID, SecretKey: []byte{0, 0, 0, 0}})
	cancelRequest(t, addr, c.key)
	start := time.Now()
	got, e := c.receive()
	if fmt.Sprint(got) != "[Error:57014 ReadyForQuery]" || e.Message != "canceling statement due to user request" {
		t.Fatalf("%v %+v", got, e)
	}
	t.Logf("answered %v after the CancelRequest", time.Since(start))
	if got, _ := c.query("select"); fmt.Sprint(got) != "[RowDescription DataRow:1 CommandComplete ReadyForQuery]" {
		t.Fatalf("after the cancel: %v", got)
	}
}

func cancelRequest(t *testing.T, addr string, key *pgproto3.BackendKeyData) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	fe := pgproto3.NewFrontend(nc, nc)
	fe.Send(&pgproto3.CancelRequest{ProcessID: key.ProcessID, SecretKey: key.SecretKey})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	nc.Read(make([]byte, 1)) // the server closes it
}

// TestCancelBackend: Server.CancelBackend (pg_cancel_backend) cancels by pid alone.
func TestCancelBackend(t *testing.T) {
	b := newFakeBackend()
	s, addr := startServer(t, Config{}, b)
	c := connect(t, addr, nil)
	if s.CancelBackend(c.key.ProcessID + 1000) {
		t.Fatal("an unknown pid was found")
	}
	c.fe.Send(&pgproto3.Query{String: "block"})
	c.fe.Flush()
	<-b.blocked
	if !s.CancelBackend(c.key.ProcessID) {
		t.Fatal("the connection's pid was not found")
	}
	if got, e := c.receive(); fmt.Sprint(got) != "[Error:57014 ReadyForQuery]" || e.Message != "canceling statement due to user request" {
		t.Fatalf("%v %+v", got, e)
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
