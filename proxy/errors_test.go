package proxy

import (
	"errors"
	"fmt"
	"log"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgproto3"
)

// TestErrorResponseSanitized: guest text with NULs cannot forge ErrorResponse fields, invalid
// UTF-8 and huge messages are cleaned and bounded, and the framing holds.
func TestErrorResponseSanitized(t *testing.T) {
	b := newFakeBackend()
	forged := "row 3: bad value\x00C28P01\x00Mpassword authentication failed for user \"admin\"\x00"
	b.errs["forge"] = &codeErr{code: "38000", msg: forged}
	b.errs["huge"] = &codeErr{code: "38000", msg: strings.Repeat("x", 100<<10), hint: strings.Repeat("h\x00", 10<<10)}
	b.errs["utf8"] = &codeErr{code: "38000", msg: "bad \xff\xfe text"}
	b.errs["badcode"] = &codeErr{code: "28P01\x00Mx", msg: "odd"}
	b.errs["detail"] = detailErr{}
	_, addr := startServer(t, Config{}, b)
	c := connect(t, addr, nil)
	for _, q := range []string{"forge", "huge", "utf8", "badcode", "detail"} {
		got, e := c.query(q)
		if fmt.Sprint(got) != "[Error:"+e.Code+" ReadyForQuery:I]" {
			t.Fatalf("%s: %v", q, got)
		}
		for name, f := range map[string]string{"message": e.Message, "detail": e.Detail, "hint": e.Hint, "severity": e.Severity} {
			if strings.ContainsRune(f, 0) || !utf8.ValidString(f) || len(f) > 4096 {
				t.Errorf("%s: %s field not clean: %d bytes %q...", q, name, len(f), f[:min(len(f), 40)])
			}
		}
		if len(e.Message) > 1024 {
			t.Errorf("%s: message of %d bytes", q, len(e.Message))
		}
		if e.Code == "28P01" || strings.Contains(e.Message, "\x00") {
			t.Errorf("%s: forged field: %s %q", q, e.Code, e.Message)
		}
	}
	// The connection still frames messages.
	if got, _ := c.query("select"); fmt.Sprint(got) != selectOne {
		t.Fatalf("after the errors: %v", got)
	}
	for q, want := range map[string]string{
		"forge":   "38000 row 3: bad value\uFFFDC28P01\uFFFDMpassword authentication failed for user \"admin\"\uFFFD",
		"utf8":    "38000 bad \uFFFD\uFFFD text",
		"badcode": "XX000 odd",
	} {
		e := toErrorResponse(b.errs[q])
		if got := e.Code + " " + e.Message; got != want {
			t.Errorf("%s: %q, want %q", q, got, want)
		}
	}
	if e := toErrorResponse(b.errs["huge"]); len(e.Hint) > 1024 || !strings.HasPrefix(e.Hint, "h\uFFFD") {
		t.Errorf("hint: %d bytes %q", len(e.Hint), e.Hint[:10])
	}
	if e := toErrorResponse(b.errs["detail"]); len(e.Detail) > 4096 || strings.ContainsRune(e.Detail, 0) {
		t.Errorf("detail: %d bytes", len(e.Detail))
	}
}

type detailErr struct{}

func (detailErr) Error() string      { return "with a detail" }
func (detailErr) SQLState() string   { return "38000" }
func (detailErr) DetailText() string { return strings.Repeat("stdout\x00", 10<<10) }

// TestErrorHint: an error's SQLHint is the ErrorResponse's Hint.
func TestErrorHint(t *testing.T) {
	b := newFakeBackend()
	b.errs["limit"] = &codeErr{code: "54000", msg: "function f used more than 16 MiB of memory", hint: "raise its memory limit with ALTER FUNCTION f SET (memory = '64MiB')"}
	_, addr := startServer(t, Config{}, b)
	_, e := connect(t, addr, nil).query("limit")
	if e == nil || e.Code != "54000" || e.Hint != "raise its memory limit with ALTER FUNCTION f SET (memory = '64MiB')" {
		t.Fatalf("got %+v", e)
	}
}

