package udf

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wasql/wasql/internal/sqlstate"
)

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	for _, dir := range []string{"testdata", "testdata/guests"} {
		if b, err := os.ReadFile(filepath.Join(dir, name)); err == nil {
			return b
		}
	}
	t.Fatalf("fixture %s not found", name)
	return nil
}

func newRuntime(t testing.TB, cfgs ...Config) *Runtime {
	t.Helper()
	cfg := NewConfig()
	if len(cfgs) > 0 {
		cfg = cfgs[0]
	}
	rt, err := NewRuntime(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rt.Close(context.Background()) })
	return rt
}

func load(t testing.TB, rt *Runtime, def Definition) *Function {
	t.Helper()
	f, err := rt.Load(context.Background(), def)
	if err != nil {
		t.Fatalf("load %s: %v", def.Export, err)
	}
	t.Cleanup(f.Close)
	return f
}

func ints(t Type, vs ...int64) Column     { return Column{Type: t, Ints: vs} }
func floats(t Type, vs ...float64) Column { return Column{Type: t, Floats: vs} }
func texts(t Type, vs ...string) Column {
	c := Column{Type: t}
	for _, v := range vs {
		c.Bytes = append(c.Bytes, []byte(v))
	}
	return c
}

// wantError checks that err is an *Error with the SQLSTATE and a message containing each part.
func wantError(t testing.TB, err error, code string, parts ...string) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v (%T), want *udf.Error %s", err, err, code)
	}
	if got := sqlstate.Of(err); got != code {
		t.Fatalf("SQLSTATE %s, want %s: %v", got, code, err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Fatalf("error %q does not mention %q", err, p)
		}
	}
	return e
}
