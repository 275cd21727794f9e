package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The usage example of sdk/c/wasql.h builds with the clang command line the header gives, and
// its functions run.
func TestCExampleBuilds(t *testing.T) {
	src, err := os.ReadFile("../../sdk/c/wasql.h")
	if err != nil {
		t.Fatal(err)
	}
	header := string(src)
	// The example: the lines from #include "wasql.h" to the paragraph on building.
	start := strings.Index(header, ` *     #include "wasql.h"`)
	end := strings.Index(header, " * Build a reactor")
	if start < 0 || end < start {
		t.Fatal("no usage example in wasql.h")
	}
	var c strings.Builder
	for _, line := range strings.Split(header[start:end], "\n") {
		c.WriteString(strings.TrimPrefix(strings.TrimPrefix(line, " *"), "     ") + "\n")
	}
	// The command: the indented line that starts with clang.
	var cmdline string
	for _, line := range strings.Split(header, "\n") {
		if l := strings.TrimSpace(strings.TrimPrefix(line, " *")); strings.HasPrefix(l, "clang --target") && cmdline == "" {
			cmdline = l
		}
	}
	if cmdline == "" {
		t.Fatal("no clang command line in wasql.h")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "funcs.c"), []byte(c.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	sdk, err := filepath.Abs("../../sdk/c")
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Fields(strings.Replace(cmdline, "-I sdk/c", "-I "+sdk, 1))
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s\nsource:\n%s", cmdline, err, out, c.String())
	}
	wasm := filepath.Join(dir, "funcs.wasm")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--export", "upper", "--args", "text", "--returns", "text", "hello", "NULL"}, "HELLO\nNULL\n"},
		{[]string{"--export", "add", "--args", "bigint,bigint", "--returns", "bigint", "40,2"}, "42\n"},
		{[]string{"--export", "nvl", "--args", "integer,integer", "--returns", "integer", "--called-on-null-input", "NULL,7", "NULL,NULL", "3,7"}, "7\nNULL\n3\n"},
	} {
		var out bytes.Buffer
		if err := run(context.Background(), append([]string{"eval", "--module", wasm}, c.args...), &out); err != nil || out.String() != c.want {
			t.Errorf("eval %v: %v %q, want %q", c.args, err, out.String(), c.want)
		}
	}
}