// TestErrorCodes: an error that carries XX000 stays XX000; one that carries nothing is the
// client's statement (42000), never XX000; a context's end anywhere in the chain is 57014.
func TestErrorCodes(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&codeErr{code: "XX000", msg: "internal error in the engine: index out of range"}, "XX000 internal error in the engine: index out of range"},
		{fmt.Errorf("statement: %w", &codeErr{code: "XX000", msg: "engine panic"}), "XX000 statement: engine panic"},
		{errors.New("something the engine said"), "42000 something the engine said"},
		{fmt.Errorf("waiting for the lock: %w", contextCanceled()), "57014 canceling statement due to user request"},
		{fmt.Errorf("waiting for the lock: %w", deadlineExceeded()), "57014 canceling statement due to statement timeout"},
		{fmt.Errorf("x: %w", &codeErr{code: "XX000", msg: fmt.Sprint(contextCanceled()), hint: ""}), "XX000 x: context canceled"},
		{&wrapCoded{code: "XX000", err: contextCanceled()}, "57014 canceling statement due to user request"},
		{&wrapCoded{code: "57014", err: deadlineExceeded()}, "57014 function spin ran past its timeout"},
	} {
		e := toErrorResponse(tc.err)
		if got := e.Code + " " + e.Message; got != tc.want {
			t.Errorf("%v: %q, want %q", tc.err, got, tc.want)
		}
	}
}

// wrapCoded carries a code and wraps a cause.
type wrapCoded struct {
	code string
	err  error
}

func (e *wrapCoded) Error() string {
	if e.code == "57014" {
		return "function spin ran past its timeout"
	}
	return "wrapped: " + e.err.Error()
}
func (e *wrapCoded) SQLState() string { return e.code }
func (e *wrapCoded) Unwrap() error    { return e.err }

// TestPanicRecovered: a panic in a statement is answered XX000, logged with its stack, and the
// connection and the server go on.
func TestPanicRecovered(t *testing.T) {
	var logs logBuffer
	log.SetOutput(&logs)
	t.Cleanup(func() { log.SetOutput(os.Stderr) })
	b := newFakeBackend()
	_, addr := startServer(t, Config{}, b)
	c := connect(t, addr, nil)
	got, e := c.query("panic")
	if fmt.Sprint(got) != "[Error:XX000 ReadyForQuery:I]" || !strings.Contains(e.Message, "boom") {
		t.Fatalf("simple: %v %+v", got, e)
	}
	// extended: the error skips to Sync
	c.fe.Send(&pgproto3.Parse{Query: "panic"})
	c.fe.Send(&pgproto3.Bind{})
	c.fe.Send(&pgproto3.Execute{})
	c.fe.Send(&pgproto3.Sync{})
	c.fe.Flush()
	if got, _ := c.receive(); fmt.Sprint(got) != "[ParseComplete BindComplete Error:XX000 ReadyForQuery:I]" {
		t.Fatalf("extended: %v", got)
	}
	if got, _ := c.query("select"); fmt.Sprint(got) != selectOne {
		t.Fatalf("same connection after the panic: %v", got)
	}
	// in startup: FATAL, and the connection ends
	if e := dial(t, addr, map[string]string{"user": "panic"}).startup(); e == nil || e.Code != "XX000" || e.Severity != "FATAL" || !strings.Contains(e.Message, "open boom") {
		t.Fatalf("a panic in startup: %+v", e)
	}
	if got, _ := connect(t, addr, nil).query("select"); fmt.Sprint(got) != selectOne {
		t.Fatalf("new connection after the panic: %v", got)
	}
	if l := logs.String(); !strings.Contains(l, "panic: boom") || !strings.Contains(l, "goroutine ") || !strings.Contains(l, "(*fakeExecutor).Execute") {
		t.Fatalf("log has no stack:\n%s", l)
	}
}
