package main

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/wasql/wasql/udf"
)

// TestEvalGuestLog: wasql eval's log prints the guest's lines.
func TestEvalGuestLog(t *testing.T) {
	ctx := context.Background()
	rt, err := udf.NewRuntime(ctx, udf.NewConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(ctx)
	mod, err := os.ReadFile("../../udf/testdata/logger.wasm")
	if err != nil {
		t.Fatal(err)
	}
	fn, err := rt.Load(ctx, udf.Definition{Name: "logger", Module: mod, Export: "logger", Args: []udf.Type{udf.Bytea}, Result: udf.Integer})
	if err != nil {
		t.Fatal(err)
	}
	var w strings.Builder
	lctx, end := withGuestLog(ctx, &w)
	if _, err := fn.Eval(lctx, 1, udf.Column{Type: udf.Bytea, Bytes: [][]byte{[]byte("hi\nlast")}}); err != nil {
		t.Fatal(err)
	}
	end()
	if w.String() != "logger: hi\nlogger: last\n" {
		t.Fatalf("%q", w.String())
	}
}
